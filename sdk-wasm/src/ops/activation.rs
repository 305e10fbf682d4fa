//! Activations.

use super::{common_device, gpu_of, grid, params, require_dense, to_u32};
use crate::device::cpu;
use crate::device::gpu::{Binding, Launch};
use crate::core::error::{Error, Result};
use crate::shaders;
use crate::tensor::Tensor;

const WORKGROUP: u32 = 256;

/// Exact (erf) GELU, elementwise.
pub async fn gelu(x: &Tensor) -> Result<Tensor> {
    let device = common_device("gelu", &[x])?;
    let Some(ctx) = gpu_of(&device) else {
        return Tensor::from_vec(cpu::gelu(&x.cpu_contiguous()?), x.dims().to_vec());
    };
    require_dense("gelu", x)?;
    let len = x.elements();
    let x_buf = x.gpu_buffer().ok_or_else(|| Error::DeviceMismatch("gelu: GPU device but CPU storage".into()))?;
    let out = ctx.alloc((len * 4) as u64);
    ctx.launch(Launch {
        shader: shaders::ACTIVATION,
        entry: "gelu",
        constants: vec![("WORKGROUP", WORKGROUP as f64)],
        bindings: vec![Binding::Storage(x_buf), Binding::Storage(&out), params(&[to_u32("gelu", "elements", len)?])],
        workgroups: grid(to_u32("gelu", "workgroups", len.div_ceil(WORKGROUP as usize))?),
    })
    .await?;
    Ok(Tensor::from_gpu(out, x.shape().clone(), device))
}
