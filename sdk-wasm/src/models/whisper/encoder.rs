//! Whisper's audio encoder: two 3-wide convolutions with GELU (the second with stride 2,
//! 3000 mel frames → 1500 positions), sinusoidal positions, pre-norm transformer layers and a
//! final layer norm. The first convolution's windows are cut from the mel features on the
//! host; the second runs on the device as one matmul producing each position's three tap
//! products (plus a block of exact zeros for the padding) summed by three row gathers.

use super::weights::Weights;
use crate::core::error::Result;
use crate::core::UnaryOp;
use crate::device::Device;
use crate::models::layers::{matmul_operand, merge_heads, sum_of_rows, LayerNorm, Linear};
use crate::ops;
use crate::tensor::Tensor;

pub(super) struct Layer {
    pub attention_norm: LayerNorm,
    /// Fused query, key, value: [d, 3d].
    pub qkv: Linear,
    pub out: Linear,
    pub ffn_norm: LayerNorm,
    pub fc1: Linear,
    pub fc2: Linear,
}

impl Layer {
    pub async fn load(w: &Weights<'_, '_>, p: &str, d: usize) -> Result<Layer> {
        Ok(Layer {
            attention_norm: w.norm(&format!("{p}/self_attention/layer_norm"), d).await?,
            qkv: w.linear(&format!("{p}/self_attention/linear_0"), d, 3 * d).await?,
            out: w.linear(&format!("{p}/self_attention/linear_1"), d, d).await?,
            ffn_norm: w.norm(&format!("{p}/ffn/layer_norm"), d).await?,
            fc1: w.linear(&format!("{p}/ffn/linear_0"), d, 4 * d).await?,
            fc2: w.linear(&format!("{p}/ffn/linear_1"), 4 * d, d).await?,
        })
    }

    /// x + ffn(norm(x)).
    pub async fn feed_forward(&self, x: &Tensor) -> Result<Tensor> {
        let h = self.ffn_norm.forward(x, super::LAYER_NORM_EPS).await?;
        let ff = self.fc2.forward(&ops::unary(UnaryOp::Gelu, &self.fc1.forward(&h).await?).await?).await?;
        ops::add(x, &ff).await
    }
}

/// Columns `part·d..(part+1)·d` of a fused [seq, 3d] projection as [heads, seq, d/heads].
pub(super) async fn head_part(fused: &Tensor, part: usize, parts: usize, seq: usize, heads: usize) -> Result<Tensor> {
    let width = fused.shape().last_dim() / parts;
    let hd = width / heads;
    let view = fused.strided_view([seq, heads, hd], vec![parts * width, hd, 1], part * width)?;
    ops::contiguous(&view.permute(&[1, 0, 2])?).await
}

pub(super) struct Encoder {
    /// conv1 as a matmul over windows: [3·mels, d].
    conv1: Linear,
    /// conv2's taps side by side plus a zero block: [d, 4·d].
    conv2_taps: Tensor,
    conv2_bias: Tensor,
    positions: Tensor,
    layers: Vec<Layer>,
    norm: LayerNorm,
    heads: usize,
    d: usize,
}

impl Encoder {
    pub async fn load(w: &Weights<'_, '_>, mels: usize, d: usize, heads: usize, positions: usize) -> Result<Encoder> {
        let device = w.device;
        let conv1 = w.file.tensor("encoder/conv1/weight", &[d, mels, 3])?.reshape([d, 3 * mels])?;
        let conv1 = ops::contiguous(&conv1.transpose(0, 1)?).await?;
        let conv1 = Linear { weight_t: matmul_operand(conv1, device).await?, bias: w.vector("encoder/conv1/bias", d).await? };
        // conv2 weight [out, in, 3] → [in, tap·out] with a fourth, zero, tap block.
        let c2 = w.file.tensor("encoder/conv2/weight", &[d, d, 3])?.cpu_contiguous()?.into_owned();
        let mut taps = vec![0.0f32; d * 4 * d];
        for o in 0..d {
            for i in 0..d {
                for k in 0..3 {
                    taps[i * 4 * d + k * d + o] = c2[(o * d + i) * 3 + k];
                }
            }
        }
        let mut layers = Vec::new();
        for i in 0..w.count_layers("encoder") {
            layers.push(Layer::load(w, &format!("encoder/layer_{i}"), d).await?);
        }
        Ok(Encoder {
            conv1,
            conv2_taps: matmul_operand(Tensor::from_vec(taps, [d, 4 * d])?, device).await?,
            conv2_bias: w.vector("encoder/conv2/bias", d).await?,
            positions: w.file.tensor("encoder/position_encodings/encodings", &[positions, d])?.to_device(device).await?,
            layers,
            norm: w.norm("encoder/layer_norm", d).await?,
            heads,
            d,
        })
    }

    /// `mel` [frames, mels] (time-major) → [frames / 2, d] on the device.
    pub async fn forward(&self, mel: &[f32], frames: usize, mels: usize, device: &Device) -> Result<Tensor> {
        let windows = Tensor::from_vec(conv_windows(mel, frames, mels), [frames, 3 * mels])?.to_device(device).await?;
        let x = ops::unary(UnaryOp::Gelu, &self.conv1.forward(&windows).await?).await?;
        // conv2 (stride 2, padding 1): output t reads inputs 2t − 1, 2t, 2t + 1 through taps 0, 1, 2.
        let positions = frames / 2;
        let products = ops::matmul(&x, &self.conv2_taps).await?.reshape([frames * 4, self.d])?;
        let zero = 3u32; // input 0's zero block
        let taps = (0..3).map(|k| {
            (0..positions)
                .map(|t| match (2 * t + k).checked_sub(1) {
                    Some(i) if i < frames => (i * 4 + k) as u32,
                    _ => zero,
                })
                .collect()
        });
        let conv2 = ops::add(&sum_of_rows(&products, taps).await?, &self.conv2_bias).await?;
        let mut x = ops::add(&ops::unary(UnaryOp::Gelu, &conv2).await?, &self.positions).await?;
        for layer in &self.layers {
            x = self.layer(layer, &x, positions).await?;
        }
        self.norm.forward(&x, super::LAYER_NORM_EPS).await
    }

    async fn layer(&self, l: &Layer, x: &Tensor, seq: usize) -> Result<Tensor> {
        let h = l.attention_norm.forward(x, super::LAYER_NORM_EPS).await?;
        let qkv = l.qkv.forward(&h).await?;
        let (q, k, v) = (
            head_part(&qkv, 0, 3, seq, self.heads).await?,
            head_part(&qkv, 1, 3, seq, self.heads).await?,
            head_part(&qkv, 2, 3, seq, self.heads).await?,
        );
        let scale = 1.0 / ((self.d / self.heads) as f32).sqrt();
        let context = merge_heads(&ops::attention(&q, &k, &v, None, scale).await?, 1, seq, self.heads).await?;
        let x = ops::add(x, &l.out.forward(&context).await?).await?;
        l.feed_forward(&x).await
    }
}

/// The first convolution's windows: rows [frames, mels·3] in (mel, tap) order, padding 1.
fn conv_windows(mel: &[f32], frames: usize, mels: usize) -> Vec<f32> {
    let mut rows = Vec::with_capacity(frames * mels * 3);
    for t in 0..frames {
        for m in 0..mels {
            for k in 0..3 {
                let s = (t + k).checked_sub(1).filter(|&s| s < frames);
                rows.push(s.map_or(0.0, |s| mel[s * mels + m]));
            }
        }
    }
    rows
}
