//! What a CPU tensor holds.

use super::int8_matmul::PackedInt8;
use super::matmul::PackedB;
use crate::core::{Error, Layout, Result};
use std::borrow::Cow;
use std::sync::OnceLock;

pub enum CpuStorage {
    F32 {
        data: Vec<f32>,
        /// The data packed as a matmul right-hand side, built on first use and shared by every
        /// view (a weight is packed once per model, not once per call).
        packed: OnceLock<PackedB>,
    },
    /// A weight kept only as matmul-packed panels (half the memory of plain + packed copies);
    /// readers other than matmul get it unpacked.
    Packed(PackedB),
    /// A weight kept only as int8 panels with per-column scales (`int8_matmul`); readers other
    /// than matmul get it dequantized.
    Int8(PackedInt8),
    /// Raw bytes in a block format (a quantized weight matrix).
    Bytes(Vec<u8>),
}

impl CpuStorage {
    pub fn f32(data: Vec<f32>) -> CpuStorage {
        CpuStorage::F32 { data, packed: OnceLock::new() }
    }

    /// Elements the storage holds as f32 (0 for block bytes).
    pub fn len(&self) -> usize {
        match self {
            CpuStorage::F32 { data, .. } => data.len(),
            CpuStorage::Packed(p) => p.dims().0 * p.dims().1,
            CpuStorage::Int8(p) => p.dims().0 * p.dims().1,
            CpuStorage::Bytes(_) => 0,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn bytes(&self) -> u64 {
        match self {
            CpuStorage::F32 { data, .. } => (data.len() * 4) as u64,
            CpuStorage::Packed(p) => p.bytes(),
            CpuStorage::Int8(p) => p.bytes(),
            CpuStorage::Bytes(b) => b.len() as u64,
        }
    }

    /// Bytes of the cached matmul packing (0 until a matmul used it).
    pub fn packed_bytes(&self) -> u64 {
        match self {
            CpuStorage::F32 { packed, .. } => packed.get().map_or(0, PackedB::bytes),
            _ => 0,
        }
    }

    /// The view's elements as one contiguous slice, borrowed when the view already is one.
    pub fn dense<'a>(&'a self, layout: &Layout) -> Result<Cow<'a, [f32]>> {
        match self {
            CpuStorage::F32 { data, .. } if layout.is_contiguous() => {
                let start = layout.offset;
                Ok(Cow::Borrowed(&data[start..start + layout.shape.elements()]))
            }
            CpuStorage::F32 { data, .. } => Ok(Cow::Owned(layout.gather_from(data))),
            CpuStorage::Packed(p) => Ok(Cow::Owned(layout.gather_from(&p.unpack()))),
            CpuStorage::Int8(p) => Ok(Cow::Owned(layout.gather_from(&p.unpack()))),
            CpuStorage::Bytes(_) => Err(Error::shape("cpu", "block-format bytes read as f32; use qmatmul")),
        }
    }

    /// Every f32 element in storage order (what a layout's offset and strides index into):
    /// borrowed, or unpacked from matmul panels.
    pub fn f32_data(&self) -> Result<Cow<'_, [f32]>> {
        match self {
            CpuStorage::F32 { data, .. } => Ok(Cow::Borrowed(data)),
            CpuStorage::Packed(p) => Ok(Cow::Owned(p.unpack())),
            CpuStorage::Int8(p) => Ok(Cow::Owned(p.unpack())),
            CpuStorage::Bytes(_) => Err(Error::shape("cpu", "block-format bytes read as f32; use qmatmul")),
        }
    }

    /// The block bytes of a quantized weight.
    pub fn block_bytes(&self) -> Result<&[u8]> {
        match self {
            CpuStorage::Bytes(b) => Ok(b),
            _ => Err(Error::shape("cpu", "expected block-format bytes, got f32 data")),
        }
    }

    /// The packed right-hand side for a product with this whole k×n matrix (the layout is
    /// contiguous at offset 0): cached on the storage, so it can only describe the same data.
    pub fn packed_rhs(&self, layout: &Layout, k: usize, n: usize) -> Result<Cow<'_, PackedB>> {
        let whole = whole_matrix(layout, k, n);
        match self {
            CpuStorage::Packed(p) if whole && p.dims() == (k, n) => return Ok(Cow::Borrowed(p)),
            CpuStorage::F32 { data, packed } if whole && data.len() == k * n => {
                // A reshaped view of the same data may ask for other dims: cache one packing.
                let cached = packed.get_or_init(|| PackedB::pack(data, k, n));
                if cached.dims() == (k, n) {
                    return Ok(Cow::Borrowed(cached));
                }
            }
            _ => {}
        }
        Ok(Cow::Owned(PackedB::pack(&self.dense(layout)?[..k * n], k, n)))
    }

    /// The int8 weights of this whole k×n matrix, when it is stored that way.
    pub fn int8_rhs(&self, layout: &Layout, k: usize, n: usize) -> Option<&PackedInt8> {
        match self {
            CpuStorage::Int8(p) if p.dims() == (k, n) && whole_matrix(layout, k, n) => Some(p),
            _ => None,
        }
    }

    /// Mutable elements for an in-place write.
    pub fn data_mut(&mut self) -> Result<&mut [f32]> {
        match self {
            CpuStorage::F32 { data, packed } => {
                // Any cached packing would go stale.
                *packed = OnceLock::new();
                Ok(data)
            }
            _ => Err(Error::shape("in-place write", "needs a plain f32 CPU tensor")),
        }
    }
}

/// The layout views a whole k×n matrix as stored (contiguous from offset 0): the only view a
/// cached packing describes.
fn whole_matrix(layout: &Layout, k: usize, n: usize) -> bool {
    layout.shape.dims() == [k, n] && layout.is_contiguous() && layout.offset == 0
}
