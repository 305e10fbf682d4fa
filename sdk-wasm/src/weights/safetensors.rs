//! The safetensors format: an 8-byte little-endian header length, a JSON header mapping
//! tensor names to {dtype, shape, data_offsets}, then the raw little-endian data.

use crate::core::error::{Error, Result};
use crate::core::f16::f16_to_f32;
use crate::tensor::Tensor;
use std::collections::BTreeMap;

/// Headers larger than this are refused (real ones are tens of KB) so a corrupt length
/// cannot make us allocate gigabytes.
const MAX_HEADER_BYTES: u64 = 100 << 20;

#[derive(Debug, Clone, PartialEq)]
pub struct TensorInfo {
    pub dtype: String,
    pub shape: Vec<usize>,
    /// Byte range inside the data section.
    pub start: usize,
    pub end: usize,
}

/// A parsed safetensors file over borrowed bytes (no copy until a tensor is read).
pub struct SafeTensors<'a> {
    tensors: BTreeMap<String, TensorInfo>,
    metadata: BTreeMap<String, String>,
    data_offset: usize,
    data: &'a [u8],
}

fn bad(detail: impl Into<String>) -> Error {
    Error::Weights { format: "safetensors", detail: detail.into() }
}

fn element_bytes(dtype: &str) -> Option<usize> {
    Some(match dtype {
        "F64" | "I64" | "U64" => 8,
        "F32" | "I32" | "U32" => 4,
        "F16" | "BF16" | "I16" | "U16" => 2,
        "I8" | "U8" | "BOOL" | "F8_E4M3" | "F8_E5M2" => 1,
        _ => return None,
    })
}

/// The table at the start of a safetensors file: each tensor's dtype, shape and byte range.
#[derive(Debug, Clone)]
pub struct SafeTensorsHeader {
    pub tensors: BTreeMap<String, TensorInfo>,
    pub metadata: BTreeMap<String, String>,
    /// Where the data section starts in the file (8 + the header's length).
    pub data_offset: usize,
}

impl SafeTensorsHeader {
    /// Parse the table from the file's first bytes (at least the length and the header),
    /// checking every range against a data section of `data_len` bytes.
    pub fn parse(bytes: &[u8], data_len: usize) -> Result<SafeTensorsHeader> {
        let data_offset = Self::length(bytes)?;
        let header = bytes
            .get(8..data_offset)
            .ok_or_else(|| bad(format!("header needs {} bytes, file has {}", data_offset - 8, bytes.len().saturating_sub(8))))?;
        let json: serde_json::Value = serde_json::from_slice(header).map_err(|e| bad(format!("header is not valid JSON: {e}")))?;
        let entries = json.as_object().ok_or_else(|| bad("header is not a JSON object"))?;
        let mut tensors = BTreeMap::new();
        let mut metadata = BTreeMap::new();
        for (name, entry) in entries {
            if name == "__metadata__" {
                for (k, v) in entry.as_object().into_iter().flatten() {
                    metadata.insert(k.clone(), v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()));
                }
                continue;
            }
            tensors.insert(name.clone(), SafeTensors::tensor_info(name, entry, data_len)?);
        }
        SafeTensors::check_no_overlap(&tensors)?;
        Ok(SafeTensorsHeader { tensors, metadata, data_offset })
    }

    /// 8 + the header length the file's first 8 bytes give: where the data section starts.
    pub fn length(bytes: &[u8]) -> Result<usize> {
        let len_bytes: [u8; 8] = bytes
            .get(..8)
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| bad(format!("file is {} bytes, too short for a header", bytes.len())))?;
        let header_len = u64::from_le_bytes(len_bytes);
        if header_len > MAX_HEADER_BYTES {
            return Err(bad(format!("header length {header_len} exceeds {MAX_HEADER_BYTES} bytes (corrupt file?)")));
        }
        Ok(8 + header_len as usize)
    }
}

