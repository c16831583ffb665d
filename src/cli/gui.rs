//! No subcommand: open the GUI with the options of the top-level command line (`neurotwin::app`).

use super::Cli;
use anyhow::Result;
use std::path::PathBuf;

/// Open the window with the command line's options (morphology, scenario, demo, automation).
pub fn run(cli: Cli) -> Result<()> {
    use neurotwin::app::session::MorphologySource;
    if cli.screenshot_after_s.len() != cli.screenshot.len() {
        anyhow::bail!(
            "give one --screenshot-after-s per --screenshot ({} times, {} paths)",
            cli.screenshot_after_s.len(),
            cli.screenshot.len()
        );
    }
    let mut screenshots: Vec<(f64, PathBuf)> = cli.screenshot_after_s.into_iter().zip(cli.screenshot).collect();
    screenshots.sort_by(|a, b| a.0.total_cmp(&b.0));
    let record = match cli.record {
        Some(path) => {
            let seconds = cli.record_seconds.unwrap_or(5.0);
            if !(seconds > 0.0 && seconds <= neurotwin::app::record::MAX_CLIP_S) {
                anyhow::bail!("--record-seconds must be in (0, {}] s, got {seconds}", neurotwin::app::record::MAX_CLIP_S);
            }
            if !(cli.record_scale >= 0.1 && cli.record_scale <= 1.0) {
                anyhow::bail!("--record-scale must be in [0.1, 1], got {}", cli.record_scale);
            }
            if !(cli.record_fps >= 0.5 && cli.record_fps <= 60.0) {
                anyhow::bail!("--record-fps must be in [0.5, 60], got {}", cli.record_fps);
            }
            let mut options = neurotwin::app::record::RecordOptions::new(path);
            options.seconds = Some(seconds);
            options.settings.scale = cli.record_scale;
            options.settings.fps = cli.record_fps;
            Some((cli.record_after_s.max(0.0), options))
        }
        None => None,
    };
    // a scenario that cannot be read (a FIFO, /dev/zero, too big, not a scenario) or that breaks
    // a limit is refused here, before the window opens; the cell's sections are checked when
    // it is applied
    if let Some(path) = &cli.scenario {
        neurotwin::app::scenario::Scenario::load(path)?.check_limits().map_err(|e| e.context(format!("scenario {}", path.display())))?;
    }
    let color_by = cli.color_by.as_deref().map(neurotwin::app::view::state_colors::ColorBy::from_cli_name).transpose().map_err(anyhow::Error::msg)?;
    let demo = cli.demo.as_deref().map(neurotwin::app::demos::Demo::from_cli_name).transpose().map_err(anyhow::Error::msg)?;
    let morphology = match cli.morphology {
        Some(path) => MorphologySource::File(path),
        None => MorphologySource::default_found(),
    };
    let (models_dir, models_missing) = match cli.models {
        Some(dir) => (Some(dir), None),
        None => match neurotwin::locate::models_dir() {
            Ok(dir) => (Some(dir), None),
            Err(e) => (None, Some(e.to_string())),
        },
    };
    // opens alive: the paper's background input playing, unless asked for the old paused start or
    // a scenario / demo says what runs; "Why did it spike?" needs spikes, so --why starts it too
    let set_up_elsewhere = cli.scenario.is_some() || demo.is_some();
    let alive = !set_up_elsewhere && (!cli.paused || cli.why);
    let options = neurotwin::app::AppOptions {
        morphology: Some(morphology),
        model_factory: model_factory(),
        scenario: cli.scenario,
        autoplay: cli.autoplay,
        alive,
        automation: neurotwin::app::shell::automation::Automation {
            screenshots,
            quit_after_screenshots: cli.quit_after_screenshot,
            print_fps: cli.print_fps,
            record,
        },
        models_dir,
        models_missing,
        why_auto: cli.why,
        why_paint: cli.why_paint,
        demo,
        space_plot: cli.space_plot,
        sound: cli.sound,
        color_by,
    };
    let software_gl = std::env::var_os("LIBGL_ALWAYS_SOFTWARE").is_some() || xvfb_display();
    neurotwin::app::run(options, cli.msaa.unwrap_or(if software_gl { 0 } else { 4 }))
}

/// The simulation behind the GUI: the Hay 2011 engine, or in `dev-fake-model` builds a test
/// double (not physics).
fn model_factory() -> Option<neurotwin::app::live::model::ModelFactory> {
    #[cfg(feature = "dev-fake-model")]
    {
        Some(Box::new(|_morph, cable| Ok(Box::new(neurotwin::app::live::fake_model::FakeLeakyCable::new(cable)) as Box<_>)))
    }
    #[cfg(not(feature = "dev-fake-model"))]
    {
        Some(neurotwin::app::live::engine_model::factory())
    }
}

/// Whether the X display is an Xvfb (software rendering only): its X lock file names the
/// server's process, whose command line says Xvfb.
fn xvfb_display() -> bool {
    let Some(display) = std::env::var("DISPLAY").ok() else { return false };
    let number = display.trim_start_matches(':').split('.').next().unwrap_or("").to_string();
    let Ok(lock) = std::fs::read_to_string(format!("/tmp/.X{number}-lock")) else { return false };
    let Ok(pid) = lock.trim().parse::<u32>() else { return false };
    std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| String::from_utf8_lossy(&c).contains("Xvfb"))
}
