//! Linear layers with block-quantized weights.

use super::{check_f32, finish, operand};
use crate::backend::QuantMatmulOps;
use crate::core::{Error, Result};
use crate::tensor::storage::dispatch;
use crate::tensor::{QuantMatrix, Tensor};

/// A linear layer with block-quantized weights: x [.., k] · Wᵀ (W is n×k) → [.., n].
pub async fn qmatmul(x: &Tensor, w: &QuantMatrix) -> Result<Tensor> {
    check_f32("qmatmul", &[x])?;
    let k = x.shape().last_dim();
    if k != w.cols {
        return Err(Error::shape("qmatmul", format!("input {} has {k} features, weights {:?} expect {}", x.shape(), w, w.cols)));
    }
    let mut dims = x.dims().to_vec();
    if let Some(last) = dims.last_mut() {
        *last = w.rows;
    }
    let shape = w.shape();
    let out = dispatch!("qmatmul", [x.storage(), w.storage()] => |be, s, ws| be.qmatmul(operand(s, x), ws, shape));
    finish(out, dims).await
}
