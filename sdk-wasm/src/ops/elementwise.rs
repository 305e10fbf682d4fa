//! add / mul (numpy broadcasting, rank ≤ 4 on GPU) and scale.

use super::{common_device, gpu_of, grid, params, require_dense, to_u32};
use crate::device::cpu::{self, BinaryOp};
use crate::device::gpu::{Binding, Launch};
use crate::device::Device;
use crate::error::{Error, Result};
use crate::shaders;
use crate::tensor::Tensor;

const WORKGROUP: u32 = 256;
const MAX_GPU_RANK: usize = 4;
const OP_SCALE: f64 = 2.0;

pub async fn add(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    binary("add", BinaryOp::Add, a, b).await
}

pub async fn mul(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    binary("mul", BinaryOp::Mul, a, b).await
}

async fn binary(name: &'static str, op: BinaryOp, a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let device = common_device(name, &[a, b])?;
    let out_dims = cpu::broadcast_shape(a.dims(), b.dims())?;
    let Some(ctx) = gpu_of(&device) else {
        let (data, dims) = cpu::binary(op, &a.cpu_contiguous()?, a.dims(), &b.cpu_contiguous()?, b.dims())?;
        return Tensor::from_vec(data, dims);
    };
    require_dense(name, a)?;
    require_dense(name, b)?;
    if out_dims.len() > MAX_GPU_RANK {
        return Err(Error::shape(name, format!("GPU broadcasting supports rank ≤ {MAX_GPU_RANK}, got {out_dims:?}")));
    }
    // Right-align everything into 4 dims; broadcast dims get stride 0.
    let pad = |v: Vec<usize>, fill: usize| -> Vec<usize> {
        let mut padded = vec![fill; MAX_GPU_RANK - v.len()];
        padded.extend(v);
        padded
    };
    let shape4 = pad(out_dims.clone(), 1);
    let sa = pad(cpu::broadcast_strides(a.dims(), &out_dims), 0);
    let sb = pad(cpu::broadcast_strides(b.dims(), &out_dims), 0);
    let len = out_dims.iter().product::<usize>();
    let mut words = vec![to_u32(name, "elements", len)?, 0, 0, 0];
    for v in shape4.iter().chain(&sa).chain(&sb) {
        words.push(to_u32(name, "shape or stride", *v)?);
    }
    run(&device, name, op.shader_code() as f64, a, b, &words, len, out_dims, ctx).await
}

/// `a * factor`.
pub async fn scale(a: &Tensor, factor: f32) -> Result<Tensor> {
    let device = common_device("scale", &[a])?;
    let Some(ctx) = gpu_of(&device) else {
        return Tensor::from_vec(cpu::scale(&a.cpu_contiguous()?, factor), a.dims().to_vec());
    };
    require_dense("scale", a)?;
    let len = a.elements();
    let words = vec![to_u32("scale", "elements", len)?, factor.to_bits(), 0, 0];
    run(&device, "scale", OP_SCALE, a, a, &words, len, a.dims().to_vec(), ctx).await
}

#[allow(clippy::too_many_arguments)]
async fn run(
    device: &Device,
    name: &'static str,
    op_code: f64,
    a: &Tensor,
    b: &Tensor,
    words: &[u32],
    len: usize,
    out_dims: Vec<usize>,
    ctx: &crate::device::gpu::GpuContext,
) -> Result<Tensor> {
    let (Some(a_buf), Some(b_buf)) = (a.gpu_buffer(), b.gpu_buffer()) else {
        return Err(Error::DeviceMismatch(format!("{name}: GPU device but CPU storage")));
    };
    let mut words = words.to_vec();
    words.resize(16, 0);
    let out = ctx.alloc((len * 4) as u64);
    ctx.launch(Launch {
        shader: shaders::ELEMENTWISE,
        entry: "binary",
        constants: vec![("OP", op_code), ("WORKGROUP", WORKGROUP as f64)],
        bindings: vec![Binding::Storage(a_buf), Binding::Storage(b_buf), Binding::Storage(&out), params(&words)],
        workgroups: grid(to_u32(name, "workgroups", len.div_ceil(WORKGROUP as usize))?),
    })
    .await?;
    Ok(Tensor::from_gpu(out, out_dims.as_slice().into(), device.clone()))
}
