//! GGUF (v2/v3, llama.cpp's format): a header, typed metadata key/values, a tensor table,
//! then aligned tensor data. Every count, length and offset is checked against the file's size
//! before it is used, so a truncated or corrupt file is an error, never a huge allocation.

use super::budget::MemoryBudget;
use crate::core::error::{Error, Result};
use crate::tensor::DType;
use std::collections::BTreeMap;

const MAGIC: &[u8; 4] = b"GGUF";
const DEFAULT_ALIGNMENT: usize = 32;
const MAX_ARRAY_DEPTH: usize = 4;
const MAX_DIMS: usize = 4;

fn bad(detail: impl Into<String>) -> Error {
    Error::Weights { format: "GGUF", detail: detail.into() }
}

/// One metadata value.
#[derive(Debug, Clone, PartialEq)]
pub enum MetaValue {
    Int(i64),
    Uint(u64),
    Float(f64),
    Bool(bool),
    Str(String),
    Array(Vec<MetaValue>),
}

/// A tensor's entry in the table. `dims` are GGUF's order: the innermost (contiguous)
/// dimension first, so a `[cols, rows]` matrix stores `rows` rows of `cols` values.
#[derive(Debug, Clone, PartialEq)]
pub struct GgufTensor {
    pub name: String,
    pub dims: Vec<usize>,
    pub dtype: DType,
    /// Byte range inside the file.
    pub start: usize,
    pub end: usize,
}

impl GgufTensor {
    pub fn elements(&self) -> usize {
        self.dims.iter().product()
    }
}

/// A parsed GGUF file over borrowed bytes.
pub struct Gguf<'a> {
    pub version: u32,
    metadata: BTreeMap<String, MetaValue>,
    tensors: Vec<GgufTensor>,
    by_name: BTreeMap<String, usize>,
    bytes: &'a [u8],
}

/// ggml's type numbers for the block formats we read.
fn dtype_of(code: u32, tensor: &str) -> Result<DType> {
    Ok(match code {
        0 => DType::F32,
        1 => DType::F16,
        2 => DType::Q4_0,
        3 => DType::Q4_1,
        8 => DType::Q8_0,
        30 => DType::BF16,
        other => {
            let name = match other {
                6 => "Q5_0",
                7 => "Q5_1",
                10 => "Q2_K",
                11 => "Q3_K",
                12 => "Q4_K",
                13 => "Q5_K",
                14 => "Q6_K",
                _ => "an unknown type",
            };
            return Err(bad(format!("tensor {tensor:?} uses ggml type {other} ({name}), which this reader does not support")));
        }
    })
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    /// A value takes `size_of::<MetaValue>()` (32) bytes however few it took in the file, so
    /// an array of 90M one-byte items in a 90 MB file would be 2.9 GB: what a value will
    /// take is charged here before it is allocated.
    budget: MemoryBudget,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.bytes.len());
        let end = end.ok_or_else(|| {
            bad(format!("file ends inside {what} (needs {n} bytes at offset {}, file is {})", self.pos, self.bytes.len()))
        })?;
        let out = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(out)
    }
    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N]> {
        let b = self.take(N, what)?;
        let mut out = [0u8; N];
        out.copy_from_slice(b);
        Ok(out)
    }
    fn u32(&mut self, what: &str) -> Result<u32> {
        self.array::<4>(what).map(u32::from_le_bytes)
    }
    fn u64(&mut self, what: &str) -> Result<u64> {
        self.array::<8>(what).map(u64::from_le_bytes)
    }
    fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }
    /// A count that must fit in the rest of the file at `min_bytes` per item.
    fn count(&mut self, what: &str, min_bytes: usize) -> Result<usize> {
        let n = self.u64(what)?;
        let fits = usize::try_from(n).ok().filter(|&n| n.saturating_mul(min_bytes.max(1)) <= self.remaining());
        fits.ok_or_else(|| bad(format!("{what} = {n} cannot fit in the {} bytes left (corrupt file?)", self.remaining())))
    }
    fn string(&mut self, what: &str) -> Result<String> {
        let len = self.count(what, 1)?;
        self.budget.charge(len, what)?;
        let raw = self.take(len, what)?;
        String::from_utf8(raw.to_vec()).map_err(|_| bad(format!("{what} is not valid UTF-8")))
    }
    fn value(&mut self, kind: u32, key: &str, depth: usize) -> Result<MetaValue> {
        let what = format!("metadata {key:?}");
        Ok(match kind {
            0 => MetaValue::Uint(self.array::<1>(&what)?[0] as u64),
            1 => MetaValue::Int(self.array::<1>(&what)?[0] as i8 as i64),
            2 => MetaValue::Uint(u16::from_le_bytes(self.array(&what)?) as u64),
            3 => MetaValue::Int(i16::from_le_bytes(self.array(&what)?) as i64),
            4 => MetaValue::Uint(self.u32(&what)? as u64),
            5 => MetaValue::Int(i32::from_le_bytes(self.array(&what)?) as i64),
            6 => MetaValue::Float(f32::from_le_bytes(self.array(&what)?) as f64),
            7 => match self.array::<1>(&what)?[0] {
                0 => MetaValue::Bool(false),
                1 => MetaValue::Bool(true),
                b => return Err(bad(format!("{what}: bool byte is {b}"))),
            },
            8 => MetaValue::Str(self.string(&what)?),
            9 => {
                if depth >= MAX_ARRAY_DEPTH {
                    return Err(bad(format!("{what}: arrays nested deeper than {MAX_ARRAY_DEPTH}")));
                }
                let inner = self.u32(&what)?;
                let min = match inner {
                    0 | 1 | 7 => 1,
                    2 | 3 => 2,
                    4..=6 => 4,
                    _ => 8,
                };
                let n = self.count(&format!("{what} array length"), min)?;
                self.budget.charge_items::<MetaValue>(n, &format!("{what} ({n} items)"))?;
                let mut items = Vec::with_capacity(n);
                for _ in 0..n {
                    items.push(self.value(inner, key, depth + 1)?);
                }
                MetaValue::Array(items)
            }
            10 => MetaValue::Uint(self.u64(&what)?),
            11 => MetaValue::Int(i64::from_le_bytes(self.array(&what)?)),
            12 => MetaValue::Float(f64::from_le_bytes(self.array(&what)?)),
            other => return Err(bad(format!("{what}: unknown value type {other}"))),
        })
    }
}