/// A tensor's raw little-endian bytes as f32 values (F32 copied, F16/BF16 widened).
pub fn decode_f32(name: &str, info: &TensorInfo, raw: &[u8]) -> Result<Tensor> {
    if raw.len() != info.end - info.start {
        return Err(bad(format!("tensor {name:?}: {} bytes given, the header says {}", raw.len(), info.end - info.start)));
    }
    let values: Vec<f32> = match info.dtype.as_str() {
        "F32" => raw.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect(),
        "F16" => raw.chunks_exact(2).map(|b| f16_to_f32(u16::from_le_bytes([b[0], b[1]]))).collect(),
        "BF16" => raw.chunks_exact(2).map(|b| f32::from_bits((u16::from_le_bytes([b[0], b[1]]) as u32) << 16)).collect(),
        other => return Err(bad(format!("tensor {name:?}: dtype {other} cannot be read as f32"))),
    };
    Tensor::from_vec(values, info.shape.clone())
}

impl<'a> SafeTensors<'a> {
    pub fn parse(bytes: &'a [u8]) -> Result<SafeTensors<'a>> {
        let data_offset = SafeTensorsHeader::length(bytes)?;
        let data_len = bytes.len().saturating_sub(data_offset);
        let header = SafeTensorsHeader::parse(bytes, data_len)?;
        let data = &bytes[header.data_offset..];
        Ok(SafeTensors { tensors: header.tensors, metadata: header.metadata, data_offset: header.data_offset, data })
    }

    /// Where the data section starts in the file: tensor `t` lies at `data_offset() + t.start`.
    pub fn data_offset(&self) -> usize {
        self.data_offset
    }

    fn tensor_info(name: &str, entry: &serde_json::Value, data_len: usize) -> Result<TensorInfo> {
        let field = |key: &str| entry.get(key).ok_or_else(|| bad(format!("tensor {name:?}: missing {key:?}")));
        let dtype = field("dtype")?.as_str().ok_or_else(|| bad(format!("tensor {name:?}: dtype is not a string")))?.to_string();
        let elem = element_bytes(&dtype).ok_or_else(|| bad(format!("tensor {name:?}: unknown dtype {dtype:?}")))?;
        let as_usizes = |v: &serde_json::Value, what: &str| -> Result<Vec<usize>> {
            v.as_array()
                .ok_or_else(|| bad(format!("tensor {name:?}: {what} is not an array")))?
                .iter()
                .map(|x| {
                    x.as_u64()
                        .and_then(|x| usize::try_from(x).ok())
                        .ok_or_else(|| bad(format!("tensor {name:?}: {what} has a non-integer entry")))
                })
                .collect()
        };
        let shape = as_usizes(field("shape")?, "shape")?;
        let offsets = as_usizes(field("data_offsets")?, "data_offsets")?;
        let [start, end] = offsets[..] else {
            return Err(bad(format!("tensor {name:?}: data_offsets must have 2 entries, has {}", offsets.len())));
        };
        if start > end || end > data_len {
            return Err(bad(format!(
                "tensor {name:?}: data_offsets [{start}, {end}] outside the {data_len}-byte data section (truncated file?)"
            )));
        }
        let expected = shape
            .iter()
            .try_fold(elem, |acc, &d| acc.checked_mul(d))
            .ok_or_else(|| bad(format!("tensor {name:?}: shape {shape:?} overflows")))?;
        if end - start != expected {
            return Err(bad(format!("tensor {name:?}: shape {shape:?} × {dtype} needs {expected} bytes, offsets give {}", end - start)));
        }
        Ok(TensorInfo { dtype, shape, start, end })
    }

    fn check_no_overlap(tensors: &BTreeMap<String, TensorInfo>) -> Result<()> {
        let mut ranges: Vec<(&str, usize, usize)> =
            tensors.iter().map(|(n, t)| (n.as_str(), t.start, t.end)).filter(|r| r.1 < r.2).collect();
        ranges.sort_by_key(|r| r.1);
        for pair in ranges.windows(2) {
            if pair[1].1 < pair[0].2 {
                return Err(bad(format!("tensors {:?} and {:?} overlap", pair[0].0, pair[1].0)));
            }
        }
        Ok(())
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.tensors.keys().map(String::as_str)
    }

    pub fn info(&self, name: &str) -> Option<&TensorInfo> {
        self.tensors.get(name)
    }

    /// The raw little-endian bytes of tensor `name` when it is stored as F32 (None otherwise).
    pub fn f32_bytes(&self, name: &str) -> Option<&'a [u8]> {
        self.tensors.get(name).filter(|i| i.dtype == "F32").map(|i| &self.data[i.start..i.end])
    }

