//! softmax and layernorm over the last dimension.

use super::{common_device, gpu_of, grid, params, require_dense, to_u32};
use crate::device::cpu;
use crate::device::gpu::{Binding, Launch};
use crate::error::{Error, Result};
use crate::shaders;
use crate::tensor::Tensor;

/// Softmax of every row (last dimension), numerically stable.
pub async fn softmax(x: &Tensor) -> Result<Tensor> {
    let device = common_device("softmax", &[x])?;
    let cols = x.shape().last_dim();
    let Some(ctx) = gpu_of(&device) else {
        return Tensor::from_vec(cpu::softmax(&x.cpu_contiguous()?, cols), x.dims().to_vec());
    };
    require_dense("softmax", x)?;
    let rows = x.elements() / cols.max(1);
    let x_buf = x.gpu_buffer().ok_or_else(|| Error::DeviceMismatch("softmax: GPU device but CPU storage".into()))?;
    let out = ctx.alloc((x.elements() * 4) as u64);
    ctx.launch(Launch {
        shader: shaders::SOFTMAX,
        entry: "softmax",
        constants: vec![],
        bindings: vec![
            Binding::Storage(x_buf),
            Binding::Storage(&out),
            params(&[to_u32("softmax", "rows", rows)?, to_u32("softmax", "cols", cols)?]),
        ],
        workgroups: grid(to_u32("softmax", "rows", rows)?),
    })
    .await?;
    Ok(Tensor::from_gpu(out, x.shape().clone(), device))
}

/// Layer normalisation of every row with per-column `gamma` and `beta`.
pub async fn layernorm(x: &Tensor, gamma: &Tensor, beta: &Tensor, eps: f32) -> Result<Tensor> {
    let device = common_device("layernorm", &[x, gamma, beta])?;
    let cols = x.shape().last_dim();
    if gamma.elements() != cols || beta.elements() != cols {
        return Err(Error::shape(
            "layernorm",
            format!("gamma {} and beta {} must have {cols} elements (last dim of {})", gamma.shape(), beta.shape(), x.shape()),
        ));
    }
    let Some(ctx) = gpu_of(&device) else {
        let out = cpu::layernorm(&x.cpu_contiguous()?, &gamma.cpu_contiguous()?, &beta.cpu_contiguous()?, cols, eps);
        return Tensor::from_vec(out, x.dims().to_vec());
    };
    for t in [x, gamma, beta] {
        require_dense("layernorm", t)?;
    }
    let rows = x.elements() / cols.max(1);
    let missing = || Error::DeviceMismatch("layernorm: GPU device but CPU storage".into());
    let out = ctx.alloc((x.elements() * 4) as u64);
    ctx.launch(Launch {
        shader: shaders::LAYERNORM,
        entry: "layernorm",
        constants: vec![],
        bindings: vec![
            Binding::Storage(x.gpu_buffer().ok_or_else(missing)?),
            Binding::Storage(gamma.gpu_buffer().ok_or_else(missing)?),
            Binding::Storage(beta.gpu_buffer().ok_or_else(missing)?),
            Binding::Storage(&out),
            params(&[to_u32("layernorm", "rows", rows)?, to_u32("layernorm", "cols", cols)?, eps.to_bits()]),
        ],
        workgroups: grid(to_u32("layernorm", "rows", rows)?),
    })
    .await?;
    Ok(Tensor::from_gpu(out, x.shape().clone(), device))
}
