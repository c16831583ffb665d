//! SK_E2 (spec §3.4): Ca-activated K, gate z, E = ek; z∞ = 1/(1 + (0.00043/c)^4.8) with
//! c = cai (+1e-7 if cai < 1e-7 mM), τ_z = 1 ms. Updated after CaDynamics_E2 (registration
//! order, spec §7.2), so z∞ sees the cai of the same step.

/// z∞ for internal calcium `cai_mm` (mM).
#[inline(always)]
pub fn z_inf(cai_mm: f64) -> f64 {
    let c = if cai_mm < 1e-7 { cai_mm + 1e-7 } else { cai_mm };
    1.0 / (1.0 + (0.00043 / c).powf(4.8))
}

pub const TAU_Z_MS: f64 = 1.0;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_activation() {
        assert!((z_inf(0.00043) - 0.5).abs() < 1e-15);
        assert!(z_inf(5e-5) < 1e-4);
        assert!((z_inf(0.0) - z_inf(1e-7)).abs() < 1e-30);
    }
}
