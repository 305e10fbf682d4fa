//! Ops, one family per file. Each op takes tensors on one device and runs there;
//! model code calls these and never names a device.

mod activation;
mod attention;
mod elementwise;
mod layout;
mod llama;
mod matmul;
mod normalize;

pub use activation::gelu;
pub use attention::attention;
pub use elementwise::{add, mul, scale};
pub use layout::{contiguous, gather_rows};
pub use llama::{kv_write, qmatmul, rmsnorm, rope, silu_mul};
pub use matmul::matmul;
pub use normalize::{layernorm, softmax};

use crate::device::gpu::{Binding, GpuContext};
use crate::device::Device;
use crate::error::{Error, Result};
use crate::tensor::{DType, Tensor};
use std::sync::Arc;

/// The device all `inputs` share, or an error naming the op.
fn common_device(op: &'static str, inputs: &[&Tensor]) -> Result<Device> {
    let first = inputs[0].device();
    for t in inputs {
        if t.dtype() != DType::F32 {
            return Err(Error::UnsupportedDType { op, dtype: t.dtype() });
        }
        if !t.device().same_as(first) {
            return Err(Error::DeviceMismatch(format!("{op}: {} and {}", first.name(), t.device().name())));
        }
    }
    Ok(first.clone())
}

/// GPU kernels other than matmul read plain contiguous buffers.
fn require_dense(op: &'static str, t: &Tensor) -> Result<()> {
    if t.layout().is_contiguous() && t.layout().offset == 0 {
        Ok(())
    } else {
        Err(Error::shape(op, "GPU input is a strided view; this op needs a contiguous tensor"))
    }
}

/// A uniform block from 32-bit words, padded to the 16-byte granularity WGSL uniforms use.
fn params(words: &[u32]) -> Binding<'static> {
    let mut bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    bytes.resize(bytes.len().div_ceil(16).max(1) * 16, 0);
    Binding::Uniform(bytes)
}

/// Spread `groups` workgroups over a 2-D grid (each dimension is capped at 65535).
fn grid(groups: u32) -> [u32; 3] {
    let x = groups.clamp(1, 65535);
    [x, groups.div_ceil(x).max(1), 1]
}

fn gpu_of(device: &Device) -> Option<&Arc<GpuContext>> {
    match device {
        Device::Gpu(ctx) => Some(ctx),
        Device::Cpu => None,
    }
}

fn to_u32(op: &'static str, what: &str, v: usize) -> Result<u32> {
    u32::try_from(v).map_err(|_| Error::shape(op, format!("{what} = {v} exceeds the GPU's 32-bit indexing")))
}