    pub fn metadata(&self) -> &BTreeMap<String, String> {
        &self.metadata
    }

    /// The named tensor as f32 on the CPU (F32 copied, F16/BF16 widened).
    pub fn tensor(&self, name: &str) -> Result<Tensor> {
        let info = self.tensors.get(name).ok_or_else(|| bad(format!("no tensor named {name:?}")))?;
        decode_f32(name, info, &self.data[info.start..info.end])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A well-formed file written by hand from the format description.
    fn file(header: &str, data: &[u8]) -> Vec<u8> {
        let mut out = (header.len() as u64).to_le_bytes().to_vec();
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(data);
        out
    }

    fn two_tensors() -> Vec<u8> {
        let mut data = Vec::new();
        for v in [1.0f32, -2.0, 3.5, 0.25] {
            data.extend_from_slice(&v.to_le_bytes());
        }
        data.extend_from_slice(&0x3c00u16.to_le_bytes()); // f16 1.0
        data.extend_from_slice(&0xc000u16.to_le_bytes()); // f16 -2.0
        file(
            r#"{"__metadata__":{"format":"pt"},"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"h":{"dtype":"F16","shape":[2],"data_offsets":[16,20]}}"#,
            &data,
        )
    }

    #[test]
    fn reads_f32_and_f16_tensors_and_metadata() {
        let bytes = two_tensors();
        let st = SafeTensors::parse(&bytes).unwrap();
        assert_eq!(st.names().collect::<Vec<_>>(), ["h", "w"]);
        assert_eq!(st.metadata()["format"], "pt");
        let w = pollster::block_on(st.tensor("w").unwrap().to_vec()).unwrap();
        assert_eq!(w, [1.0, -2.0, 3.5, 0.25]);
        let h = pollster::block_on(st.tensor("h").unwrap().to_vec()).unwrap();
        assert_eq!(h, [1.0, -2.0]);
    }

    #[test]
    fn every_truncation_is_an_error_never_a_panic() {
        let bytes = two_tensors();
        for cut in 0..bytes.len() {
            assert!(SafeTensors::parse(&bytes[..cut]).is_err(), "truncated to {cut} bytes was accepted");
        }
    }

    #[test]
    fn corrupt_headers_name_the_problem() {
        let cases = [
            (r#"{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, "needs 12 bytes"),
            (r#"{"w":{"dtype":"Q9","shape":[2],"data_offsets":[0,8]}}"#, "unknown dtype"),
            (r#"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,80]}}"#, "outside"),
            (r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, "overlap"),
            (r#"{"w":{"dtype":"F32","shape":[2]}}"#, "data_offsets"),
            (r#"[1,2]"#, "not a JSON object"),
            (r#"{"w":"#, "not valid JSON"),
        ];
        for (header, want) in cases {
            let err = SafeTensors::parse(&file(header, &[0u8; 8])).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(err.contains(want), "{header}: {err}");
        }
        let mut huge = u64::MAX.to_le_bytes().to_vec();
        huge.extend_from_slice(b"{}");
        assert!(SafeTensors::parse(&huge).err().unwrap().to_string().contains("exceeds"));
    }
}
