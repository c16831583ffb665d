//! The shipped procedural L5 pyramidal cell (`morphologies/l5pc-synthetic.swc`), compiled in, so
//! the app, the command line and the Python bindings find it wherever they are started.

use super::{parse_swc, replace_axon_hay2011, Morphology, MorphologyError};

/// The built-in cell's SWC text.
pub const SYNTHETIC_SWC: &str = include_str!("../../morphologies/l5pc-synthetic.swc");
/// How the built-in cell is named in messages and metadata.
pub const SYNTHETIC_NAME: &str = "l5pc-synthetic.swc (built in)";

/// The built-in cell as the Hay et al. 2011 model instantiates it (axon replaced by the stub).
pub fn synthetic_hay2011() -> Result<Morphology, MorphologyError> {
    let mut morph = parse_swc(SYNTHETIC_SWC, SYNTHETIC_NAME)?;
    replace_axon_hay2011(&mut morph);
    morph.validate()?;
    Ok(morph)
}
