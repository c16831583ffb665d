//! Minimal NPY v1.0 writer and reader (the format NumPy's `np.save`/`np.load` use), so shards can
//! be read without neurotwin. Little-endian, C order, the dtypes the dataset needs. Header: magic
//! `\x93NUMPY`, version 1.0, u16 header length, a Python dict literal with descr, fortran_order
//! and shape, padded with spaces and a final newline so the data starts at a multiple of 64 bytes.
//!
//! Why hand-written rather than `ndarray-npy`: its current version (0.10, the one for ndarray
//! 0.17) has no float16 element (`dend_v` is stored as `<f2`), so we would still implement its
//! element traits for [`F16`] ourselves, and it would add a Python-literal parser for a writer of a
//! few dozen lines. Dataset files carry SHA-256 sums in their manifests,
//! so the bytes written here must not change (a resumed run verifies them).

use super::DatasetError;
use std::io::{Read, Write};
use std::path::Path;

const MAGIC: &[u8; 6] = b"\x93NUMPY";

/// IEEE binary16 bits (NumPy `float16`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct F16(pub u16);

/// An element type that can be stored in an NPY file.
pub trait NpyElem: Copy {
    /// NumPy dtype string, e.g. `<f4`.
    const DESCR: &'static str;
    fn put_le(self, out: &mut Vec<u8>);
}

macro_rules! npy_elem {
    ($t:ty, $d:expr) => {
        impl NpyElem for $t {
            const DESCR: &'static str = $d;
            fn put_le(self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
        }
    };
}
npy_elem!(i32, "<i4");
npy_elem!(i64, "<i8");
npy_elem!(u64, "<u8");
npy_elem!(f32, "<f4");
npy_elem!(f64, "<f8");

impl NpyElem for F16 {
    const DESCR: &'static str = "<f2";
    fn put_le(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.0.to_le_bytes());
    }
}

/// f32 → binary16 with round-to-nearest-even (what NumPy's `astype(np.float16)` does);
/// overflow gives ±inf, NaN stays NaN.
pub fn f32_to_f16(x: f32) -> F16 {
    let b = x.to_bits();
    let sign = ((b >> 16) & 0x8000) as u16;
    let exp = ((b >> 23) & 0xff) as i32;
    let man = b & 0x007f_ffff;
    if exp == 0xff {
        let nan = if man != 0 { 0x0200 | (man >> 13) as u16 } else { 0 };
        return F16(sign | 0x7c00 | nan);
    }
    let e = exp - 127 + 15;
    if e >= 0x1f {
        return F16(sign | 0x7c00);
    }
    let round = |q: u32, rem: u32, half: u32| if rem > half || (rem == half && q & 1 == 1) { q + 1 } else { q };
    if e <= 0 {
        if e < -10 {
            return F16(sign);
        }
        // subnormal: value m·2^(exp−150) in units of 2^−24 is m >> (14 − e)
        let m = man | 0x0080_0000;
        let s = (14 - e) as u32;
        let q = round(m >> s, m & ((1 << s) - 1), 1 << (s - 1));
        return F16(sign | q as u16);
    }
    // a carry out of the mantissa correctly bumps the exponent (up to inf)
    let h = round(((e as u32) << 10) | (man >> 13), man & 0x1fff, 0x1000);
    F16(sign | h as u16)
}

/// binary16 → f32 (exact).
pub fn f16_to_f32(h: F16) -> f32 {
    let h = u32::from(h.0);
    let sign = (h & 0x8000) << 16;
    let exp = (h >> 10) & 0x1f;
    let man = h & 0x03ff;
    let v = match exp {
        0 => {
            // subnormal (or zero): man units of 2^−24
            let v = man as f32 * 2f32.powi(-24);
            return if sign != 0 { -v } else { v };
        }
        0x1f => sign | 0x7f80_0000 | (man << 13),
        _ => sign | ((exp + 112) << 23) | (man << 13),
    };
    f32::from_bits(v)
}

fn header(descr: &str, shape: &[usize]) -> Vec<u8> {
    let dims = match shape.len() {
        1 => format!("({},)", shape[0]),
        _ => format!("({})", shape.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", ")),
    };
    let mut dict = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {dims}, }}");
    let unpadded = MAGIC.len() + 2 + 2 + dict.len() + 1;
    dict.push_str(&" ".repeat((64 - unpadded % 64) % 64));
    dict.push('\n');
    let mut out = Vec::with_capacity(MAGIC.len() + 4 + dict.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[1, 0]);
    out.extend_from_slice(&(dict.len() as u16).to_le_bytes());
    out.extend_from_slice(dict.as_bytes());
    out
}

