//! Process CPU time, for reporting engine cost (CPU s per simulated s).

/// CPU time (user + system) consumed by this process so far, in seconds.
pub fn process_cpu_seconds() -> f64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec and CLOCK_PROCESS_CPUTIME_ID is always supported
    // on Linux; on failure the zeroed value is returned.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return 0.0;
    }
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

/// Wall and CPU seconds of a piece of work.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Timing {
    pub wall_s: f64,
    pub cpu_s: f64,
}

/// Run `f`, measuring wall and process CPU time.
pub fn timed<T>(f: impl FnOnce() -> T) -> (T, Timing) {
    let wall = std::time::Instant::now();
    let cpu = process_cpu_seconds();
    let out = f();
    (out, Timing { wall_s: wall.elapsed().as_secs_f64(), cpu_s: process_cpu_seconds() - cpu })
}

#[cfg(test)]
mod tests {
    #[test]
    fn cpu_time_advances() {
        let (_, t) = super::timed(|| (0..2_000_000u64).map(|x| x.wrapping_mul(x) ^ 7).fold(0u64, |a, b| a.wrapping_add(b)));
        assert!(t.cpu_s >= 0.0 && t.wall_s >= 0.0);
    }
}
