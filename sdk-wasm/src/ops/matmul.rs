//! Batched matrix multiply: [..., m, k] · [..., k, n] → [..., m, n]. A rank-2 right-hand side
//! is shared by every batch (a weight matrix).

use super::{check_f32, finish, operand};
use crate::backend::{MatmulOps, MatmulPlan};
use crate::core::{Error, Result};
use crate::tensor::storage::dispatch;
use crate::tensor::Tensor;

fn plan(a: &Tensor, b: &Tensor) -> Result<(MatmulPlan, Vec<usize>)> {
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
    Ok((MatmulPlan { batch: batch_a.iter().product(), m, k, n, b_shared }, out_dims))
}

pub async fn matmul(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    check_f32("matmul", &[a, b])?;
    let (plan, out_dims) = plan(a, b)?;
    let out = dispatch!("matmul", [a.storage(), b.storage()] => |be, sa, sb| be.matmul(operand(sa, a), operand(sb, b), &plan));
    finish(out, out_dims).await
}
