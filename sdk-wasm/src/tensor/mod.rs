//! `Tensor`: a shape/stride view over storage that lives on the CPU or on a GPU.

mod quant_matrix;
pub(crate) mod storage;

// The leaves a tensor is described with, re-exported where users look for them.
pub use crate::core::{blocks, low_bits, DType, Layout, SeededRng, Shape};
pub use quant_matrix::QuantMatrix;
pub use storage::Storage;

use crate::backend::cpu::CpuStorage;
use crate::core::error::{Error, Result};
use crate::device::Device;
use std::borrow::Cow;
use std::sync::Arc;

/// A cheaply clonable view — storage (which knows its backend) + layout: clones share storage
/// (reference counted).
#[derive(Clone)]
pub struct Tensor {
    storage: Arc<Storage>,
    layout: Layout,
    dtype: DType,
}

impl Tensor {
    /// A contiguous f32 CPU tensor. Fails if `data` does not match `shape`.
    pub fn from_vec(data: Vec<f32>, shape: impl Into<Vec<usize>>) -> Result<Tensor> {
        Tensor::from_vec_on(data, shape, &Device::Cpu)
    }

    /// As `from_vec`, then on `device` (a GPU upload needs no await; only readback does).
    pub fn from_vec_on(data: Vec<f32>, shape: impl Into<Vec<usize>>, device: &Device) -> Result<Tensor> {
        let shape = Shape::new(shape);
        if data.len() != shape.elements() {
            return Err(Error::DataLength { shape: shape.to_string(), expected: shape.elements(), got: data.len() });
        }
        Ok(Tensor::new(Storage::from_f32(data, device)?, shape))
    }

    /// Reproducible uniform [-1, 1) data (see [`SeededRng`]).
    pub fn random(shape: impl Into<Vec<usize>>, seed: u64) -> Tensor {
        let shape = Shape::new(shape);
        let data = SeededRng::new(seed).fill(shape.elements());
        Tensor::new(Storage::Cpu(CpuStorage::f32(data)), shape)
    }

    /// A contiguous f32 tensor over `storage` (what an op returns).
    pub(crate) fn new(storage: Storage, shape: Shape) -> Tensor {
        Tensor { storage: Arc::new(storage), layout: Layout::contiguous(shape), dtype: DType::F32 }
    }

    /// This 2-D CPU matrix held only in matmul-packed form: for weights that are only ever a
    /// matmul's right-hand side, so the plain copy need not be kept beside the packing.
    pub fn into_packed_weight(&self) -> Result<Tensor> {
        let &[k, n] = self.dims() else {
            return Err(Error::shape("into_packed_weight", format!("expected a 2-D matrix, got {}", self.shape())));
        };
        let packed = crate::backend::cpu::PackedB::pack(&self.cpu_contiguous()?, k, n);
        Ok(Tensor::new(Storage::Cpu(CpuStorage::Packed(packed)), self.shape().clone()))
    }

    /// This 2-D f32 matrix [k, n] (a transposed linear weight) as int8 matmul panels, each
    /// column quantized symmetrically with its own scale.
    pub fn into_int8_weight(&self) -> Result<Tensor> {
        let &[k, n] = self.dims() else {
            return Err(Error::shape("into_int8_weight", format!("expected a 2-D matrix, got {}", self.shape())));
        };
        check_int8_depth(k)?;
        let packed = crate::backend::cpu::PackedInt8::quantize(&self.cpu_contiguous()?, k, n);
        Ok(Tensor::new(Storage::Cpu(CpuStorage::Int8(packed)), self.shape().clone()))
    }

