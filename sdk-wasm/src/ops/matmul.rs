//! Batched matrix multiply: [..., m, k] · [..., k, n] → [..., m, n]. A rank-2 right-hand side
//! is shared by every batch (a weight matrix).

use super::{common_device, gpu_of, params, to_u32};
use crate::device::cpu;
use crate::device::gpu::{Binding, Launch};
use crate::error::{Error, Result};
use crate::shaders;
use crate::tensor::Tensor;

struct Plan {
    batch: usize,
    m: usize,
    k: usize,
    n: usize,
    out_dims: Vec<usize>,
    b_shared: bool,
}

fn plan(a: &Tensor, b: &Tensor) -> Result<Plan> {
    let (ad, bd) = (a.dims(), b.dims());
    if ad.len() < 2 || bd.len() < 2 {
        return Err(Error::shape("matmul", format!("needs rank ≥ 2 operands, got {} and {}", a.shape(), b.shape())));
    }
    let (m, k) = (ad[ad.len() - 2], ad[ad.len() - 1]);
    let (k2, n) = (bd[bd.len() - 2], bd[bd.len() - 1]);
    if k != k2 {
        return Err(Error::shape("matmul", format!("inner dimensions differ: {} · {}", a.shape(), b.shape())));
    }
    let batch_a = &ad[..ad.len() - 2];
    let batch_b = &bd[..bd.len() - 2];
    let b_shared = batch_b.iter().product::<usize>() == 1 && batch_b.len() <= batch_a.len();
    if !b_shared && batch_a != batch_b {
        return Err(Error::shape("matmul", format!("batch dimensions differ: {} · {}", a.shape(), b.shape())));
    }
    let mut out_dims = batch_a.to_vec();
    out_dims.extend([m, n]);
    Ok(Plan { batch: batch_a.iter().product(), m, k, n, out_dims, b_shared })
}

pub async fn matmul(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let device = common_device("matmul", &[a, b])?;
    let plan = plan(a, b)?;
    let Some(ctx) = gpu_of(&device) else {
        let av = a.cpu_contiguous()?;
        let (mk, kn, mn) = (plan.m * plan.k, plan.k * plan.n, plan.m * plan.n);
        let mut out = vec![0.0; plan.batch * mn];
        if plan.b_shared {
            // One B for every batch: a weight, whose packing is cached on the tensor.
            let packed = b.packed_rhs(plan.k, plan.n)?;
            for i in 0..plan.batch {
                cpu::matmul_packed(&av[i * mk..(i + 1) * mk], &packed, plan.m, &mut out[i * mn..(i + 1) * mn]);
            }
        } else {
            let bv = b.cpu_contiguous()?;
            for i in 0..plan.batch {
                cpu::matmul(&av[i * mk..(i + 1) * mk], &bv[i * kn..(i + 1) * kn], plan.m, plan.k, plan.n, &mut out[i * mn..(i + 1) * mn]);
            }
        }
        return Tensor::from_vec(out, plan.out_dims);
    };

    // The kernel reads both operands through (batch, row, col) strides, so views are free.
    let batch_stride = |t: &Tensor, shared: bool| -> usize {
        let s = &t.layout().strides;
        if shared || s.len() < 3 {
            0
        } else {
            s[s.len() - 3]
        }
    };
    if (a.dims().len() > 3 && !a.layout().is_contiguous()) || (b.dims().len() > 3 && !b.layout().is_contiguous()) {
        return Err(Error::shape("matmul", "GPU operands of rank > 3 must be contiguous"));
    }
    let (sa, sb) = (&a.layout().strides, &b.layout().strides);
    let words = [
        plan.m,
        plan.n,
        plan.k,
        plan.batch,
        a.layout().offset,
        if a.dims().len() > 3 { plan.m * plan.k } else { batch_stride(a, false) },
        sa[sa.len() - 2],
        sa[sa.len() - 1],
        b.layout().offset,
        if b.dims().len() > 3 && !plan.b_shared { plan.k * plan.n } else { batch_stride(b, plan.b_shared) },
        sb[sb.len() - 2],
        sb[sb.len() - 1],
    ]
    .iter()
    .map(|&v| to_u32("matmul", "shape or stride", v))
    .collect::<Result<Vec<u32>>>()?;
    let (Some(a_buf), Some(b_buf)) = (a.gpu_buffer(), b.gpu_buffer()) else {
        return Err(Error::DeviceMismatch("matmul: GPU device but CPU storage".into()));
    };
    let out = ctx.alloc((plan.batch * plan.m * plan.n * 4) as u64);
    ctx.launch(Launch {
        shader: shaders::MATMUL,
        entry: "matmul",
        constants: vec![],
        bindings: vec![Binding::Storage(a_buf), Binding::Storage(b_buf), Binding::Storage(&out), params(&words)],
        workgroups: [
            to_u32("matmul", "column tiles", plan.n.div_ceil(64))?,
            to_u32("matmul", "row tiles", plan.m.div_ceil(64))?,
            to_u32("matmul", "batch", plan.batch)?,
        ],
    })
    .await?;
    Ok(Tensor::from_gpu(out, plan.out_dims.as_slice().into(), device))
}
