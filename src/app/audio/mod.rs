//! Spikes you can hear (optional, off by default): a short click for every somatic spike of the
//! cell and a higher one for every spike the twin predicts, so a room hears the two agree (a
//! click and its higher echo a few ms apart) or disagree (one without the other).
//!
//! Which clicks, at which pitch and when is decided here, in code compiled into every build and
//! tested with a test double ([`ClickOutput`]); making sound is behind the `audio` cargo feature
//! (`device`, rodio on the default output). A build without the feature, or a machine without an
//! audio device, says so once in the status line and stays silent.

#[cfg(feature = "audio")]
mod device;

/// Whose spike a click announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClickSource {
    Cell,
    Twin,
}

/// The cell's click: A5, a short tick.
pub const CELL_PITCH_HZ: f32 = 880.0;
/// The twin's click: a fifth above the cell's (E6), so a hit sounds as an interval.
pub const TWIN_PITCH_HZ: f32 = 1320.0;
/// Length of one click (ms of wall-clock time).
pub const CLICK_MS: f32 = 25.0;
/// At most this many clicks per source in one update: at high simulation speed a burst of many
/// spikes becomes a few clicks rather than a long queue of sound behind the picture.
pub const MAX_CLICKS_PER_UPDATE: usize = 4;

/// One click to play now.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Click {
    pub source: ClickSource,
    pub pitch_hz: f32,
    pub duration_ms: f32,
    /// The spike it announces (simulated ms).
    pub spike_ms: f64,
}

/// Where clicks go: the sound device, or a test double.
pub trait ClickOutput {
    fn play(&mut self, click: Click);
}

/// Decides which spikes become clicks: every spike newer than the last one heard, per source,
/// once; none of those already in the window when sound is switched on; after a reset (time runs
/// back) it starts over.
#[derive(Debug, Clone, Default)]
pub struct SpikeSounds {
    enabled: bool,
    heard_cell_ms: f64,
    heard_twin_ms: f64,
    last_t_ms: f64,
    /// Clicks left out by [`MAX_CLICKS_PER_UPDATE`] so far.
    pub skipped: usize,
}

impl SpikeSounds {
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// Switch on or off; spikes already shown when switching on stay silent.
    pub fn set_enabled(&mut self, on: bool, cell_spikes_ms: &[f64], twin_spikes_ms: &[f64]) {
        if on && !self.enabled {
            self.heard_cell_ms = cell_spikes_ms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            self.heard_twin_ms = twin_spikes_ms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        }
        self.enabled = on;
    }

    /// Call once per frame with the simulated time and the spikes on show (any order).
    pub fn update(&mut self, t_ms: f64, cell_spikes_ms: &[f64], twin_spikes_ms: &[f64], out: &mut dyn ClickOutput) {
        if t_ms < self.last_t_ms {
            self.heard_cell_ms = f64::NEG_INFINITY;
            self.heard_twin_ms = f64::NEG_INFINITY;
        }
        self.last_t_ms = t_ms;
        if !self.enabled {
            return;
        }
        for (source, spikes) in [(ClickSource::Cell, cell_spikes_ms), (ClickSource::Twin, twin_spikes_ms)] {
            let heard = match source {
                ClickSource::Cell => &mut self.heard_cell_ms,
                ClickSource::Twin => &mut self.heard_twin_ms,
            };
            let mut new: Vec<f64> = spikes.iter().copied().filter(|&s| s > *heard && s.is_finite()).collect();
            new.sort_by(f64::total_cmp);
            let pitch_hz = match source {
                ClickSource::Cell => CELL_PITCH_HZ,
                ClickSource::Twin => TWIN_PITCH_HZ,
            };
            self.skipped += new.len().saturating_sub(MAX_CLICKS_PER_UPDATE);
            for &spike_ms in new.iter().take(MAX_CLICKS_PER_UPDATE) {
                out.play(Click { source, pitch_hz, duration_ms: CLICK_MS, spike_ms });
            }
            if let Some(&last) = new.last() {
                *heard = last;
            }
        }
    }
}

