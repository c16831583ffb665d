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