/// Write `data` (C order) with `shape` to `path`.
pub fn write_npy<T: NpyElem>(path: &Path, shape: &[usize], data: &[T]) -> Result<(), DatasetError> {
    let expected: usize = shape.iter().product();
    if expected != data.len() {
        return Err(DatasetError::Format(format!("{}: shape {shape:?} needs {expected} values, got {}", path.display(), data.len())));
    }
    // atomic (temporary file, fsync, rename): the data is on disk before the shard is renamed
    // into place (resume trusts finished shards), and a `--out` file is never left half written
    crate::atomic::write_with(path, |w| {
        w.write_all(&header(T::DESCR, shape))?;
        let mut buf = Vec::with_capacity(1 << 16);
        for chunk in data.chunks(8192) {
            buf.clear();
            chunk.iter().for_each(|v| v.put_le(&mut buf));
            w.write_all(&buf)?;
        }
        Ok(())
    })
    .map_err(|e| DatasetError::io(path, e))
}

/// The values of an NPY file.
#[derive(Debug, Clone, PartialEq)]
pub enum NpyData {
    I32(Vec<i32>),
    I64(Vec<i64>),
    U64(Vec<u64>),
    F16(Vec<F16>),
    F32(Vec<f32>),
    F64(Vec<f64>),
}

/// An NPY array read back: shape plus data in C order.
#[derive(Debug, Clone, PartialEq)]
pub struct NpyArray {
    pub shape: Vec<usize>,
    pub data: NpyData,
}

fn dict_value<'a>(dict: &'a str, key: &str) -> Option<&'a str> {
    let start = dict.find(&format!("'{key}':"))? + key.len() + 3;
    Some(dict[start..].trim_start())
}

/// Read an NPY v1/v2 file with one of the dtypes above, C order. The header is read first and
/// then at most the data it announces (plus one byte, to tell a longer file): an endless file
/// (`/dev/zero`) or one far longer than its header says is refused without reading it all.
pub fn read_npy(path: &Path) -> Result<NpyArray, DatasetError> {
    let name = path.display().to_string();
    let io = |e| DatasetError::io(path, e);
    let (mut file, _) = crate::input::open_regular(path, crate::limits::MAX_ARRAY_FILE_BYTES, None)
        .map_err(|e| DatasetError::Io { path: name.clone(), message: e.to_string() })?;
    let mut bytes = Vec::new();
    (&mut file).take(12).read_to_end(&mut bytes).map_err(io)?;
    let Some(header_end) = header_end(&bytes) else { return parse_npy(&bytes, &name) };
    if header_end > bytes.len() {
        (&mut file).take((header_end - bytes.len()) as u64).read_to_end(&mut bytes).map_err(io)?;
    }
    let header = parse_header(&bytes, &name)?;
    let body_bytes = header.body_bytes;
    let have = bytes.len() - header_end.min(bytes.len());
    // reserve only what a regular file of that size can hold (never a hostile header's claim)
    if file.metadata().is_ok_and(|m| m.is_file() && m.len() >= (header_end + body_bytes) as u64) {
        bytes.reserve(body_bytes.saturating_sub(have) + 1);
    }
    file.take((body_bytes.saturating_sub(have) as u64).saturating_add(1)).read_to_end(&mut bytes).map_err(io)?;
    parse_npy(&bytes, &name)
}

/// Where the data starts (magic, version, header length and header), from the first 12 bytes;
/// `None` when they are not an NPY prefix.
fn header_end(prefix: &[u8]) -> Option<usize> {
    if prefix.len() < 10 || &prefix[..6] != MAGIC {
        return None;
    }
    match prefix[6] {
        1 => Some(10 + usize::from(u16::from_le_bytes([prefix[8], prefix[9]]))),
        2 | 3 if prefix.len() >= 12 => Some(12 + u32::from_le_bytes([prefix[8], prefix[9], prefix[10], prefix[11]]) as usize),
        _ => None,
    }
}

/// An NPY header: dtype code (without the byte order), shape, and where and how long the data is.
struct Header<'a> {
    descr: &'a str,
    shape: Vec<usize>,
    size: usize,
    data_start: usize,
    body_bytes: usize,
}

