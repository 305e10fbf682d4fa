//! `QuantMatrix`: a weight matrix kept in a block format (or f16/f32) — `rows` output
//! features × `cols` input features, each row its own run of blocks, exactly as GGUF stores a
//! linear layer. It is never expanded to f32: `ops::qmatmul` decodes blocks as it multiplies.

use super::{blocks, DType, Storage};
use crate::backend::cpu::CpuStorage;
use crate::backend::{Activations, QuantShape};
use crate::core::error::{Error, Result};
use crate::device::Device;
use std::sync::Arc;

#[derive(Clone)]
pub struct QuantMatrix {
    pub dtype: DType,
    pub rows: usize,
    pub cols: usize,
    storage: Arc<Storage>,
}

impl QuantMatrix {
    /// A matrix over `bytes` in `dtype`'s layout; the length must be exactly `rows` rows of `cols`.
    pub fn from_bytes(dtype: DType, rows: usize, cols: usize, bytes: Vec<u8>) -> Result<QuantMatrix> {
        let row_bytes = dtype
            .storage_bytes(cols)
            .ok_or_else(|| Error::shape("QuantMatrix", format!("rows of {cols} values do not fill {dtype:?} blocks")))?;
        if bytes.len() != rows * row_bytes {
            return Err(Error::shape(
                "QuantMatrix",
                format!("{rows}×{cols} {dtype:?} needs {} bytes, got {}", rows * row_bytes, bytes.len()),
            ));
        }
        Ok(QuantMatrix { dtype, rows, cols, storage: Arc::new(Storage::Cpu(CpuStorage::Bytes(bytes))) })
    }

    /// Quantize a row-major f32 matrix into our own formats (Q2, Q3), GGUF's Q8_0/Q4_1, or
    /// keep it as F32 (see `blocks::encode`).
    pub fn quantize(values: &[f32], rows: usize, cols: usize, dtype: DType) -> Result<QuantMatrix> {
        if !blocks::encodable(dtype) || !cols.is_multiple_of(blocks::BLOCK) || values.len() != rows * cols {
            return Err(Error::shape("quantize", format!("{rows}×{cols} into {dtype:?} (F32/Q8_0/Q4_1/Q3/Q2, rows a multiple of 32)")));
        }
        let mut bytes = Vec::with_capacity(dtype.storage_bytes(cols).unwrap_or(0) * rows);
        for block in values.chunks_exact(dtype.block_len()) {
            blocks::encode(dtype, block, &mut bytes);
        }
        QuantMatrix::from_bytes(dtype, rows, cols, bytes)
    }

    pub fn row_bytes(&self) -> usize {
        self.dtype.storage_bytes(self.cols).unwrap_or(0)
    }
    pub fn bytes(&self) -> u64 {
        (self.rows * self.row_bytes()) as u64
    }
    /// True when both hold the very same bytes (e.g. tied embeddings on the CPU).
    pub fn shares_storage(&self, other: &QuantMatrix) -> bool {
        Arc::ptr_eq(&self.storage, &other.storage)
    }
    pub fn device(&self) -> Device {
        self.storage.device()
    }
    pub(crate) fn storage(&self) -> &Storage {
        &self.storage
    }
    pub(crate) fn shape(&self) -> QuantShape {
        QuantShape { dtype: self.dtype, rows: self.rows, cols: self.cols, activations: Activations::F32 }
    }
    pub(crate) fn cpu_bytes(&self) -> Option<&[u8]> {
        match &*self.storage {
            Storage::Cpu(s) => s.block_bytes().ok(),
            _ => None,
        }
    }

    /// Row `r` as f32 (an embedding lookup reads single rows of a quantized table).
    pub fn row(&self, r: usize) -> Result<Vec<f32>> {
        let bytes = self.cpu_bytes().ok_or_else(|| Error::DeviceMismatch("QuantMatrix::row reads CPU storage".into()))?;
        if r >= self.rows {
            return Err(Error::shape("QuantMatrix::row", format!("row {r} of {}", self.rows)));
        }
        let rb = self.row_bytes();
        let mut out = vec![0.0; self.cols];
        blocks::decode_row(self.dtype, &bytes[r * rb..(r + 1) * rb], &mut out);
        Ok(out)
    }

    /// Every value as f32 (for tests and re-quantizing; models never do this).
    pub fn dequantize(&self) -> Result<Vec<f32>> {
        (0..self.rows).try_fold(Vec::with_capacity(self.rows * self.cols), |mut all, r| {
            all.extend(self.row(r)?);
            Ok(all)
        })
    }

    /// The same bytes on `device` (GPU kernels decode the blocks themselves).
    pub fn to_device(&self, device: &Device) -> Result<QuantMatrix> {
        if self.device().same_as(device) {
            return Ok(self.clone());
        }
        let bytes = self.cpu_bytes().ok_or_else(|| Error::DeviceMismatch("QuantMatrix moves from the CPU only".into()))?;
        Ok(QuantMatrix { storage: Arc::new(Storage::from_bytes(bytes.to_vec(), device)?), ..self.clone() })
    }
}

impl std::fmt::Debug for QuantMatrix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "QuantMatrix({}×{}, {:?}, {})", self.rows, self.cols, self.dtype, self.device().name())
    }
}