    /// A linear weight's own int8 values (`n` output rows of `k`, row j scaled by `scales[j]`)
    /// as the [k, n] right-hand side of a CPU matmul.
    pub fn int8_weight(values: &[i8], scales: &[f32], n: usize, k: usize) -> Result<Tensor> {
        if values.len() != n * k || scales.len() != n {
            return Err(Error::shape("int8_weight", format!("{n}×{k} needs {} values and {n} scales", n * k)));
        }
        check_int8_depth(k)?;
        let packed = crate::backend::cpu::PackedInt8::from_rows(values, scales, n, k);
        Ok(Tensor::new(Storage::Cpu(CpuStorage::Int8(packed)), Shape::new([k, n])))
    }

    /// Bytes of this tensor's cached matmul packing (0 until a matmul has used it).
    pub fn packed_bytes(&self) -> u64 {
        match &*self.storage {
            Storage::Cpu(s) => s.packed_bytes(),
            _ => 0,
        }
    }

    pub fn shape(&self) -> &Shape {
        &self.layout.shape
    }
    pub fn dims(&self) -> &[usize] {
        self.layout.shape.dims()
    }
    pub fn layout(&self) -> &Layout {
        &self.layout
    }
    pub fn dtype(&self) -> DType {
        self.dtype
    }
    /// The device this tensor's storage lives on.
    pub fn device(&self) -> Device {
        self.storage.device()
    }
    pub fn storage(&self) -> &Storage {
        &self.storage
    }
    pub fn elements(&self) -> usize {
        self.layout.shape.elements()
    }

    /// Swap two dimensions as a view (no copy).
    pub fn transpose(&self, d0: usize, d1: usize) -> Result<Tensor> {
        Ok(Tensor { layout: self.layout.transpose(d0, d1)?, ..self.clone() })
    }

    /// Reorder dimensions as a view (no copy); see [`Layout::permute`].
    pub fn permute(&self, dims: &[usize]) -> Result<Tensor> {
        Ok(Tensor { layout: self.layout.permute(dims)?, ..self.clone() })
    }

    /// Same elements, new shape; the tensor must be contiguous.
    pub fn reshape(&self, shape: impl Into<Vec<usize>>) -> Result<Tensor> {
        let shape = Shape::new(shape);
        if shape.elements() != self.elements() {
            return Err(Error::shape(
                "reshape",
                format!("{} has {} elements, {} has {}", self.shape(), self.elements(), shape, shape.elements()),
            ));
        }
        if !self.layout.is_contiguous() {
            return Err(Error::shape("reshape", "tensor is a non-contiguous view; call contiguous() first"));
        }
        let offset = self.layout.offset;
        Ok(Tensor { layout: Layout { offset, ..Layout::contiguous(shape) }, ..self.clone() })
    }

    /// A zero-filled f32 tensor on `device` (e.g. a KV cache to be written in place).
    pub fn zeros(shape: impl Into<Vec<usize>>, device: &Device) -> Result<Tensor> {
        let shape = Shape::new(shape);
        Tensor::from_vec_on(vec![0.0; shape.elements()], shape.dims().to_vec(), device)
    }

    /// A view of this tensor's storage with another shape, strides and offset (e.g. the
    /// filled part of a KV cache); refused if it would read past the storage.
    pub fn strided_view(&self, shape: impl Into<Vec<usize>>, strides: Vec<usize>, offset: usize) -> Result<Tensor> {
        let shape = Shape::new(shape);
        let last = shape.dims().iter().zip(&strides).map(|(d, s)| d.saturating_sub(1) * s).sum::<usize>() + offset;
        let storage_len = self.storage.elements();
        if strides.len() != shape.dims().len() || (shape.elements() > 0 && last >= storage_len) {
            return Err(Error::shape(
                "strided_view",
                format!("{shape} with strides {strides:?} at {offset} exceeds {storage_len} elements"),
            ));
        }
        Ok(Tensor { layout: Layout { shape, strides, offset }, ..self.clone() })
    }

    /// Mutable access to the storage for an in-place write; refused while another tensor
    /// shares it.
    pub(crate) fn storage_mut(&mut self) -> Result<&mut Storage> {
        Arc::get_mut(&mut self.storage).ok_or_else(|| Error::shape("in-place write", "the tensor's storage is shared by another view"))
    }