/// An output that plays nothing (no device, or a build without sound).
#[derive(Debug, Default)]
pub struct Silent;

impl ClickOutput for Silent {
    fn play(&mut self, _click: Click) {}
}

/// The default sound output, or why there is none (said once to the user).
pub fn open_default_output() -> Result<Box<dyn ClickOutput>, String> {
    #[cfg(feature = "audio")]
    {
        device::open().map(|d| Box::new(d) as Box<dyn ClickOutput>)
    }
    #[cfg(not(feature = "audio"))]
    {
        Err("spike sounds: this build has no sound (rebuild with `--features audio`); staying silent".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The test double: every click it was asked to play.
    #[derive(Default)]
    struct Recorded(Vec<Click>);

    impl ClickOutput for Recorded {
        fn play(&mut self, click: Click) {
            self.0.push(click);
        }
    }

    #[test]
    fn each_new_spike_clicks_once_at_its_sources_pitch() {
        let mut s = SpikeSounds::default();
        let mut out = Recorded::default();
        s.update(10.0, &[5.0], &[], &mut out);
        assert!(out.0.is_empty(), "off by default");
        s.set_enabled(true, &[5.0], &[]);
        s.update(20.0, &[5.0], &[], &mut out);
        assert!(out.0.is_empty(), "spikes on show when sound was switched on stay silent");
        s.update(30.0, &[5.0, 24.0], &[], &mut out);
        s.update(40.0, &[5.0, 24.0], &[29.0], &mut out);
        s.update(50.0, &[5.0, 24.0], &[29.0], &mut out);
        let heard: Vec<(ClickSource, f32, f64)> = out.0.iter().map(|c| (c.source, c.pitch_hz, c.spike_ms)).collect();
        assert_eq!(heard, vec![(ClickSource::Cell, CELL_PITCH_HZ, 24.0), (ClickSource::Twin, TWIN_PITCH_HZ, 29.0)]);
        assert!(TWIN_PITCH_HZ > CELL_PITCH_HZ);
        // a spike that left the trace window does not click again; a reset starts over
        s.update(60.0, &[24.0], &[], &mut out);
        assert_eq!(out.0.len(), 2);
        s.update(1.0, &[], &[], &mut out);
        s.update(8.0, &[6.0], &[7.0], &mut out);
        assert_eq!(out.0.len(), 4, "after a reset the first spikes click again");
        s.set_enabled(false, &[], &[]);
        s.update(9.0, &[6.0, 8.5], &[], &mut out);
        assert_eq!(out.0.len(), 4, "switched off");
    }

    #[test]
    fn a_burst_at_high_speed_is_capped() {
        let mut s = SpikeSounds::default();
        let mut out = Recorded::default();
        s.set_enabled(true, &[], &[]);
        let burst: Vec<f64> = (1..=10).map(|k| 100.0 + f64::from(k)).collect();
        s.update(200.0, &burst, &[], &mut out);
        assert_eq!(out.0.len(), MAX_CLICKS_PER_UPDATE);
        assert_eq!(s.skipped, 10 - MAX_CLICKS_PER_UPDATE);
        assert_eq!(out.0[0].spike_ms, 101.0, "in time order");
        s.update(210.0, &burst, &[], &mut out);
        assert_eq!(out.0.len(), MAX_CLICKS_PER_UPDATE, "the skipped ones are not played later");
    }

    #[test]
    fn without_a_device_the_output_says_why() {
        match open_default_output() {
            Ok(mut o) => o.play(Click { source: ClickSource::Cell, pitch_hz: CELL_PITCH_HZ, duration_ms: CLICK_MS, spike_ms: 0.0 }),
            Err(why) => assert!(why.contains("silent") || why.contains("no audio"), "{why}"),
        }
    }
}
