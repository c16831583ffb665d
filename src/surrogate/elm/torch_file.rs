//! A reader of PyTorch's `torch.save` files holding a state dict (a name → tensor mapping), without
//! Python. The file is a zip archive: `PREFIX/data.pkl` is a pickle (protocol 2) that names each
//! tensor's storage by a persistent id, and `PREFIX/data/KEY` holds that storage's raw little-endian
//! bytes. Only the small pickle subset that a state dict uses is interpreted: dicts, tuples, lists,
//! strings, numbers, `collections.OrderedDict`, and torch's tensor/parameter rebuild functions.
//! Any other callable is refused (nothing in the file is ever executed).

use std::collections::HashMap;
use std::io::{Cursor, Read};

/// Largest file accepted (the published ELM is 0.3 MB; our own are smaller).
pub const MAX_FILE_BYTES: u64 = 64 << 20;
/// Largest pickle accepted, and the most opcodes interpreted.
const MAX_PICKLE_BYTES: u64 = 4 << 20;
const MAX_OPS: usize = 1_000_000;

/// The element type of a stored tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DType {
    F32,
    F64,
    I64,
    I32,
    Bool,
    U8,
}

impl DType {
    fn from_storage(name: &str) -> Option<DType> {
        Some(match name {
            "FloatStorage" => DType::F32,
            "DoubleStorage" => DType::F64,
            "LongStorage" => DType::I64,
            "IntStorage" => DType::I32,
            "BoolStorage" => DType::Bool,
            "ByteStorage" => DType::U8,
            _ => return None,
        })
    }

    fn size(self) -> usize {
        match self {
            DType::F32 | DType::I32 => 4,
            DType::F64 | DType::I64 => 8,
            DType::Bool | DType::U8 => 1,
        }
    }
}

/// One tensor of the state dict, its values in row-major (C) order.
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    pub dtype: DType,
    pub shape: Vec<usize>,
    /// The values as f64 (exact for every stored type used here: f32, small ints, bools).
    pub values: Vec<f64>,
}

impl Tensor {
    pub fn numel(&self) -> usize {
        self.shape.iter().product()
    }

    pub fn to_f32(&self) -> Vec<f32> {
        self.values.iter().map(|&v| v as f32).collect()
    }
}

/// Why a file could not be read as a state dict.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TorchFileError(pub String);

fn err<T>(msg: impl Into<String>) -> Result<T, TorchFileError> {
    Err(TorchFileError(msg.into()))
}

/// A pickle value (only what a state dict needs).
#[derive(Debug, Clone)]
enum Val {
    None,
    Bool,
    Int(i64),
    Float,
    Str(String),
    Bytes,
    Tuple(Vec<Val>),
    List(Vec<Val>),
    Dict(Vec<(Val, Val)>),
    Global(String, String),
    Storage { dtype: DType, key: String, numel: usize },
    Tensor(usize),
}

impl Val {
    fn kind(&self) -> &'static str {
        match self {
            Val::None => "None",
            Val::Bool => "bool",
            Val::Int(_) => "int",
            Val::Float => "float",
            Val::Str(_) => "str",
            Val::Bytes => "bytes",
            Val::Tuple(_) => "tuple",
            Val::List(_) => "list",
            Val::Dict(_) => "dict",
            Val::Global(..) => "global",
            Val::Storage { .. } => "storage",
            Val::Tensor(_) => "tensor",
        }
    }

    fn as_usize(&self, what: &str) -> Result<usize, TorchFileError> {
        match self {
            Val::Int(i) if *i >= 0 => Ok(*i as usize),
            v => err(format!("{what}: expected a non-negative int, found {}", v.kind())),
        }
    }

    fn as_usizes(&self, what: &str) -> Result<Vec<usize>, TorchFileError> {
        match self {
            Val::Tuple(v) | Val::List(v) => v.iter().map(|x| x.as_usize(what)).collect(),
            v => err(format!("{what}: expected a tuple of ints, found {}", v.kind())),
        }
    }
}

/// A tensor as the pickle describes it, before its storage bytes are read.
struct TensorRef {
    dtype: DType,
    key: String,
    storage_numel: usize,
    offset: usize,
    shape: Vec<usize>,
    stride: Vec<usize>,
}

