//! Tensors of a safetensors file read one by one (e.g. fetched as byte ranges), not as the
//! whole file: a shard stage holds only its part of a model this way.

use super::safetensors::{decode_f32, SafeTensorsHeader};
use super::WeightSource;
use crate::core::error::{Error, Result};
use crate::tensor::Tensor;
use std::collections::BTreeMap;

/// The file's table (every tensor's shape, so a model still checks the whole file against its
/// config) and the bytes of the tensors that were read.
pub struct TensorSlices {
    header: SafeTensorsHeader,
    bytes: BTreeMap<String, Vec<u8>>,
}

impl TensorSlices {
    /// `bytes` by tensor name; each must be as long as the header says.
    pub fn new(header: SafeTensorsHeader, bytes: BTreeMap<String, Vec<u8>>) -> Result<TensorSlices> {
        for (name, b) in &bytes {
            let info = header.tensors.get(name).ok_or_else(|| bad(format!("{name:?} is not in the file's header")))?;
            if b.len() != info.end - info.start {
                return Err(bad(format!("{name:?}: {} bytes, the header says {}", b.len(), info.end - info.start)));
            }
        }
        Ok(TensorSlices { header, bytes })
    }

    /// Bytes of the tensors held.
    pub fn held_bytes(&self) -> u64 {
        self.bytes.values().map(|b| b.len() as u64).sum()
    }
}

fn bad(detail: String) -> Error {
    Error::Weights { format: "safetensors", detail }
}

impl WeightSource for TensorSlices {
    fn tensor(&self, name: &str) -> Result<Tensor> {
        let info = self.header.tensors.get(name).ok_or_else(|| bad(format!("no tensor named {name:?}")))?;
        let raw = self.bytes.get(name).ok_or_else(|| bad(format!("{name:?} was not read (not in this part of the model)")))?;
        decode_f32(name, info, raw)
    }

    fn dims(&self, name: &str) -> Option<Vec<usize>> {
        self.header.tensors.get(name).map(|i| i.shape.clone())
    }
}
