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
        ops::linear(x, &self.weight_t, &self.bias).await
    }

    /// `forward(x) + residual` (a skip connection), summed as the product is written.
    pub async fn forward_residual(&self, x: &Tensor, residual: &Tensor) -> Result<Tensor> {
        ops::linear_residual(x, &self.weight_t, &self.bias, residual).await
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

/// A matmul's right-hand side as `device` wants it: packed panels on the CPU (a weight there is
/// only ever a right-hand side), the plain tensor elsewhere.
pub(crate) async fn matmul_operand(w: Tensor, device: &crate::device::Device) -> Result<Tensor> {
    match device {
        crate::device::Device::Cpu => w.into_packed_weight(),
        _ => w.to_device(device).await,
    }
}

/// `Σ_k table[ids_k]`: the rows each id list picks, summed list by list — how a convolution
/// computed as one matmul of tap products adds up each output's taps.
pub(crate) async fn sum_of_rows(table: &Tensor, id_lists: impl IntoIterator<Item = Vec<u32>>) -> Result<Tensor> {
    let mut sum: Option<Tensor> = None;
    for ids in id_lists {
        let rows = ops::gather_rows(table, &ids).await?;
        sum = Some(match sum {
            None => rows,
            Some(s) => ops::add(&s, &rows).await?,
        });
    }
    sum.ok_or_else(|| crate::core::error::Error::Model("a sum of no row lists".into()))
}
