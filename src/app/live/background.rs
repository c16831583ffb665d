//! The paper's background protocol streamed live: `stimulus::PaperProtocol` generates blocks of
//! `BLOCK_MS` (the paper's 6-s simulation length, so the smoothing's edge effects are the
//! dataset's too), each from its own derived seed; the worker pulls the spikes of each window it
//! simulates. The next block is generated on a helper thread while the current one plays.

use crate::rng::derive_seed;
use crate::stimulus::{DendriticSegments, PaperProtocol, StimulusError};
use std::sync::Arc;
use std::thread::JoinHandle;

/// Length of one generated block (ms).
pub const BLOCK_MS: u32 = 6000;

/// (bin within the block in ms, raster row), sorted by bin.
type BlockSpikes = Vec<(u32, usize)>;

fn generate(protocol: &PaperProtocol, segs: &DendriticSegments, seed: u64, block: u64, first: bool) -> Result<BlockSpikes, StimulusError> {
    let mut p = protocol.clone();
    // Spike-at-0 quirk (spec §6.4): only the very first bin of a run can trigger it.
    p.drop_t0_spikes = first;
    let input = p.generate(segs, derive_seed(seed, block))?;
    let mut spikes: BlockSpikes = input.raster.iter_spikes().map(|(row, t)| (t, row)).collect();
    spikes.sort_unstable();
    Ok(spikes)
}

pub struct BackgroundStream {
    protocol: PaperProtocol,
    segs: Arc<DendriticSegments>,
    seed: u64,
    origin_ms: f64,
    block: u64,
    spikes: BlockSpikes,
    cursor: usize,
    next: Option<JoinHandle<Result<BlockSpikes, StimulusError>>>,
}

impl BackgroundStream {
    /// Start a stream whose first block begins at `origin_ms` (a whole ms).
    pub fn start(protocol: PaperProtocol, segs: Arc<DendriticSegments>, seed: u64, origin_ms: f64) -> Result<BackgroundStream, StimulusError> {
        let origin_ms = origin_ms.max(0.0).ceil();
        let spikes = generate(&protocol, &segs, seed, 0, origin_ms == 0.0)?;
        let mut s = BackgroundStream { protocol, segs, seed, origin_ms, block: 0, spikes, cursor: 0, next: None };
        s.prefetch();
        Ok(s)
    }

    /// Rows of the raster: exc rows 0..n, inh rows n..2n (n = number of segments, paper order).
    pub fn n_rows(&self) -> usize {
        2 * self.segs.len()
    }

    fn prefetch(&mut self) {
        let (protocol, segs, seed, block) = (self.protocol.clone(), self.segs.clone(), self.seed, self.block + 1);
        self.next = std::thread::Builder::new()
            .name("neurotwin-background".into())
            .spawn(move || generate(&protocol, &segs, seed, block, false))
            .ok();
    }

    fn block_start_ms(&self) -> f64 {
        self.origin_ms + self.block as f64 * f64::from(self.protocol.duration_ms)
    }

    fn advance_block(&mut self) -> Result<(), StimulusError> {
        self.block += 1;
        self.spikes = match self.next.take().map(JoinHandle::join) {
            Some(Ok(result)) => result?,
            // no helper thread (spawn failed) or it panicked: generate here
            _ => generate(&self.protocol, &self.segs, self.seed, self.block, false)?,
        };
        self.cursor = 0;
        self.prefetch();
        Ok(())
    }

    /// Append (absolute time in ms, row) for every spike in [t0_ms, t1_ms) that has not been
    /// returned yet. Windows must move forward; spikes before the stream's origin are skipped.
    pub fn spikes_in(&mut self, t0_ms: f64, t1_ms: f64, out: &mut Vec<(f64, usize)>) -> Result<(), StimulusError> {
        loop {
            let start = self.block_start_ms();
            let end = start + f64::from(self.protocol.duration_ms);
            while let Some(&(bin, row)) = self.spikes.get(self.cursor) {
                let t = start + f64::from(bin);
                if t >= t1_ms {
                    return Ok(());
                }
                self.cursor += 1;
                if t >= t0_ms {
                    out.push((t, row));
                }
            }
            if end >= t1_ms {
                return Ok(());
            }
            self.advance_block()?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::morphology::{replace_axon_hay2011, synthesize_l5pc, Cable, Discretisation};

    #[test]
    fn windows_give_the_same_spikes_as_one_pass_and_rates_are_plausible() {
        let mut morph = synthesize_l5pc(4).expect("synth").morphology;
        replace_axon_hay2011(&mut morph);
        let cable = Cable::new(&morph, &Discretisation::default()).expect("cable");
        let segs = Arc::new(DendriticSegments::new(&morph, &cable).expect("segments"));
        let mut p = crate::app::live::drives::BackgroundSettings::default().protocol(true, 500);
        p.rate_change_interval_options_ms = vec![50];
        p.smoothing_sigma_options_ms = vec![30];
        let mut whole = Vec::new();
        BackgroundStream::start(p.clone(), segs.clone(), 9, 0.0).expect("start").spikes_in(0.0, 1200.0, &mut whole).expect("spikes");
        let mut parts = Vec::new();
        let mut s = BackgroundStream::start(p, segs.clone(), 9, 0.0).expect("start");
        let mut t = 0.0;
        while t < 1200.0 {
            s.spikes_in(t, t + 7.0_f64.min(1200.0 - t), &mut parts).expect("spikes");
            t += 7.0;
        }
        assert_eq!(whole, parts);
        assert!(whole.iter().all(|&(t, row)| t > 0.0 && t < 1200.0 && row < s.n_rows()));
        // mean NMDA-protocol draw: ~400 exc per tree per 100 ms on each of two trees
        let exc_per_100ms = whole.iter().filter(|(_, row)| *row < segs.len()).count() as f64 / 12.0;
        assert!((100.0..1600.0).contains(&exc_per_100ms), "{exc_per_100ms}");
    }
}