impl<'a> Gguf<'a> {
    pub fn parse(bytes: &'a [u8]) -> Result<Gguf<'a>> {
        let mut r = Reader { bytes, pos: 0, budget: MemoryBudget::new("GGUF") };
        if r.take(4, "the magic number")? != MAGIC {
            return Err(bad("not a GGUF file (magic is not \"GGUF\")"));
        }
        let version = r.u32("the version")?;
        if !(2..=3).contains(&version) {
            return Err(bad(format!("version {version} is not supported (only 2 and 3)")));
        }
        // A tensor entry is at least 8+4+8+4+8 bytes; a key/value at least 8+4+1.
        let tensor_count = r.count("tensor count", 32)?;
        let kv_count = r.count("metadata count", 13)?;
        let mut metadata = BTreeMap::new();
        for _ in 0..kv_count {
            let key = r.string("a metadata key")?;
            let kind = r.u32(&format!("metadata {key:?} type"))?;
            r.budget.charge_items::<MetaValue>(1, &format!("metadata {key:?}"))?;
            let value = r.value(kind, &key, 0)?;
            metadata.insert(key, value);
        }
        let alignment = match metadata.get("general.alignment") {
            None => DEFAULT_ALIGNMENT,
            Some(MetaValue::Uint(a)) if *a > 0 && a.is_power_of_two() && *a <= 1 << 16 => *a as usize,
            Some(other) => return Err(bad(format!("general.alignment {other:?} is not a power of two"))),
        };
        r.budget.charge_items::<GgufTensor>(tensor_count, "the tensor table")?;
        let mut entries = Vec::with_capacity(tensor_count);
        for _ in 0..tensor_count {
            let name = r.string("a tensor name")?;
            let n_dims = r.u32(&format!("tensor {name:?} rank"))? as usize;
            if n_dims == 0 || n_dims > MAX_DIMS {
                return Err(bad(format!("tensor {name:?} has rank {n_dims} (1..={MAX_DIMS} allowed)")));
            }
            let mut dims = Vec::with_capacity(n_dims);
            for _ in 0..n_dims {
                let d = r.u64(&format!("tensor {name:?} dims"))?;
                dims.push(usize::try_from(d).map_err(|_| bad(format!("tensor {name:?} dimension {d} is too large")))?);
            }
            let dtype = dtype_of(r.u32(&format!("tensor {name:?} type"))?, &name)?;
            let offset = r.u64(&format!("tensor {name:?} offset"))?;
            entries.push((name, dims, dtype, offset));
        }
        let data_start = r.pos.next_multiple_of(alignment);
        let mut tensors = Vec::with_capacity(entries.len());
        let mut by_name = BTreeMap::new();
        for (name, dims, dtype, offset) in entries {
            let elements = dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
            let elements = elements.ok_or_else(|| bad(format!("tensor {name:?} dims {dims:?} overflow")))?;
            if dims[0] % dtype.block_len() != 0 {
                return Err(bad(format!(
                    "tensor {name:?}: rows of {} values do not fill {:?} blocks of {}",
                    dims[0],
                    dtype,
                    dtype.block_len()
                )));
            }
            let size = dtype.storage_bytes(elements).ok_or_else(|| bad(format!("tensor {name:?}: size does not fill whole blocks")))?;
            if !(offset as usize).is_multiple_of(alignment) {
                return Err(bad(format!("tensor {name:?} offset {offset} is not aligned to {alignment}")));
            }
            let start = usize::try_from(offset).ok().and_then(|o| data_start.checked_add(o));
            let end = start.and_then(|s| s.checked_add(size)).filter(|&e| e <= bytes.len());
            let (Some(start), Some(end)) = (start, end) else {
                return Err(bad(format!(
                    "tensor {name:?} ({size} bytes at data offset {offset}) runs past the end of the file ({} bytes); truncated?",
                    bytes.len()
                )));
            };
            if by_name.insert(name.clone(), tensors.len()).is_some() {
                return Err(bad(format!("tensor {name:?} appears twice")));
            }
            tensors.push(GgufTensor { name, dims, dtype, start, end });
        }
        Ok(Gguf { version, metadata, tensors, by_name, bytes })
    }

    pub fn metadata(&self) -> &BTreeMap<String, MetaValue> {
        &self.metadata
    }
    pub fn tensors(&self) -> &[GgufTensor] {
        &self.tensors
    }
    pub fn tensor(&self, name: &str) -> Result<(&GgufTensor, &'a [u8])> {
        let t = self.by_name.get(name).map(|&i| &self.tensors[i]).ok_or_else(|| bad(format!("no tensor {name:?}")))?;
        Ok((t, &self.bytes[t.start..t.end]))
    }

    fn get(&self, key: &str) -> Result<&MetaValue> {
        self.metadata.get(key).ok_or_else(|| bad(format!("metadata {key:?} is missing")))
    }
    pub fn uint(&self, key: &str) -> Result<u64> {
        match self.get(key)? {
            MetaValue::Uint(v) => Ok(*v),
            MetaValue::Int(v) if *v >= 0 => Ok(*v as u64),
            other => Err(bad(format!("metadata {key:?} is {other:?}, expected an unsigned integer"))),
        }
    }
    pub fn float(&self, key: &str) -> Result<f64> {
        match self.get(key)? {
            MetaValue::Float(v) => Ok(*v),
            MetaValue::Uint(v) => Ok(*v as f64),
            MetaValue::Int(v) => Ok(*v as f64),
            other => Err(bad(format!("metadata {key:?} is {other:?}, expected a number"))),
        }
    }
    pub fn string(&self, key: &str) -> Result<&str> {
        match self.get(key)? {
            MetaValue::Str(s) => Ok(s),
            other => Err(bad(format!("metadata {key:?} is {:?}, expected a string", short(other)))),
        }
    }
    pub fn strings(&self, key: &str) -> Result<Vec<&str>> {
        match self.get(key)? {
            MetaValue::Array(items) => items
                .iter()
                .map(|v| match v {
                    MetaValue::Str(s) => Ok(s.as_str()),
                    other => Err(bad(format!("metadata {key:?} holds {:?}, expected strings", short(other)))),
                })
                .collect(),
            other => Err(bad(format!("metadata {key:?} is {:?}, expected an array of strings", short(other)))),
        }
    }
    pub fn ints(&self, key: &str) -> Result<Vec<i64>> {
        match self.get(key)? {
            MetaValue::Array(items) => items
                .iter()
                .map(|v| match v {
                    MetaValue::Int(i) => Ok(*i),
                    MetaValue::Uint(u) => i64::try_from(*u).map_err(|_| bad(format!("metadata {key:?}: {u} is too large"))),
                    other => Err(bad(format!("metadata {key:?} holds {:?}, expected integers", short(other)))),
                })
                .collect(),
            other => Err(bad(format!("metadata {key:?} is {:?}, expected an array of integers", short(other)))),
        }
    }
    pub fn has(&self, key: &str) -> bool {
        self.metadata.contains_key(key)
    }
}

/// A value for an error message, without printing a 50 000-entry array.
fn short(v: &MetaValue) -> String {
    match v {
        MetaValue::Array(items) => format!("an array of {}", items.len()),
        MetaValue::Str(s) => format!("the string {:?}", s.chars().take(40).collect::<String>()),
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A small, valid GGUF v3 file: two metadata keys and two tensors.
    pub(crate) fn tiny_file() -> Vec<u8> {
        let mut b = Vec::new();
        let s = |b: &mut Vec<u8>, s: &str| {
            b.extend((s.len() as u64).to_le_bytes());
            b.extend(s.as_bytes());
        };
        b.extend(MAGIC);
        b.extend(3u32.to_le_bytes());
        b.extend(2u64.to_le_bytes()); // tensors
        b.extend(2u64.to_le_bytes()); // metadata
        s(&mut b, "general.architecture");
        b.extend(8u32.to_le_bytes());
        s(&mut b, "llama");
        s(&mut b, "tokenizer.ggml.tokens");
        b.extend(9u32.to_le_bytes());
        b.extend(8u32.to_le_bytes());
        b.extend(2u64.to_le_bytes());
        s(&mut b, "a");
        s(&mut b, "b");
        // f32 [4] at 0, q8_0 [32, 1] at 32.
        s(&mut b, "norm");
        b.extend(1u32.to_le_bytes());
        b.extend(4u64.to_le_bytes());
        b.extend(0u32.to_le_bytes());
        b.extend(0u64.to_le_bytes());
        s(&mut b, "w");
        b.extend(2u32.to_le_bytes());
        b.extend(32u64.to_le_bytes());
        b.extend(1u64.to_le_bytes());
        b.extend(8u32.to_le_bytes());
        b.extend(32u64.to_le_bytes());
        b.resize(b.len().next_multiple_of(32), 0);
        for v in [1.0f32, 2.0, 3.0, 4.0] {
            b.extend(v.to_le_bytes());
        }
        b.resize(b.len() + 16, 0);
        b.extend(0x3c00u16.to_le_bytes()); // d = 1.0
        b.extend((0..32).map(|i| i as u8));
        b
    }

    #[test]
    fn reads_metadata_and_tensor_table() {
        let file = tiny_file();
        let g = Gguf::parse(&file).unwrap();
        assert_eq!(g.string("general.architecture").unwrap(), "llama");
        assert_eq!(g.strings("tokenizer.ggml.tokens").unwrap(), ["a", "b"]);
        let (t, data) = g.tensor("w").unwrap();
        assert_eq!((t.dims.as_slice(), t.dtype, data.len()), (&[32, 1][..], DType::Q8_0, 34));
        assert!(g.uint("general.architecture").unwrap_err().to_string().contains("expected an unsigned integer"));
        assert!(g.tensor("nope").unwrap_err().to_string().contains("no tensor \"nope\""));
    }

    #[test]
    fn every_truncation_is_an_error_not_a_panic() {
        let file = tiny_file();
        for len in 0..file.len() {
            let err = Gguf::parse(&file[..len]).err().unwrap_or_else(|| panic!("{len} bytes parsed"));
            assert!(err.to_string().contains("GGUF"), "{err}");
        }
    }

    #[test]
    fn corrupt_bytes_never_panic_and_huge_counts_are_refused() {
        let file = tiny_file();
        // Flip every byte of the header region in turn (a deterministic fuzz over structure).
        for i in 0..file.len() - 50 {
            for flip in [0xff, 0x80, 0x01] {
                let mut f = file.clone();
                f[i] ^= flip;
                let _ = Gguf::parse(&f);
            }
        }
        let mut f = file.clone();
        f[8..16].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(Gguf::parse(&f).err().map(|e| e.to_string()).unwrap_or_default().contains("tensor count"));
        let mut f = file;
        f[4..8].copy_from_slice(&9u32.to_le_bytes());
        assert!(Gguf::parse(&f).err().map(|e| e.to_string()).unwrap_or_default().contains("version 9"));
    }

    /// A file whose one metadata key is an array of `n` u8 items, all present.
    fn byte_array_file(n: usize) -> Vec<u8> {
        let mut b = MAGIC.to_vec();
        b.extend(3u32.to_le_bytes());
        b.extend(0u64.to_le_bytes()); // tensors
        b.extend(1u64.to_le_bytes()); // metadata
        b.extend(4u64.to_le_bytes());
        b.extend(b"huge");
        b.extend(9u32.to_le_bytes()); // array
        b.extend(0u32.to_le_bytes()); // of u8
        b.extend((n as u64).to_le_bytes());
        b.resize(b.len() + n, 7);
        b
    }

    #[test]
    fn metadata_memory_is_bounded_not_just_its_bytes_in_the_file() {
        // 10M one-byte items really are in this 10 MB file, but would take 320 MB as values:
        // refused before the Vec is allocated (a 90M-item file would have asked for 2.9 GB).
        let f = byte_array_file(10_000_000);
        let err = Gguf::parse(&f).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("\"huge\"") && err.contains("10000000 items") && err.contains("256 MiB"), "{err}");
        // A count beyond the bytes left is refused as before, whatever the budget.
        let mut short = byte_array_file(16);
        let at = short.len() - 24;
        short[at..at + 8].copy_from_slice(&90_000_000u64.to_le_bytes());
        let err = Gguf::parse(&short).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("90000000") && err.contains("bytes left"), "{err}");
        // Arrays of ordinary size parse.
        let g = byte_array_file(1000);
        assert!(matches!(Gguf::parse(&g).unwrap().metadata().get("huge"), Some(MetaValue::Array(a)) if a.len() == 1000));
    }
}
