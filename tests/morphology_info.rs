//! `morph info` figures of the Hay cell match `l5pc-morphometrics.md`.

use neurotwin::morphology::info::MorphInfo;
use neurotwin::morphology::load;
use neurotwin::{Cable, Discretisation};
use std::path::Path;

#[test]
fn hay_cell_morphometrics() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/spec/l5pc-geometry.json");
    assert!(path.is_file(), "the shared reference folder is missing: expected {}", path.display());
    let m = load(&path).unwrap();
    let cable = Cable::new(&m, &Discretisation::default()).unwrap();
    let info = MorphInfo::new(&m, &cable);
    let kind = |k: &str| info.by_type.iter().find(|t| t.kind == k).unwrap();
    let (dend, apic) = (kind("dend"), kind("apic"));
    assert_eq!((dend.stems, dend.tips, dend.max_branch_order), (8, 46, 6));
    assert_eq!((apic.stems, apic.tips, apic.max_branch_order), (1, 55, 15));
    // tip path lengths in the spec are from the tree's root point; ours from soma(0.5), where the
    // roots attach, so the maxima agree
    assert!((dend.max_path_um - 282.0).abs() < 1.0, "{}", dend.max_path_um);
    assert!((apic.max_path_um - 1301.0).abs() < 1.0, "{}", apic.max_path_um);
    let main = info.apical_main_path.as_ref().unwrap();
    assert_eq!((main.sections, main.side_branches), (15, 14));
    assert!((main.length_um - 1247.0).abs() < 1.0);
    assert_eq!((dend.compartments, apic.compartments, info.compartments), (262, 377, 642));
}