/// Read a state dict from the bytes of a `torch.save` file. Returns the entries in file order.
pub fn read_state_dict(bytes: &[u8]) -> Result<Vec<(String, Tensor)>, TorchFileError> {
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return err(format!("{} bytes, more than the {} MiB a model file may have", bytes.len(), MAX_FILE_BYTES >> 20));
    }
    if bytes.len() < 4 || &bytes[..2] != b"PK" {
        return err("not a zip archive (PyTorch's format since 1.6); the legacy pickle-only format is not read");
    }
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| TorchFileError(format!("not a readable zip archive: {e}")))?;
    let pkl_names: Vec<String> = zip
        .file_names()
        .filter_map(Result::ok)
        .filter(|n| n.ends_with("/data.pkl") && n.matches('/').count() == 1)
        .map(|n| n.to_string())
        .collect();
    let [pkl_name] = pkl_names.as_slice() else {
        return err(format!("expected one PREFIX/data.pkl in the archive, found {}", pkl_names.len()));
    };
    let prefix = pkl_name.trim_end_matches("data.pkl").to_string();
    if let Ok(bo) = read_entry(&mut zip, &format!("{prefix}byteorder"), 16) {
        if bo.trim_ascii() != b"little" {
            return err(format!("byte order {:?}: only little-endian files are read", String::from_utf8_lossy(&bo)));
        }
    }
    let pickle = read_entry(&mut zip, pkl_name, MAX_PICKLE_BYTES)?;
    let (root, refs) = unpickle(&pickle)?;
    let Val::Dict(items) = root else {
        return err(format!("the pickle holds a {}, not a state dict", root.kind()));
    };
    let mut storages: HashMap<String, Vec<u8>> = HashMap::new();
    let mut out = Vec::with_capacity(items.len());
    for (k, v) in items {
        let Val::Str(name) = k else {
            return err(format!("a state-dict key is a {}, not a string", k.kind()));
        };
        let Val::Tensor(i) = v else {
            return err(format!("entry {name:?} is a {}, not a tensor", v.kind()));
        };
        let r = &refs[i];
        if !storages.contains_key(&r.key) {
            let max = (r.storage_numel as u64).saturating_mul(r.dtype.size() as u64);
            let data = read_entry(&mut zip, &format!("{prefix}data/{}", r.key), max)?;
            if data.len() as u64 != max {
                return err(format!("storage {} of {name:?} holds {} bytes, its {} elements need {max}", r.key, data.len(), r.storage_numel));
            }
            storages.insert(r.key.clone(), data);
        }
        let t = materialise(r, &storages[&r.key]).map_err(|e| TorchFileError(format!("tensor {name:?}: {}", e.0)))?;
        out.push((name, t));
    }
    Ok(out)
}

fn read_entry(zip: &mut zip::ZipArchive<Cursor<&[u8]>>, name: &str, max_bytes: u64) -> Result<Vec<u8>, TorchFileError> {
    let f = zip.by_name(name).map_err(|e| TorchFileError(format!("archive entry {name}: {e}")))?;
    if f.size() > max_bytes {
        return err(format!("archive entry {name} has {} bytes, more than the {max_bytes} expected", f.size()));
    }
    let mut buf = Vec::with_capacity(f.size() as usize);
    f.take(max_bytes + 1).read_to_end(&mut buf).map_err(|e| TorchFileError(format!("archive entry {name}: {e}")))?;
    if buf.len() as u64 > max_bytes {
        return err(format!("archive entry {name} is longer than the {max_bytes} bytes expected"));
    }
    Ok(buf)
}

