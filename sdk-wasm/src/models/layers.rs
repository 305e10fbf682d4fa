//! The layers transformer encoders share (BERT, ViT): a linear map and a layer norm.

use crate::core::error::Result;
use crate::ops;
use crate::tensor::Tensor;

/// `x · W^T + b`, with W stored pre-transposed ([in, out], contiguous) at load time.
pub(crate) struct Linear {
    pub weight_t: Tensor,
    pub bias: Tensor,
}

impl Linear {
    pub async fn forward(&self, x: &Tensor) -> Result<Tensor> {
        ops::add(&ops::matmul(x, &self.weight_t).await?, &self.bias).await
    }
}

pub(crate) struct LayerNorm {
    pub gamma: Tensor,
    pub beta: Tensor,
}

impl LayerNorm {
    pub async fn forward(&self, x: &Tensor, eps: f32) -> Result<Tensor> {
        ops::layernorm(x, &self.gamma, &self.beta, eps).await
    }
}

/// [batch·seq, heads·d] → [batch·heads, seq, d], contiguous (the layout attention reads).
pub(crate) async fn split_heads(t: &Tensor, batch: usize, seq: usize, heads: usize) -> Result<Tensor> {
    let d = t.shape().last_dim() / heads;
    ops::contiguous(&t.reshape([batch, seq, heads, d])?.permute(&[0, 2, 1, 3])?).await?.reshape([batch * heads, seq, d])
}

/// [batch·heads, seq, d] → [batch·seq, heads·d], the inverse of [`split_heads`].
pub(crate) async fn merge_heads(t: &Tensor, batch: usize, seq: usize, heads: usize) -> Result<Tensor> {
    let d = t.shape().last_dim();
    ops::contiguous(&t.reshape([batch, heads, seq, d])?.permute(&[0, 2, 1, 3])?).await?.reshape([batch * seq, heads * d])
}
