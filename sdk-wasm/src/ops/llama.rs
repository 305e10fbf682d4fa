//! The ops a LLaMA-family decoder adds to the BERT set: quantized linear layers, RMSNorm,
//! rotary embeddings, the SwiGLU gate and in-place KV-cache writes. CPU and WGSL each.

use super::{common_device, gpu_of, grid, params, require_dense, to_u32};
use crate::device::cpu;
use crate::device::gpu::{Binding, Launch};
use crate::error::{Error, Result};
use crate::shaders;
use crate::tensor::{DType, QuantMatrix, Tensor};

const WORKGROUP: u32 = 256;

fn format_code(dtype: DType) -> Result<f64> {
    Ok(match dtype {
        DType::Q4_0 => 2.0,
        DType::Q4_1 => 3.0,
        DType::Q8_0 => 8.0,
        DType::Q2 => 20.0,
        DType::Q3 => 21.0,
        other => return Err(Error::UnsupportedDType { op: "qmatmul", dtype: other }),
    })
}

fn missing(op: &str) -> Error {
    Error::DeviceMismatch(format!("{op}: GPU device but CPU storage"))
}

/// A linear layer with block-quantized weights: x [.., k] · Wᵀ (W is n×k) → [.., n].
pub async fn qmatmul(x: &Tensor, w: &QuantMatrix) -> Result<Tensor> {
    let device = common_device("qmatmul", &[x])?;
    if !device.same_as(w.device()) {
        return Err(Error::DeviceMismatch(format!("qmatmul: input on {}, weights on {}", device.name(), w.device().name())));
    }
    let k = x.shape().last_dim();
    if k != w.cols {
        return Err(Error::shape("qmatmul", format!("input {} has {k} features, weights {:?} expect {}", x.shape(), w, w.cols)));
    }
    let m = x.elements() / k.max(1);
    let mut dims = x.dims().to_vec();
    if let Some(last) = dims.last_mut() {
        *last = w.rows;
    }
    let code = format_code(w.dtype)?;
    let Some(ctx) = gpu_of(&device) else {
        let bytes = w.cpu_bytes().ok_or_else(|| missing("qmatmul"))?;
        let mut out = vec![0.0; m * w.rows];
        cpu::qmatmul(&x.cpu_contiguous()?, m, k, bytes, w.dtype, w.rows, &mut out);
        return Tensor::from_vec(out, dims);
    };
    require_dense("qmatmul", x)?;
    let out = ctx.alloc((m * w.rows * 4) as u64);
    let t = |what, v| to_u32("qmatmul", what, v);
    ctx.launch(Launch {
        shader: shaders::QMATMUL,
        entry: "qmatmul",
        constants: vec![("FORMAT", code)],
        bindings: vec![
            Binding::Storage(x.gpu_buffer().ok_or_else(|| missing("qmatmul"))?),
            Binding::Storage(w.gpu_buffer().ok_or_else(|| missing("qmatmul"))?),
            Binding::Storage(&out),
            params(&[t("rows", m)?, t("outputs", w.rows)?, t("features", k)?, t("row bytes", w.row_bytes())?]),
        ],
        workgroups: grid(t("outputs", m * w.rows)?),
    })
    .await?;
    Ok(Tensor::from_gpu(out, dims.as_slice().into(), device))
}

