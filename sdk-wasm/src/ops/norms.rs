//! softmax, layernorm and rmsnorm over the last dimension.

use super::{check_f32, finish, operand};
use crate::backend::NormOps;
use crate::core::{Error, Result};
use crate::tensor::storage::dispatch;
use crate::tensor::Tensor;

/// Softmax of every row (last dimension), numerically stable.
pub async fn softmax(x: &Tensor) -> Result<Tensor> {
    check_f32("softmax", &[x])?;
    let cols = x.shape().last_dim();
    let out = dispatch!("softmax", [x.storage()] => |be, s| be.softmax(operand(s, x), cols));
    finish(out, x.dims().to_vec()).await
}

/// Per-column `gamma` (and `beta`) must match the last dimension.
fn check_columns(op: &'static str, x: &Tensor, params: &[(&str, &Tensor)]) -> Result<usize> {
    let cols = x.shape().last_dim();
    match params.iter().find(|(_, p)| p.elements() != cols) {
        Some((name, p)) => Err(Error::shape(op, format!("{name} {} must have {cols} elements (last dim of {})", p.shape(), x.shape()))),
        None => Ok(cols),
    }
}

/// Layer normalisation of every row with per-column `gamma` and `beta`.
pub async fn layernorm(x: &Tensor, gamma: &Tensor, beta: &Tensor, eps: f32) -> Result<Tensor> {
    check_f32("layernorm", &[x, gamma, beta])?;
    let cols = check_columns("layernorm", x, &[("gamma", gamma), ("beta", beta)])?;
    let out = dispatch!("layernorm", [x.storage(), gamma.storage(), beta.storage()] => |be, s, g, b| {
        be.layernorm(operand(s, x), operand(g, gamma), operand(b, beta), cols, eps)
    });
    finish(out, x.dims().to_vec()).await
}

/// RMS normalisation of every row (last dimension) with per-column `gamma`.
pub async fn rmsnorm(x: &Tensor, gamma: &Tensor, eps: f32) -> Result<Tensor> {
    check_f32("rmsnorm", &[x, gamma])?;
    let cols = check_columns("rmsnorm", x, &[("gamma", gamma)])?;
    let out = dispatch!("rmsnorm", [x.storage(), gamma.storage()] => |be, s, g| be.rmsnorm(operand(s, x), operand(g, gamma), cols, eps));
    finish(out, x.dims().to_vec()).await
}
