//! Batched matrix multiply: [..., m, k] · [..., k, n] → [..., m, n]. A rank-2 right-hand side
//! is shared by every batch (a weight matrix). `linear` is a product plus a bias per output
//! column, fused where the backend can.

use super::{add, check_f32, finish, operand};
use crate::backend::{MatmulOps, MatmulPlan};
use crate::core::{Error, Result};
use crate::tensor::storage::dispatch;
use crate::tensor::Tensor;

fn plan(op: &'static str, a: &Tensor, b: &Tensor) -> Result<(MatmulPlan, Vec<usize>)> {
    let (ad, bd) = (a.dims(), b.dims());
    if ad.len() < 2 || bd.len() < 2 {
        return Err(Error::shape(op, format!("needs rank ≥ 2 operands, got {} and {}", a.shape(), b.shape())));
    }
    let (m, k) = (ad[ad.len() - 2], ad[ad.len() - 1]);
    let (k2, n) = (bd[bd.len() - 2], bd[bd.len() - 1]);
    if k != k2 {
        return Err(Error::shape(op, format!("inner dimensions differ: {} · {}", a.shape(), b.shape())));
    }
    let batch_a = &ad[..ad.len() - 2];
    let batch_b = &bd[..bd.len() - 2];
    let b_shared = batch_b.iter().product::<usize>() == 1 && batch_b.len() <= batch_a.len();
    if !b_shared && batch_a != batch_b {
        return Err(Error::shape(op, format!("batch dimensions differ: {} · {}", a.shape(), b.shape())));
    }
    let mut out_dims = batch_a.to_vec();
    out_dims.extend([m, n]);
    Ok((MatmulPlan { batch: batch_a.iter().product(), m, k, n, b_shared }, out_dims))
}

fn check_bias(plan: &MatmulPlan, bias: &Tensor) -> Result<()> {
    let bd = bias.dims();
    if bd.last() != Some(&plan.n) || bd.iter().rev().skip(1).any(|&d| d != 1) {
        return Err(Error::shape("linear", format!("the bias must hold one value per output column ({}), got {}", plan.n, bias.shape())));
    }
    Ok(())
}

pub async fn matmul(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    check_f32("matmul", &[a, b])?;
    let (plan, out_dims) = plan("matmul", a, b)?;
    let out = dispatch!("matmul", [a.storage(), b.storage()] => |be, sa, sb| be.matmul(operand(sa, a), operand(sb, b), &plan));
    finish(out, out_dims).await
}

/// `a·b + bias`, the bias (n values, as [n] or [1, …, n]) added to every output row: a linear
/// layer. Backends that can add the bias as they write the product do (the CPU); the others
/// run a matmul and an add.
pub async fn linear(a: &Tensor, b: &Tensor, bias: &Tensor) -> Result<Tensor> {
    check_f32("linear", &[a, b, bias])?;
    let (plan, out_dims) = plan("linear", a, b)?;
    check_bias(&plan, bias)?;
    let fused = dispatch!(optional "linear", [a.storage(), b.storage(), bias.storage()] => |be, sa, sb, sc| {
        be.matmul_bias(operand(sa, a), operand(sb, b), operand(sc, bias), &plan)
    });
    match fused {
        Some(out) => finish(out, out_dims).await,
        None => add(&matmul(a, b).await?, bias).await,
    }
}

/// `linear(a, b, bias) + residual`, the residual of the output's exact shape (a transformer's
/// skip connection): added as the product is written where the backend can (the CPU), else
/// an add of its own. The sums are the same either way: (a·b + bias) + residual.
pub async fn linear_residual(a: &Tensor, b: &Tensor, bias: &Tensor, residual: &Tensor) -> Result<Tensor> {
    check_f32("linear", &[a, b, bias, residual])?;
    let (plan, out_dims) = plan("linear", a, b)?;
    check_bias(&plan, bias)?;
    if residual.dims() != out_dims.as_slice() {
        return Err(Error::shape("linear", format!("the residual must have the output's shape {out_dims:?}, got {}", residual.shape())));
    }
    let fused = dispatch!(optional "linear", [a.storage(), b.storage(), bias.storage(), residual.storage()] => |be, sa, sb, sc, sd| {
        be.matmul_bias_residual(operand(sa, a), operand(sb, b), operand(sc, bias), operand(sd, residual), &plan)
    });
    match fused {
        Some(out) => finish(out, out_dims).await,
        None => add(&linear(a, b, bias).await?, residual).await,
    }
}
