//! Run-time dispatch over the gated channels (for the per-node mechanism layout of
//! `mechanisms.rs` and the rate tables): each function forwards to the channel's [`Kinetics`].

use super::{ca_hva::CaHva, ca_lvast::CaLvast, ih::Ih, im::Im, k_pst::KPst, k_tst::KTst, nap_et2::NapEt2, nata_t::NaTaT, nats2_t::NaTs2T};
use super::{skv3_1::SKv31, GateRates, Ion, Kinetics};
use crate::biophysics::cell::Channel;

/// Rates of `ch` at `v_mv`; SK_E2 (gated by calcium, not v) gets inert rates.
#[inline]
pub fn rates(ch: Channel, v_mv: f64) -> GateRates {
    match ch {
        Channel::CaHva => CaHva::rates(v_mv),
        Channel::CaLvast => CaLvast::rates(v_mv),
        Channel::Ih => Ih::rates(v_mv),
        Channel::Im => Im::rates(v_mv),
        Channel::KPst => KPst::rates(v_mv),
        Channel::KTst => KTst::rates(v_mv),
        Channel::NaTaT => NaTaT::rates(v_mv),
        Channel::NaTs2T => NaTs2T::rates(v_mv),
        Channel::NapEt2 => NapEt2::rates(v_mv),
        Channel::SKv31 => SKv31::rates(v_mv),
        Channel::SkE2 => GateRates { m_inf: 1.0, m_tau_ms: 1.0, h_inf: 1.0, h_tau_ms: 1.0 },
    }
}

/// Open fraction of `ch` from its gates (SK_E2: m is z).
#[inline(always)]
pub fn open(ch: Channel, m: f64, h: f64) -> f64 {
    match ch {
        Channel::CaHva => CaHva::open(m, h),
        Channel::CaLvast => CaLvast::open(m, h),
        Channel::Ih => Ih::open(m, h),
        Channel::Im => Im::open(m, h),
        Channel::KPst => KPst::open(m, h),
        Channel::KTst => KTst::open(m, h),
        Channel::NaTaT => NaTaT::open(m, h),
        Channel::NaTs2T => NaTs2T::open(m, h),
        Channel::NapEt2 => NapEt2::open(m, h),
        Channel::SKv31 => SKv31::open(m, h),
        Channel::SkE2 => m,
    }
}

/// Voltage-dependent gates of `ch`: 0 (SK_E2), 1 (m) or 2 (m, h).
pub fn v_gates(ch: Channel) -> usize {
    fn n<K: Kinetics>() -> usize {
        if K::HAS_H {
            2
        } else {
            1
        }
    }
    match ch {
        Channel::CaHva => n::<CaHva>(),
        Channel::CaLvast => n::<CaLvast>(),
        Channel::Ih => n::<Ih>(),
        Channel::Im => n::<Im>(),
        Channel::KPst => n::<KPst>(),
        Channel::KTst => n::<KTst>(),
        Channel::NaTaT => n::<NaTaT>(),
        Channel::NaTs2T => n::<NaTs2T>(),
        Channel::NapEt2 => n::<NapEt2>(),
        Channel::SKv31 => n::<SKv31>(),
        Channel::SkE2 => 0,
    }
}

/// Which reversal potential `ch` uses.
pub fn ion(ch: Channel) -> Ion {
    match ch {
        Channel::CaHva | Channel::CaLvast => Ion::Ca,
        Channel::Ih => Ion::H,
        Channel::NaTaT | Channel::NaTs2T | Channel::NapEt2 => Ion::Na,
        Channel::Im | Channel::KPst | Channel::KTst | Channel::SKv31 | Channel::SkE2 => Ion::K,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dispatch_agrees_with_kinetics() {
        for ch in Channel::ALL {
            let r = rates(ch, -50.0);
            assert!(r.m_inf.is_finite() && r.h_tau_ms.is_finite(), "{ch:?}");
        }
        assert_eq!(ion(Channel::CaHva), CaHva::ION);
        assert_eq!(ion(Channel::Ih), Ih::ION);
        assert_eq!(ion(Channel::NaTs2T), NaTs2T::ION);
        assert_eq!(ion(Channel::SKv31), SKv31::ION);
        assert_eq!(v_gates(Channel::Im), 1);
        assert_eq!(v_gates(Channel::KTst), 2);
        assert_eq!(open(Channel::KTst, 0.5, 0.5), KTst::open(0.5, 0.5));
    }
}
