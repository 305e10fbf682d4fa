//! CTranslate2's `model.bin` (format versions 4–6): a version, the model spec's name and
//! revision, then named variables (rank, dims, data type, byte count, data) and aliases (one
//! variable under another name, e.g. a decoder's output projection tied to its embeddings).
//! Every length is checked against the file before it is used: a truncated or corrupt file is
//! an error naming where it broke, never a huge allocation.

use crate::core::error::{Error, Result};
use crate::tensor::Tensor;
use std::collections::BTreeMap;

fn bad(detail: impl Into<String>) -> Error {
    Error::Weights { format: "CTranslate2", detail: detail.into() }
}

const MAX_RANK: usize = 8;

/// CTranslate2's `DataType` numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ct2Type {
    F32,
    I8,
    I16,
    I32,
    F16,
    Bf16,
}

impl Ct2Type {
    fn from_code(code: u8) -> Option<Ct2Type> {
        Some(match code {
            0 => Ct2Type::F32,
            1 => Ct2Type::I8,
            2 => Ct2Type::I16,
            3 => Ct2Type::I32,
            4 => Ct2Type::F16,
            5 => Ct2Type::Bf16,
            _ => return None,
        })
    }

    fn size(self) -> usize {
        match self {
            Ct2Type::I8 => 1,
            Ct2Type::I16 | Ct2Type::F16 | Ct2Type::Bf16 => 2,
            Ct2Type::F32 | Ct2Type::I32 => 4,
        }
    }
}

/// One variable, its data borrowed from the file.
pub struct Variable<'a> {
    pub dims: Vec<usize>,
    pub dtype: Ct2Type,
    pub data: &'a [u8],
}

pub struct Ct2Model<'a> {
    pub version: u32,
    /// The model spec's name, e.g. `WhisperSpec`.
    pub spec: String,
    pub revision: u32,
    variables: BTreeMap<String, Variable<'a>>,
    aliases: BTreeMap<String, String>,
}