/// [`read_npy`] on the file's bytes; `name` (the file) prefixes every error.
pub fn parse_npy(bytes: &[u8], name: &str) -> Result<NpyArray, DatasetError> {
    let bad = |m: String| DatasetError::Format(format!("{name}: {m}"));
    let Header { descr, shape, size, data_start, body_bytes } = parse_header(bytes, name)?;
    let body = &bytes[data_start..];
    if body.len() != body_bytes {
        return Err(bad(format!("{} data bytes for shape {shape:?} of {descr} (expected {body_bytes})", body.len())));
    }
    let mut c4 = body.chunks_exact(4).map(|c| [c[0], c[1], c[2], c[3]]);
    let mut c8 = body.chunks_exact(8).map(|c| [c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
    let data = match (descr, size) {
        ("i4", _) => NpyData::I32(c4.by_ref().map(i32::from_le_bytes).collect()),
        ("f4", _) => NpyData::F32(c4.by_ref().map(f32::from_le_bytes).collect()),
        ("i8", _) => NpyData::I64(c8.by_ref().map(i64::from_le_bytes).collect()),
        ("u8", _) => NpyData::U64(c8.by_ref().map(u64::from_le_bytes).collect()),
        ("f8", _) => NpyData::F64(c8.by_ref().map(f64::from_le_bytes).collect()),
        _ => NpyData::F16(body.chunks_exact(2).map(|c| F16(u16::from_le_bytes([c[0], c[1]]))).collect()),
    };
    Ok(NpyArray { shape, data })
}

/// The header of an NPY file (`bytes` holds at least the header).
fn parse_header<'a>(bytes: &'a [u8], name: &str) -> Result<Header<'a>, DatasetError> {
    let bad = |m: String| DatasetError::Format(format!("{name}: {m}"));
    if bytes.len() < 10 || &bytes[..6] != MAGIC {
        return Err(bad("not an NPY file".into()));
    }
    let (hlen, hstart) = match bytes[6] {
        1 => (usize::from(u16::from_le_bytes([bytes[8], bytes[9]])), 10),
        2 | 3 if bytes.len() >= 12 => (u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize, 12),
        v => return Err(bad(format!("unsupported NPY version {v}"))),
    };
    let dict = std::str::from_utf8(bytes.get(hstart..hstart + hlen).ok_or_else(|| bad("truncated header".into()))?)
        .map_err(|_| bad("header is not text".into()))?;
    let full = dict_value(dict, "descr").and_then(|v| v.get(1..4)).ok_or_else(|| bad("no descr".into()))?;
    // only little-endian data is written or read
    let descr = full.strip_prefix('<').ok_or_else(|| bad(format!("unsupported byte order in dtype {full}")))?;
    if dict_value(dict, "fortran_order").is_some_and(|v| v.starts_with("True")) {
        return Err(bad("Fortran order is not supported".into()));
    }
    let shape_txt = dict_value(dict, "shape").ok_or_else(|| bad("no shape".into()))?;
    let close = shape_txt.find(')').ok_or_else(|| bad("bad shape".into()))?;
    let shape = shape_txt
        .strip_prefix('(')
        .and_then(|t| t.get(..close.checked_sub(1)?))
        .ok_or_else(|| bad(format!("bad shape {:?}", &shape_txt[..close + 1])))?
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<usize>().map_err(|_| bad(format!("bad dimension {s:?}"))))
        .collect::<Result<Vec<_>, _>>()?;
    let n = shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d)).ok_or_else(|| bad(format!("shape {shape:?} has more elements than memory can hold")))?;
    let size = match descr {
        "i4" | "f4" => 4,
        "i8" | "u8" | "f8" => 8,
        "f2" => 2,
        other => return Err(bad(format!("unsupported dtype {other}"))),
    };
    let body_bytes = n.checked_mul(size).ok_or_else(|| bad(format!("shape {shape:?} of {descr} needs more bytes than memory can hold")))?;
    Ok(Header { descr, shape, size, data_start: hstart + hlen, body_bytes })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f16_conversion_matches_ieee_bit_patterns() {
        for (x, bits) in [
            (1.0f32, 0x3c00u16),
            (-2.0, 0xc000),
            (65504.0, 0x7bff),
            (65520.0, 0x7c00),
            (-76.5, 0xd4c8),
            (1e-8, 0x0000),
            (6e-8, 0x0001),
            (2.0f32.powi(-14), 0x0400),
            (1.0 + 2.0f32.powi(-11), 0x3c00), // tie → even
            (1.0 + 3.0 * 2.0f32.powi(-11), 0x3c02),
            (f32::NEG_INFINITY, 0xfc00),
        ] {
            assert_eq!(f32_to_f16(x).0, bits, "{x}");
        }
        assert!(f16_to_f32(f32_to_f16(f32::NAN)).is_nan());
        for bits in (0u16..0x7c00).step_by(7) {
            assert_eq!(f32_to_f16(f16_to_f32(F16(bits))).0, bits, "round trip {bits:#x}");
            assert_eq!(f32_to_f16(-f16_to_f32(F16(bits))).0, bits | 0x8000);
        }
    }

    #[test]
    fn npy_round_trip_and_header_alignment() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("a.npy");
        let data: Vec<f32> = (0..12).map(|i| i as f32 * 0.5).collect();
        write_npy(&p, &[3, 4], &data).expect("write");
        let bytes = std::fs::read(&p).expect("read");
        let hlen = usize::from(u16::from_le_bytes([bytes[8], bytes[9]]));
        assert_eq!((10 + hlen) % 64, 0);
        assert_eq!(bytes[10 + hlen - 1], b'\n');
        assert_eq!(read_npy(&p).expect("read"), NpyArray { shape: vec![3, 4], data: NpyData::F32(data) });
        write_npy(&p, &[2], &[7i64, -1]).expect("write");
        assert_eq!(read_npy(&p).expect("read").data, NpyData::I64(vec![7, -1]));
        write_npy(&p, &[0], &Vec::<i32>::new()).expect("write");
        assert_eq!(read_npy(&p).expect("read").shape, vec![0]);
        assert!(write_npy(&p, &[3], &[1.0f64]).is_err());
    }

    /// An NPY v1 file with this header dictionary and body.
    fn npy_bytes(dict: &str, body: &[u8]) -> Vec<u8> {
        let mut b = MAGIC.to_vec();
        b.extend_from_slice(&[1, 0]);
        b.extend_from_slice(&(dict.len() as u16).to_le_bytes());
        b.extend_from_slice(dict.as_bytes());
        b.extend_from_slice(body);
        b
    }

    #[test]
    fn hostile_headers_are_errors_not_panics() {
        // element count overflowing usize (2^32 · 2^32 · 2^32)
        let e = parse_npy(&npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 4294967296), }\n", b""), "x.npy")
            .unwrap_err()
            .to_string();
        assert!(e.contains("x.npy") && e.contains("more elements than memory can hold"), "{e}");
        // count times element size overflowing
        let e = parse_npy(&npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904,), }\n", b""), "x.npy")
            .unwrap_err()
            .to_string();
        assert!(e.contains("needs more bytes than memory can hold"), "{e}");
        // a shape that is only ')'
        let e = parse_npy(&npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': ), }\n", b""), "x.npy").unwrap_err().to_string();
        assert!(e.contains("bad shape"), "{e}");
        // a scalar: shape () holds one value
        let a = parse_npy(&npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (), }\n", &1.5f32.to_le_bytes()), "x.npy").expect("scalar");
        assert_eq!((a.shape, a.data), (vec![], NpyData::F32(vec![1.5])));
        // header length past the end
        assert!(parse_npy(&[0x93, b'N', b'U', b'M', b'P', b'Y', 1, 0, 0xff, 0xff], "x.npy").is_err());
    }

    #[test]
    fn read_npy_reads_no_more_than_the_header_announces() {
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join("a.npy");
        // a valid header announcing 2 f4 values, followed by far more data
        let mut b = npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }\n", &[0u8; 8]);
        std::fs::write(&p, &b).expect("write");
        assert_eq!(read_npy(&p).expect("exact").data, NpyData::F32(vec![0.0, 0.0]));
        b.extend_from_slice(&[7u8; 100_000]);
        std::fs::write(&p, &b).expect("write");
        let e = read_npy(&p).unwrap_err().to_string();
        assert!(e.contains("9 data bytes") && e.contains("(expected 8)"), "read only one byte past the announced data: {e}");
        // a header announcing a huge array over a short file: refused, nothing huge allocated
        std::fs::write(&p, npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000,), }\n", &[0u8; 16])).expect("write");
        assert!(read_npy(&p).unwrap_err().to_string().contains("16 data bytes"));
        // an endless file: not a regular file, refused before reading
        if Path::new("/dev/zero").exists() {
            let t = std::time::Instant::now();
            let e = read_npy(Path::new("/dev/zero")).unwrap_err().to_string();
            assert!(e.contains("/dev/zero: not a regular file (a character device)") && t.elapsed().as_secs_f64() < 1.0, "{e}");
        }
    }
}
