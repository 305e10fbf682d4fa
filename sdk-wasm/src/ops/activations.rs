//! Element-wise activations (every `UnaryOp`) and SwiGLU's gate.

use super::{check_f32, finish, operand};
use crate::backend::ActivationOps;
use crate::core::{Error, Result, UnaryOp};
use crate::tensor::storage::dispatch;
use crate::tensor::Tensor;

/// `op(x)` element-wise.
pub async fn unary(op: UnaryOp, x: &Tensor) -> Result<Tensor> {
    check_f32(op.name(), &[x])?;
    let out = dispatch!(op.name(), [x.storage()] => |be, s| be.unary(op, operand(s, x)));
    finish(out, x.dims().to_vec()).await
}

/// Exact (erf) GELU, element-wise.
pub async fn gelu(x: &Tensor) -> Result<Tensor> {
    unary(UnaryOp::Gelu, x).await
}

/// SwiGLU's gate: silu(gate) · up, element-wise.
pub async fn silu_mul(gate: &Tensor, up: &Tensor) -> Result<Tensor> {
    check_f32("silu_mul", &[gate, up])?;
    if gate.dims() != up.dims() {
        return Err(Error::shape("silu_mul", format!("{} vs {}", gate.shape(), up.shape())));
    }
    let out = dispatch!("silu_mul", [gate.storage(), up.storage()] => |be, g, u| be.silu_mul(operand(g, gate), operand(u, up)));
    finish(out, gate.dims().to_vec()).await
}
