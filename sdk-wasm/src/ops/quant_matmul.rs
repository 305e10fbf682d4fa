//! Linear layers with block-quantized weights.

use super::{check_f32, finish, operand};
use crate::backend::cpu::INT8_ACTIVATION_BLOCK as INT8_BLOCK;
use crate::backend::{Activations, QuantMatmulOps, QuantShape};
use crate::core::{Error, Result};
use crate::tensor::storage::dispatch;
use crate::tensor::{QuantMatrix, Tensor};

/// A linear layer with block-quantized weights: x [.., k] · Wᵀ (W is n×k) → [.., n].
pub async fn qmatmul(x: &Tensor, w: &QuantMatrix) -> Result<Tensor> {
    qmatmul_with(x, w, Activations::F32).await
}

/// `qmatmul` with the inputs in `activations` precision (8-bit: the CPU backend only, k a
/// multiple of 32).
pub async fn qmatmul_with(x: &Tensor, w: &QuantMatrix, activations: Activations) -> Result<Tensor> {
    check_f32("qmatmul", &[x])?;
    let k = x.shape().last_dim();
    if k != w.cols {
        return Err(Error::shape("qmatmul", format!("input {} has {k} features, weights {:?} expect {}", x.shape(), w, w.cols)));
    }
    if activations == Activations::Int8 && !k.is_multiple_of(INT8_BLOCK) {
        return Err(Error::shape(
            "qmatmul",
            format!("8-bit activations round in blocks of {INT8_BLOCK}; {k} features are not whole blocks"),
        ));
    }
    let mut dims = x.dims().to_vec();
    if let Some(last) = dims.last_mut() {
        *last = w.rows;
    }
    let shape = QuantShape { activations, ..w.shape() };
    let out = dispatch!("qmatmul", [x.storage(), w.storage()] => |be, s, ws| be.qmatmul(operand(s, x), ws, shape));
    finish(out, dims).await
}
