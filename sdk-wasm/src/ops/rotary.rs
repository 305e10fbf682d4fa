//! Rotary position embedding.

use super::{check_f32, finish, operand};
use crate::backend::RotaryOps;
use crate::core::{Error, Result};
use crate::tensor::storage::dispatch;
use crate::tensor::Tensor;

/// Rotary embedding of x [seq, heads, head_dim] with per-position tables cos/sin [seq, head_dim/2]
/// (pairs 2i, 2i+1 rotate together: llama.cpp's layout for GGUF LLaMA weights).
pub async fn rope(x: &Tensor, cos: &Tensor, sin: &Tensor) -> Result<Tensor> {
    check_f32("rope", &[x, cos, sin])?;
    let &[seq, _heads, head_dim] = x.dims() else {
        return Err(Error::shape("rope", format!("expected [seq, heads, head_dim], got {}", x.shape())));
    };
    if head_dim % 2 != 0 || cos.dims() != [seq, head_dim / 2] || sin.dims() != [seq, head_dim / 2] {
        return Err(Error::shape("rope", format!("tables {} / {} for input {}", cos.shape(), sin.shape(), x.shape())));
    }
    let out = dispatch!("rope", [x.storage(), cos.storage(), sin.storage()] => |be, s, c, n| {
        be.rope(operand(s, x), operand(c, cos), operand(n, sin))
    });
    finish(out, x.dims().to_vec()).await
}
