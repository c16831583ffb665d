//! The app's side of the teaching demos (issue #9): starting, replaying and pausing them.

use crate::app::demos::Demo;
use crate::app::demos::panel::{ActiveDemo, DemoAction};
use crate::app::live::runner::{Command, Snapshot};
use super::NeuroTwinApp;
use crate::app::twin::thread::TwinState;

impl NeuroTwinApp {
    pub fn demo_action(&mut self, action: DemoAction) {
        match action {
            DemoAction::Start(demo) => self.start_demo(demo),
            DemoAction::Replay => self.replay_demo(),
            DemoAction::Close => self.close_demo(),
            DemoAction::ColorBy(c) => self.view.color_by = c,
        }
    }

    /// Reset, set the demo up on the open cell and play.
    pub fn start_demo(&mut self, demo: Demo) {
        let Some(s) = self.session.as_mut() else {
            self.message = Some(Err("open a morphology before starting a demo".into()));
            return;
        };
        if !s.runner.has_model() {
            self.message = Some(Err("demos need the simulation, and none runs".into()));
            return;
        }
        let setup = match demo.setup(&s.morph, &s.cable) {
            Ok(setup) => setup,
            Err(e) => {
                self.message = Some(Err(format!("demo {}: {e:#}", demo.title())));
                return;
            }
        };
        if let Err(e) = setup.scenario.apply(&s.morph, &s.cable, &mut self.controls, &mut s.placements, &mut s.runner) {
            self.message = Some(Err(format!("demo {}: {e:#}", demo.title())));
            return;
        }
        if setup.twin {
            if let Some(t) = s.twin.as_mut() {
                if t.twin.selected.is_none() {
                    let best = t.models.candidates.first().map(|c| c.onnx_path.clone());
                    t.twin.select(best);
                }
            }
        }
        self.traces.window_ms = setup.trace_window_ms;
        self.traces.follow = true;
        self.traces.selected_t_ms = None;
        self.demo = Some(ActiveDemo { demo, stop_ms: setup.stop_ms, stopped: false });
        // the space plot follows the demo: along the basal branch of the EPSP and NMDA demos,
        // up the apical trunk otherwise
        let tip = match demo {
            Demo::EpspAttenuation | Demo::NmdaSpike => crate::app::demos::sites::distal_basal_tip(&s.morph, &s.cable),
            _ => crate::app::panels::space_plot::path::apical_trunk_tip(&s.morph, &s.cable),
        };
        self.space.request_path_to(tip);
        self.message = Some(Ok(format!("demo: {}", demo.title())));
        self.replay_demo();
    }

    pub fn replay_demo(&mut self) {
        self.traces.selected_t_ms = None;
        if let Some(d) = self.demo.as_mut() {
            d.stopped = false;
        }
        let Some(s) = self.session.as_mut() else { return };
        let stop_ms = self.demo.as_ref().and_then(|d| d.stop_ms);
        s.runner.send(Command::Reset);
        s.runner.send(Command::SetSpeed(self.controls.speed()));
        // the runner pauses by itself, exactly at the demo's end, whatever the speed
        s.runner.send(Command::PauseAtMs(stop_ms));
        s.runner.send(Command::Play);
    }

    /// Once per frame: note that the runner has made the automatic pause at the end of a
    /// short demo (it pauses by itself, see [`Command::PauseAtMs`]).
    pub(super) fn demo_frame(&mut self, snap: &Snapshot) {
        let Some(d) = self.demo.as_mut() else { return };
        if let Some(stop) = d.stop_ms {
            if !d.stopped && snap.t_ms >= stop - 1e-6 {
                d.stopped = true;
            }
        }
    }

    /// Close the demo; its automatic pause goes with it.
    fn close_demo(&mut self) {
        self.demo = None;
        if let Some(s) = self.session.as_mut() {
            s.runner.send(Command::PauseAtMs(None));
        }
    }

    /// How the twin is doing, for the demos that use it.
    pub(super) fn demo_twin_line(&self) -> Option<String> {
        let d = self.demo.as_ref()?;
        if !matches!(d.demo, Demo::BackgroundTwin | Demo::AmpaOnly) {
            return None;
        }
        let s = self.session.as_ref()?;
        Some(match (&s.twin, &s.twin_error) {
            (Some(t), _) => match &t.twin.snapshot().state {
                TwinState::Running(name) => format!("Twin: {name} (magenta)."),
                TwinState::Loading(name) => format!("Twin: loading {name}…"),
                TwinState::Failed(e) => format!("Twin failed: {e}"),
                TwinState::Off => t.models.problem.clone().map_or("Twin: off (choose a model in the twin panel).".into(), |p| format!("No twin: {p}")),
            },
            (None, Some(e)) => format!("No twin: {e}"),
            (None, None) => "No twin: no model folder (--models DIR).".into(),
        })
    }
}