/// A bounds-checked reader over the file.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8]> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len()).ok_or_else(|| {
            bad(format!("{what} at byte {} needs {n} bytes; the file ends after {}", self.at, self.bytes.len() - self.at))
        })?;
        let out = &self.bytes[self.at..end];
        self.at = end;
        Ok(out)
    }

    fn u8(&mut self, what: &str) -> Result<u8> {
        Ok(self.take(1, what)?[0])
    }

    fn u16(&mut self, what: &str) -> Result<u16> {
        let b = self.take(2, what)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    fn u32(&mut self, what: &str) -> Result<u32> {
        let b = self.take(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// A u16 length, then that many bytes of UTF-8 ending in a NUL.
    fn string(&mut self, what: &str) -> Result<String> {
        let n = self.u16(what)? as usize;
        let raw = self.take(n, what)?;
        let text = raw.strip_suffix(&[0]).unwrap_or(raw);
        String::from_utf8(text.to_vec()).map_err(|_| bad(format!("{what} is not UTF-8")))
    }
}

impl<'a> Ct2Model<'a> {
    pub fn parse(bytes: &'a [u8]) -> Result<Ct2Model<'a>> {
        let mut r = Reader { bytes, at: 0 };
        let version = r.u32("the format version")?;
        if !(4..=6).contains(&version) {
            return Err(bad(format!("format version {version}; versions 4 to 6 are read (is this a CTranslate2 model.bin?)")));
        }
        let spec = r.string("the spec name")?;
        let revision = r.u32("the spec revision")?;
        let count = r.u32("the variable count")? as usize;
        let mut variables = BTreeMap::new();
        for i in 0..count {
            let name = r.string(&format!("variable {i}'s name"))?;
            let rank = r.u8(&format!("{name}'s rank"))? as usize;
            if rank > MAX_RANK {
                return Err(bad(format!("{name} has rank {rank}; at most {MAX_RANK} is read")));
            }
            let dims = (0..rank).map(|_| r.u32(&format!("{name}'s dimensions")).map(|d| d as usize)).collect::<Result<Vec<_>>>()?;
            let code = r.u8(&format!("{name}'s data type"))?;
            let dtype = Ct2Type::from_code(code).ok_or_else(|| bad(format!("{name} has unknown data type {code}")))?;
            let size = r.u32(&format!("{name}'s byte count"))? as usize;
            let elements = dims.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
            if elements.and_then(|e| e.checked_mul(dtype.size())) != Some(size) {
                return Err(bad(format!("{name}: shape {dims:?} of {dtype:?} does not take {size} bytes")));
            }
            let data = r.take(size, &format!("{name}'s data"))?;
            variables.insert(name, Variable { dims, dtype, data });
        }
        let mut aliases = BTreeMap::new();
        let count = r.u32("the alias count")? as usize;
        for i in 0..count {
            let alias = r.string(&format!("alias {i}"))?;
            let target = r.string(&format!("alias {alias}'s target"))?;
            if !variables.contains_key(&target) {
                return Err(bad(format!("alias {alias} names {target}, which the file does not hold")));
            }
            aliases.insert(alias, target);
        }
        Ok(Ct2Model { version, spec, revision, variables, aliases })
    }

    /// The variable `name` (or the one it is an alias of).
    pub fn variable(&self, name: &str) -> Result<&Variable<'a>> {
        let name = self.aliases.get(name).map_or(name, String::as_str);
        self.variables.get(name).ok_or_else(|| bad(format!("no variable {name:?}")))
    }

    /// Values in the file's float variables (aliases counted once).
    pub fn float_elements(&self) -> u64 {
        let floats = self.variables.values().filter(|v| matches!(v.dtype, Ct2Type::F32 | Ct2Type::F16 | Ct2Type::Bf16));
        floats.map(|v| v.dims.iter().product::<usize>() as u64).sum()
    }

    pub fn contains(&self, name: &str) -> bool {
        self.variable(name).is_ok()
    }

    /// A float variable as an f32 tensor on the CPU (f16 and bf16 widened), its shape checked.
    pub fn tensor(&self, name: &str, shape: &[usize]) -> Result<Tensor> {
        let v = self.variable(name)?;
        if v.dims != shape {
            return Err(bad(format!("{name} has shape {:?}, the model expects {shape:?}", v.dims)));
        }
        let values: Vec<f32> = match v.dtype {
            Ct2Type::F32 => v.data.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect(),
            Ct2Type::F16 => v.data.chunks_exact(2).map(|b| crate::core::f16::f16_to_f32(u16::from_le_bytes([b[0], b[1]]))).collect(),
            Ct2Type::Bf16 => v.data.chunks_exact(2).map(|b| crate::core::f16::bf16_to_f32(u16::from_le_bytes([b[0], b[1]]))).collect(),
            other => return Err(bad(format!("{name} holds {other:?}; a float variable was expected"))),
        };
        Tensor::from_vec(values, v.dims.clone())
    }

    /// An integer scalar (a spec's setting such as `decoder/num_heads`).
    pub fn int(&self, name: &str) -> Result<i64> {
        let v = self.variable(name)?;
        let d = v.data;
        match (v.dtype, d.len()) {
            (Ct2Type::I8, 1) => Ok(i64::from(d[0] as i8)),
            (Ct2Type::I16, 2) => Ok(i64::from(i16::from_le_bytes([d[0], d[1]]))),
            (Ct2Type::I32, 4) => Ok(i64::from(i32::from_le_bytes([d[0], d[1], d[2], d[3]]))),
            _ => Err(bad(format!("{name} is not an integer scalar ({:?}, shape {:?})", v.dtype, v.dims))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn string(s: &str) -> Vec<u8> {
        let mut out = ((s.len() + 1) as u16).to_le_bytes().to_vec();
        out.extend(s.as_bytes());
        out.push(0);
        out
    }

    /// A version-6 file with one f32 [2] variable, one int8 scalar and one alias.
    fn file() -> Vec<u8> {
        let mut b = 6u32.to_le_bytes().to_vec();
        b.extend(string("TestSpec"));
        b.extend(1u32.to_le_bytes());
        b.extend(2u32.to_le_bytes());
        b.extend(string("w"));
        b.extend([1, 2, 0, 0, 0, 0]); // rank 1, dim 2, f32
        b.extend(8u32.to_le_bytes());
        b.extend(1.5f32.to_le_bytes());
        b.extend((-2.0f32).to_le_bytes());
        b.extend(string("heads"));
        b.extend([0, 1]); // rank 0, int8
        b.extend(1u32.to_le_bytes());
        b.push(6);
        b.extend(1u32.to_le_bytes());
        b.extend(string("tied"));
        b.extend(string("w"));
        b
    }

    #[test]
    fn variables_aliases_and_truncation() {
        let bytes = file();
        let m = Ct2Model::parse(&bytes).unwrap();
        assert_eq!((m.spec.as_str(), m.revision), ("TestSpec", 1));
        assert_eq!(m.tensor("tied", &[2]).unwrap().cpu_contiguous().unwrap().to_vec(), [1.5, -2.0]);
        assert_eq!(m.int("heads").unwrap(), 6);
        assert!(m.tensor("w", &[3]).unwrap_err().to_string().contains("expects [3]"));
        for cut in [3, 20, bytes.len() - 1] {
            let err = Ct2Model::parse(&bytes[..cut]).err().expect("a truncated file must not parse").to_string();
            assert!(err.contains("CTranslate2") && err.contains("the file ends"), "{cut}: {err}");
        }
        assert!(Ct2Model::parse(b"\x09\0\0\0").err().unwrap().to_string().contains("version 9"));
    }
}