/// RMS normalisation of every row (last dimension) with per-column `gamma`.
pub async fn rmsnorm(x: &Tensor, gamma: &Tensor, eps: f32) -> Result<Tensor> {
    let device = common_device("rmsnorm", &[x, gamma])?;
    let cols = x.shape().last_dim();
    if gamma.elements() != cols {
        return Err(Error::shape("rmsnorm", format!("gamma {} must have {cols} elements (last dim of {})", gamma.shape(), x.shape())));
    }
    let rows = x.elements() / cols.max(1);
    let Some(ctx) = gpu_of(&device) else {
        let (xv, g) = (x.cpu_contiguous()?, gamma.cpu_contiguous()?);
        let mut out = vec![0.0; xv.len()];
        for (row, dst) in xv.chunks_exact(cols.max(1)).zip(out.chunks_exact_mut(cols.max(1))) {
            let mean_sq = row.iter().map(|v| v * v).sum::<f32>() / cols as f32;
            let inv = 1.0 / (mean_sq + eps).sqrt();
            for ((d, &v), &gc) in dst.iter_mut().zip(row).zip(g.iter()) {
                *d = v * inv * gc;
            }
        }
        return Tensor::from_vec(out, x.dims().to_vec());
    };
    require_dense("rmsnorm", x)?;
    require_dense("rmsnorm", gamma)?;
    let out = ctx.alloc((x.elements() * 4) as u64);
    ctx.launch(Launch {
        shader: shaders::RMSNORM,
        entry: "rmsnorm",
        constants: vec![],
        bindings: vec![
            Binding::Storage(x.gpu_buffer().ok_or_else(|| missing("rmsnorm"))?),
            Binding::Storage(gamma.gpu_buffer().ok_or_else(|| missing("rmsnorm"))?),
            Binding::Storage(&out),
            params(&[to_u32("rmsnorm", "rows", rows)?, to_u32("rmsnorm", "cols", cols)?, eps.to_bits()]),
        ],
        workgroups: grid(to_u32("rmsnorm", "rows", rows)?),
    })
    .await?;
    Ok(Tensor::from_gpu(out, x.shape().clone(), device))
}

/// Rotary embedding of x [seq, heads, head_dim] with per-position tables cos/sin [seq, head_dim/2]
/// (pairs 2i, 2i+1 rotate together: llama.cpp's layout for GGUF LLaMA weights).
pub async fn rope(x: &Tensor, cos: &Tensor, sin: &Tensor) -> Result<Tensor> {
    let device = common_device("rope", &[x, cos, sin])?;
    let &[seq, heads, head_dim] = x.dims() else {
        return Err(Error::shape("rope", format!("expected [seq, heads, head_dim], got {}", x.shape())));
    };
    if head_dim % 2 != 0 || cos.dims() != [seq, head_dim / 2] || sin.dims() != [seq, head_dim / 2] {
        return Err(Error::shape("rope", format!("tables {} / {} for input {}", cos.shape(), sin.shape(), x.shape())));
    }
    let half = head_dim / 2;
    let Some(ctx) = gpu_of(&device) else {
        let (xv, c, s) = (x.cpu_contiguous()?, cos.cpu_contiguous()?, sin.cpu_contiguous()?);
        let mut out = xv.to_vec();
        for (pair, o) in out.chunks_exact_mut(2).enumerate() {
            let t = (pair / (heads * half)) * half + pair % half;
            let (a, b) = (o[0], o[1]);
            o[0] = a * c[t] - b * s[t];
            o[1] = a * s[t] + b * c[t];
        }
        return Tensor::from_vec(out, x.dims().to_vec());
    };
    for t in [x, cos, sin] {
        require_dense("rope", t)?;
    }
    let out = ctx.alloc((x.elements() * 4) as u64);
    let pairs = x.elements() / 2;
    ctx.launch(Launch {
        shader: shaders::ROPE,
        entry: "rope",
        constants: vec![("WORKGROUP", WORKGROUP as f64)],
        bindings: vec![
            Binding::Storage(x.gpu_buffer().ok_or_else(|| missing("rope"))?),
            Binding::Storage(cos.gpu_buffer().ok_or_else(|| missing("rope"))?),
            Binding::Storage(sin.gpu_buffer().ok_or_else(|| missing("rope"))?),
            Binding::Storage(&out),
            params(&[to_u32("rope", "seq", seq)?, to_u32("rope", "heads", heads)?, to_u32("rope", "head_dim", head_dim)?]),
        ],
        workgroups: grid(to_u32("rope", "workgroups", pairs.div_ceil(WORKGROUP as usize))?),
    })
    .await?;
    Ok(Tensor::from_gpu(out, x.shape().clone(), device))
}