    /// Host copy of the elements in logical (row-major) order. Reads back from a GPU if
    /// needed (one submit of everything recorded so far).
    pub async fn to_vec(&self) -> Result<Vec<f32>> {
        if let Storage::Cpu(s) = &*self.storage {
            return Ok(s.dense(&self.layout)?.into_owned());
        }
        let data = self.storage.read_f32().await?;
        Ok(self.layout.storage_indices().map(|i| data[i]).collect())
    }

    /// The same tensor on `device` (a contiguous copy; no-op if already there).
    pub async fn to_device(&self, device: &Device) -> Result<Tensor> {
        if self.device().same_as(device) {
            return Ok(self.clone());
        }
        Tensor::from_vec_on(self.to_vec().await?, self.dims().to_vec(), device)
    }

    /// A contiguous CPU slice of this tensor's elements, borrowing when possible.
    pub(crate) fn cpu_contiguous(&self) -> Result<Cow<'_, [f32]>> {
        match &*self.storage {
            Storage::Cpu(s) => s.dense(&self.layout),
            other => Err(Error::DeviceMismatch(format!("expected a CPU tensor, got one on {}", other.device().name()))),
        }
    }
}

impl std::fmt::Debug for Tensor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tensor({}, {:?}, {})", self.shape(), self.dtype, self.device().name())
    }
}

/// int8 products are summed in i32: longer rows could overflow.
fn check_int8_depth(k: usize) -> Result<()> {
    let max = crate::backend::cpu::INT8_MAX_K;
    if k > max {
        return Err(Error::shape("int8 weight", format!("{k} inputs per output; int8 sums in i32 allow at most {max}")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_vec_rejects_wrong_length_with_shape_in_message() {
        let err = Tensor::from_vec(vec![1.0; 5], [2, 3]).unwrap_err();
        assert!(err.to_string().contains("[2, 3]") && err.to_string().contains('5'), "{err}");
    }

    #[test]
    fn transposed_view_reads_in_logical_order() {
        let t = Tensor::from_vec((0..6).map(|x| x as f32).collect(), [2, 3]).unwrap();
        let v = pollster::block_on(t.transpose(0, 1).unwrap().to_vec()).unwrap();
        assert_eq!(v, vec![0.0, 3.0, 1.0, 4.0, 2.0, 5.0]);
    }

    #[test]
    fn a_packed_only_weight_reads_back_and_multiplies_like_the_plain_one() {
        for (k, n) in [(7, 5), (33, 40), (64, 384)] {
            let plain = Tensor::random([k, n], 3);
            let packed = plain.into_packed_weight().unwrap();
            assert_eq!(pollster::block_on(packed.to_vec()).unwrap(), pollster::block_on(plain.to_vec()).unwrap());
            let x = Tensor::random([5, k], 4);
            let want = pollster::block_on(crate::ops::matmul(&x, &plain)).unwrap();
            let got = pollster::block_on(crate::ops::matmul(&x, &packed)).unwrap();
            assert_eq!(pollster::block_on(got.to_vec()).unwrap(), pollster::block_on(want.to_vec()).unwrap());
            // A view of it (transpose) still reads correctly.
            let t = pollster::block_on(packed.transpose(0, 1).unwrap().to_vec()).unwrap();
            assert_eq!(t[1], pollster::block_on(plain.to_vec()).unwrap()[n]);
        }
        assert!(Tensor::random([2, 3, 4], 1).into_packed_weight().unwrap_err().to_string().contains("2-D"));
    }

    #[test]
    fn reshape_of_a_view_is_refused() {
        let t = Tensor::random([2, 3], 1).transpose(0, 1).unwrap();
        assert!(t.reshape([6]).unwrap_err().to_string().contains("contiguous"));
    }
}
