//! add / mul (numpy broadcasting) and scale.

use super::{check_f32, finish, operand};
use crate::backend::ElementwiseOps;
use crate::core::{broadcast_shape, BinaryOp, Error, Result};
use crate::tensor::storage::dispatch;
use crate::tensor::Tensor;

pub async fn add(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    binary(BinaryOp::Add, a, b).await
}

pub async fn mul(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    binary(BinaryOp::Mul, a, b).await
}

async fn binary(op: BinaryOp, a: &Tensor, b: &Tensor) -> Result<Tensor> {
    check_f32(op.name(), &[a, b])?;
    let out_dims = broadcast_shape(a.dims(), b.dims())
        .map_err(|_| Error::shape(op.name(), format!("{} and {} do not broadcast", a.shape(), b.shape())))?;
    let out = dispatch!(op.name(), [a.storage(), b.storage()] => |be, sa, sb| be.binary(op, operand(sa, a), operand(sb, b), &out_dims));
    finish(out, out_dims).await
}

/// `a * factor`.
pub async fn scale(a: &Tensor, factor: f32) -> Result<Tensor> {
    check_f32("scale", &[a])?;
    let out = dispatch!("scale", [a.storage()] => |be, s| be.scale(operand(s, a), factor));
    finish(out, a.dims().to_vec()).await
}