fn materialise(r: &TensorRef, bytes: &[u8]) -> Result<Tensor, TorchFileError> {
    if r.shape.len() != r.stride.len() {
        return err(format!("shape {:?} and stride {:?} differ in rank", r.shape, r.stride));
    }
    let numel = r.shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d)).ok_or_else(|| TorchFileError("shape overflows".into()))?;
    if numel > 0 {
        let last = r.shape.iter().zip(&r.stride).try_fold(r.offset, |a, (&d, &s)| (d - 1).checked_mul(s).and_then(|x| a.checked_add(x)));
        match last {
            Some(l) if l < r.storage_numel => {}
            _ => return err(format!("shape {:?} stride {:?} offset {} reach past its storage of {} elements", r.shape, r.stride, r.offset, r.storage_numel)),
        }
    }
    let es = r.dtype.size();
    let read = |i: usize| -> f64 {
        let b = &bytes[i * es..(i + 1) * es];
        match r.dtype {
            DType::F32 => f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
            DType::F64 => f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]),
            DType::I64 => i64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]) as f64,
            DType::I32 => f64::from(i32::from_le_bytes([b[0], b[1], b[2], b[3]])),
            DType::Bool | DType::U8 => f64::from(b[0]),
        }
    };
    let mut values = Vec::with_capacity(numel);
    let mut idx = vec![0usize; r.shape.len()];
    for _ in 0..numel {
        let at = r.offset + idx.iter().zip(&r.stride).map(|(i, s)| i * s).sum::<usize>();
        values.push(read(at));
        for d in (0..idx.len()).rev() {
            idx[d] += 1;
            if idx[d] < r.shape[d] {
                break;
            }
            idx[d] = 0;
        }
    }
    Ok(Tensor { dtype: r.dtype, shape: r.shape.clone(), values })
}