/// SwiGLU's gate: silu(gate) · up, elementwise.
pub async fn silu_mul(gate: &Tensor, up: &Tensor) -> Result<Tensor> {
    let device = common_device("silu_mul", &[gate, up])?;
    if gate.dims() != up.dims() {
        return Err(Error::shape("silu_mul", format!("{} vs {}", gate.shape(), up.shape())));
    }
    let Some(ctx) = gpu_of(&device) else {
        let (g, u) = (gate.cpu_contiguous()?, up.cpu_contiguous()?);
        let out = g.iter().zip(u.iter()).map(|(&g, &u)| g / (1.0 + (-g).exp()) * u).collect();
        return Tensor::from_vec(out, gate.dims().to_vec());
    };
    require_dense("silu_mul", gate)?;
    require_dense("silu_mul", up)?;
    let len = gate.elements();
    let out = ctx.alloc((len * 4) as u64);
    ctx.launch(Launch {
        shader: shaders::SWIGLU,
        entry: "silu_mul",
        constants: vec![("WORKGROUP", WORKGROUP as f64)],
        bindings: vec![
            Binding::Storage(gate.gpu_buffer().ok_or_else(|| missing("silu_mul"))?),
            Binding::Storage(up.gpu_buffer().ok_or_else(|| missing("silu_mul"))?),
            Binding::Storage(&out),
            params(&[to_u32("silu_mul", "elements", len)?]),
        ],
        workgroups: grid(to_u32("silu_mul", "workgroups", len.div_ceil(WORKGROUP as usize))?),
    })
    .await?;
    Ok(Tensor::from_gpu(out, gate.shape().clone(), device))
}

/// Write `rows` [seq, heads, dim] into `cache` [heads, capacity, dim] at positions
/// `start..start + seq`, in place (the cache's storage is updated; views of it see the rows).
pub async fn kv_write(cache: &mut Tensor, rows: &Tensor, start: usize) -> Result<()> {
    let device = common_device("kv_write", &[cache, rows])?;
    let (&[heads, capacity, dim], &[seq, rh, rd]) = (cache.dims(), rows.dims()) else {
        return Err(Error::shape("kv_write", format!("cache {} / rows {}", cache.shape(), rows.shape())));
    };
    if rh != heads || rd != dim || start + seq > capacity {
        return Err(Error::shape(
            "kv_write",
            format!("rows {} at {start} into cache {} (capacity {capacity})", rows.shape(), cache.shape()),
        ));
    }
    let Some(ctx) = gpu_of(&device) else {
        let src = rows.cpu_contiguous()?.into_owned();
        let data = cache.cpu_data_mut()?;
        for (i, &v) in src.iter().enumerate() {
            let (s, h, c) = (i / (heads * dim), (i / dim) % heads, i % dim);
            data[(h * capacity + start + s) * dim + c] = v;
        }
        return Ok(());
    };
    require_dense("kv_write", rows)?;
    let len = rows.elements();
    let t = |what, v| to_u32("kv_write", what, v);
    ctx.launch(Launch {
        shader: shaders::KV_WRITE,
        entry: "kv_write",
        constants: vec![("WORKGROUP", WORKGROUP as f64)],
        bindings: vec![
            Binding::Storage(rows.gpu_buffer().ok_or_else(|| missing("kv_write"))?),
            Binding::Storage(cache.gpu_buffer().ok_or_else(|| missing("kv_write"))?),
            params(&[t("seq", seq)?, t("heads", heads)?, t("dim", dim)?, t("capacity", capacity)?, t("start", start)?]),
        ],
        workgroups: grid(t("workgroups", len.div_ceil(WORKGROUP as usize))?),
    })
    .await
}
