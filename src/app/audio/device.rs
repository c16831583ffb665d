//! The sound device (feature `audio`): each click a short sine burst with a fade-out, mixed into
//! rodio's default output. Opening fails cleanly where there is no device.

use super::{Click, ClickOutput};
use rodio::source::{SineWave, Source};
use std::time::Duration;

pub struct Device {
    sink: rodio::MixerDeviceSink,
}

pub fn open() -> Result<Device, String> {
    let mut sink = rodio::DeviceSinkBuilder::open_default_sink().map_err(|e| format!("spike sounds: no audio device ({e}); staying silent"))?;
    sink.log_on_drop(false);
    Ok(Device { sink })
}

impl ClickOutput for Device {
    fn play(&mut self, click: Click) {
        let length = Duration::from_secs_f32(click.duration_ms.max(1.0) / 1000.0);
        let tone = SineWave::new(click.pitch_hz).take_duration(length).fade_out(length).amplify(0.25);
        self.sink.mixer().add(tone);
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::super::{Click, ClickOutput, ClickSource, SpikeSounds, CELL_PITCH_HZ, CLICK_MS};

    /// Through ALSA's null device (a sink that discards samples): the output opens and takes the
    /// clicks the scheduler decides on, without a sound card.
    #[test]
    fn clicks_play_through_a_null_sink() {
        let dir = tempfile::tempdir().expect("tmp");
        let conf = dir.path().join("asound.conf");
        std::fs::write(&conf, "pcm.!default {\n  type null\n}\n").expect("write conf");
        // the only test of this binary that touches ALSA's configuration
        std::env::set_var("ALSA_CONFIG_PATH", &conf);
        let mut device = super::open().expect("ALSA's null device opens");
        let mut sounds = SpikeSounds::default();
        sounds.set_enabled(true, &[], &[]);
        sounds.update(20.0, &[12.0], &[15.0], &mut device);
        device.play(Click { source: ClickSource::Cell, pitch_hz: CELL_PITCH_HZ, duration_ms: CLICK_MS, spike_ms: 0.0 });
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}