/// Interpret the pickle: returns the root value and the tensors it refers to.
fn unpickle(p: &[u8]) -> Result<(Val, Vec<TensorRef>), TorchFileError> {
    let mut stack: Vec<Val> = Vec::new();
    let mut marks: Vec<usize> = Vec::new();
    let mut memo: HashMap<u32, Val> = HashMap::new();
    let mut tensors: Vec<TensorRef> = Vec::new();
    let mut pos = 0usize;
    let take = |pos: &mut usize, n: usize| -> Result<&[u8], TorchFileError> {
        let end = pos.checked_add(n).filter(|&e| e <= p.len()).ok_or_else(|| TorchFileError(format!("pickle truncated at byte {pos}")))?;
        let s = &p[*pos..end];
        *pos = end;
        Ok(s)
    };
    fn pop(stack: &mut Vec<Val>, at: usize) -> Result<Val, TorchFileError> {
        stack.pop().ok_or_else(|| TorchFileError(format!("pickle stack underflow at byte {at}")))
    }
    fn pop_mark(stack: &mut Vec<Val>, marks: &mut Vec<usize>, at: usize) -> Result<Vec<Val>, TorchFileError> {
        let m = marks.pop().ok_or_else(|| TorchFileError(format!("pickle: no mark at byte {at}")))?;
        if m > stack.len() {
            return err(format!("pickle: bad mark at byte {at}"));
        }
        Ok(stack.split_off(m))
    }
    for _ in 0..MAX_OPS {
        let at = pos;
        let op = take(&mut pos, 1)?[0];
        match op {
            0x80 => {
                take(&mut pos, 1)?;
            }
            0x95 => {
                take(&mut pos, 8)?;
            }
            b'.' => {
                let root = pop(&mut stack, at)?;
                return Ok((root, tensors));
            }
            b'(' => marks.push(stack.len()),
            b')' => stack.push(Val::Tuple(Vec::new())),
            b']' => stack.push(Val::List(Vec::new())),
            b'}' => stack.push(Val::Dict(Vec::new())),
            b'N' => stack.push(Val::None),
            0x88 => stack.push(Val::Bool),
            0x89 => stack.push(Val::Bool),
            b'K' => stack.push(Val::Int(i64::from(take(&mut pos, 1)?[0]))),
            b'M' => {
                let b = take(&mut pos, 2)?;
                stack.push(Val::Int(i64::from(u16::from_le_bytes([b[0], b[1]]))));
            }
            b'J' => {
                let b = take(&mut pos, 4)?;
                stack.push(Val::Int(i64::from(i32::from_le_bytes([b[0], b[1], b[2], b[3]]))));
            }
            0x8a => {
                let n = take(&mut pos, 1)?[0] as usize;
                let b = take(&mut pos, n)?;
                if n > 8 {
                    return err(format!("pickle: a {n}-byte integer at byte {at}"));
                }
                let mut v: i64 = 0;
                for (i, &x) in b.iter().enumerate() {
                    v |= i64::from(x) << (8 * i);
                }
                if n > 0 && n < 8 && b[n - 1] & 0x80 != 0 {
                    v -= 1i64 << (8 * n);
                }
                stack.push(Val::Int(v));
            }
            b'G' => {
                take(&mut pos, 8)?;
                stack.push(Val::Float);
            }
            b'X' | 0x8c | 0x8d => {
                let n = match op {
                    0x8c => take(&mut pos, 1)?[0] as usize,
                    0x8d => {
                        let b = take(&mut pos, 8)?;
                        usize::try_from(u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])).unwrap_or(usize::MAX)
                    }
                    _ => {
                        let b = take(&mut pos, 4)?;
                        u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize
                    }
                };
                let s = std::str::from_utf8(take(&mut pos, n)?).map_err(|_| TorchFileError(format!("pickle: invalid UTF-8 at byte {at}")))?;
                stack.push(Val::Str(s.to_string()));
            }
            b'B' | b'C' => {
                let n = if op == b'C' {
                    take(&mut pos, 1)?[0] as usize
                } else {
                    let b = take(&mut pos, 4)?;
                    u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize
                };
                take(&mut pos, n)?;
                stack.push(Val::Bytes);
            }
            b'q' | b'r' | 0x94 => {
                let key = match op {
                    b'q' => u32::from(take(&mut pos, 1)?[0]),
                    b'r' => {
                        let b = take(&mut pos, 4)?;
                        u32::from_le_bytes([b[0], b[1], b[2], b[3]])
                    }
                    _ => memo.len() as u32,
                };
                let top = stack.last().cloned().ok_or_else(|| TorchFileError(format!("pickle: memo of an empty stack at byte {at}")))?;
                memo.insert(key, top);
            }
            b'h' | b'j' => {
                let key = if op == b'h' {
                    u32::from(take(&mut pos, 1)?[0])
                } else {
                    let b = take(&mut pos, 4)?;
                    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
                };
                let v = memo.get(&key).cloned().ok_or_else(|| TorchFileError(format!("pickle: memo {key} unset at byte {at}")))?;
                stack.push(v);
            }
            b't' => {
                let items = pop_mark(&mut stack, &mut marks, at)?;
                stack.push(Val::Tuple(items));
            }
            0x85..=0x87 => {
                let n = (op - 0x84) as usize;
                if stack.len() < n {
                    return err(format!("pickle stack underflow at byte {at}"));
                }
                let items = stack.split_off(stack.len() - n);
                stack.push(Val::Tuple(items));
            }
            b'l' => {
                let items = pop_mark(&mut stack, &mut marks, at)?;
                stack.push(Val::List(items));
            }
            b'a' => {
                let v = pop(&mut stack, at)?;
                match stack.last_mut() {
                    Some(Val::List(l)) => l.push(v),
                    _ => return err(format!("pickle: APPEND to a non-list at byte {at}")),
                }
            }
            b'e' => {
                let items = pop_mark(&mut stack, &mut marks, at)?;
                match stack.last_mut() {
                    Some(Val::List(l)) => l.extend(items),
                    _ => return err(format!("pickle: APPENDS to a non-list at byte {at}")),
                }
            }
            b's' => {
                let v = pop(&mut stack, at)?;
                let k = pop(&mut stack, at)?;
                match stack.last_mut() {
                    Some(Val::Dict(d)) => d.push((k, v)),
                    _ => return err(format!("pickle: SETITEM on a non-dict at byte {at}")),
                }
            }
            b'u' => {
                let items = pop_mark(&mut stack, &mut marks, at)?;
                if items.len() % 2 != 0 {
                    return err(format!("pickle: SETITEMS with an odd count at byte {at}"));
                }
                let Some(Val::Dict(d)) = stack.last_mut() else {
                    return err(format!("pickle: SETITEMS on a non-dict at byte {at}"));
                };
                let mut it = items.into_iter();
                while let (Some(k), Some(v)) = (it.next(), it.next()) {
                    d.push((k, v));
                }
            }
            b'0' => {
                pop(&mut stack, at)?;
            }
            b'1' => {
                pop_mark(&mut stack, &mut marks, at)?;
            }
            b'2' => {
                let top = stack.last().cloned().ok_or_else(|| TorchFileError(format!("pickle: DUP of an empty stack at byte {at}")))?;
                stack.push(top);
            }
            b'c' => {
                let rest = &p[pos..];
                let mut lines = rest.splitn(3, |&b| b == b'\n');
                let (Some(m), Some(n), Some(_)) = (lines.next(), lines.next(), lines.next()) else {
                    return err(format!("pickle: truncated GLOBAL at byte {at}"));
                };
                pos += m.len() + n.len() + 2;
                stack.push(Val::Global(String::from_utf8_lossy(m).into_owned(), String::from_utf8_lossy(n).into_owned()));
            }
            0x93 => {
                let n = pop(&mut stack, at)?;
                let m = pop(&mut stack, at)?;
                match (m, n) {
                    (Val::Str(m), Val::Str(n)) => stack.push(Val::Global(m, n)),
                    _ => return err(format!("pickle: STACK_GLOBAL of non-strings at byte {at}")),
                }
            }
            b'Q' => {
                let pid = pop(&mut stack, at)?;
                stack.push(storage_of(pid).map_err(|e| TorchFileError(format!("{} (byte {at})", e.0)))?);
            }
            b'R' | 0x81 => {
                let args = pop(&mut stack, at)?;
                let f = pop(&mut stack, at)?;
                let v = reduce(f, args, &mut tensors).map_err(|e| TorchFileError(format!("{} (byte {at})", e.0)))?;
                stack.push(v);
            }
            b'b' => {
                // BUILD: the state of an object (an OrderedDict's `_metadata`); not needed
                pop(&mut stack, at)?;
                if stack.is_empty() {
                    return err(format!("pickle: BUILD without an object at byte {at}"));
                }
            }
            other => return err(format!("pickle opcode 0x{other:02x} at byte {at} is not part of a state dict")),
        }
    }
    err(format!("pickle: more than {MAX_OPS} operations"))
}

/// A persistent id `('storage', torch.XStorage, key, location, numel)`.
fn storage_of(pid: Val) -> Result<Val, TorchFileError> {
    let Val::Tuple(items) = pid else {
        return err("persistent id is not a tuple");
    };
    match items.as_slice() {
        [Val::Str(tag), Val::Global(m, cls), Val::Str(key), _location, numel] if tag == "storage" => {
            let dtype = DType::from_storage(cls).filter(|_| m == "torch").ok_or_else(|| TorchFileError(format!("storage type {m}.{cls} is not read (float32/64, int32/64, bool, uint8 are)")))?;
            if key.is_empty() || key.contains('/') || key.contains("..") {
                return err(format!("storage key {key:?} is not a plain name"));
            }
            Ok(Val::Storage { dtype, key: key.clone(), numel: numel.as_usize("storage size")? })
        }
        _ => err("persistent id is not a ('storage', type, key, location, size) tuple"),
    }
}

fn reduce(f: Val, args: Val, tensors: &mut Vec<TensorRef>) -> Result<Val, TorchFileError> {
    let Val::Global(m, n) = &f else {
        return err(format!("call of a {}", f.kind()));
    };
    let Val::Tuple(a) = args else {
        return err(format!("{m}.{n} called with a {}, not a tuple", args.kind()));
    };
    match (m.as_str(), n.as_str()) {
        ("collections", "OrderedDict") if a.is_empty() => Ok(Val::Dict(Vec::new())),
        ("torch._utils", "_rebuild_tensor_v2") if a.len() >= 4 => {
            let Val::Storage { dtype, key, numel } = &a[0] else {
                return err(format!("_rebuild_tensor_v2 of a {}", a[0].kind()));
            };
            tensors.push(TensorRef {
                dtype: *dtype,
                key: key.clone(),
                storage_numel: *numel,
                offset: a[1].as_usize("storage offset")?,
                shape: a[2].as_usizes("size")?,
                stride: a[3].as_usizes("stride")?,
            });
            Ok(Val::Tensor(tensors.len() - 1))
        }
        ("torch._utils", "_rebuild_parameter" | "_rebuild_parameter_with_state") if !a.is_empty() => match &a[0] {
            t @ Val::Tensor(_) => Ok(t.clone()),
            v => err(format!("{n} of a {}", v.kind())),
        },
        _ => err(format!("the pickle calls {m}.{n}, which a plain state dict does not; refused")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hand-made pickle: OrderedDict{"w": tensor(float32, shape [2, 3], stride [1, 2])} (a
    /// transposed view, to exercise strides).
    fn tiny_archive(storage: &[f32], stride: [u8; 2]) -> Vec<u8> {
        let mut p: Vec<u8> = vec![0x80, 2];
        p.extend(b"ccollections\nOrderedDict\n)R(");
        p.extend(b"X\x01\x00\x00\x00w");
        p.extend(b"ctorch._utils\n_rebuild_tensor_v2\n(");
        p.extend(b"(X\x07\x00\x00\x00storagectorch\nFloatStorage\nX\x01\x00\x00\x000X\x03\x00\x00\x00cpuK\x06tQ");
        p.extend(b"K\x00K\x02K\x03\x86");
        p.extend([b'K', stride[0], b'K', stride[1], 0x86]);
        p.extend(b"\x89ccollections\nOrderedDict\n)Rt");
        p.extend(b"Ru.");
        let mut out = Cursor::new(Vec::new());
        {
            let mut w = zip::ZipWriter::new(&mut out);
            let o = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
            w.start_file("m/data.pkl", o).expect("start");
            std::io::Write::write_all(&mut w, &p).expect("write");
            w.start_file("m/data/0", o).expect("start");
            let bytes: Vec<u8> = storage.iter().flat_map(|v| v.to_le_bytes()).collect();
            std::io::Write::write_all(&mut w, &bytes).expect("write");
            w.finish().expect("finish");
        }
        out.into_inner()
    }

    #[test]
    fn reads_a_strided_tensor() {
        let sd = read_state_dict(&tiny_archive(&[0., 1., 2., 3., 4., 5.], [1, 2])).expect("reads");
        assert_eq!(sd.len(), 1);
        assert_eq!(sd[0].0, "w");
        assert_eq!(sd[0].1.shape, vec![2, 3]);
        // element [i][j] at storage index i + 2j
        assert_eq!(sd[0].1.values, vec![0., 2., 4., 1., 3., 5.]);
    }

    #[test]
    fn refuses_a_tensor_past_its_storage() {
        let e = read_state_dict(&tiny_archive(&[0., 1., 2., 3., 4., 5.], [3, 2])).expect_err("stride too large");
        assert!(e.0.contains("reach past its storage"), "{e}");
    }

    #[test]
    fn refuses_a_short_storage_and_non_zip() {
        let e = read_state_dict(&tiny_archive(&[0., 1., 2.], [1, 2])).expect_err("short storage");
        assert!(e.0.contains("holds 12 bytes"), "{e}");
        let e = read_state_dict(b"\x80\x02}q\x00.").expect_err("not a zip");
        assert!(e.0.contains("not a zip"), "{e}");
    }

    #[test]
    fn refuses_other_callables() {
        let mut v = Vec::new();
        let e = reduce(Val::Global("os".into(), "system".into()), Val::Tuple(vec![Val::Str("x".into())]), &mut v).expect_err("refused");
        assert!(e.0.contains("os.system"), "{e}");
    }

    #[test]
    fn truncated_pickles_are_errors_not_panics() {
        let full = tiny_archive(&[0., 1., 2., 3., 4., 5.], [1, 2]);
        let mut zip = zip::ZipArchive::new(Cursor::new(full.as_slice())).expect("zip");
        let p = read_entry(&mut zip, "m/data.pkl", 1 << 20).expect("pickle");
        for n in 0..p.len() {
            assert!(unpickle(&p[..n]).is_err(), "prefix of {n} bytes");
        }
    }
}
