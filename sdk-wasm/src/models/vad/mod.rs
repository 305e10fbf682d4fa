//! Silero VAD (v5/v6, 16 kHz; `silero_vad_16k_op15.onnx`): the speech probability of every
//! 512-sample chunk, and speech segments from them ([`segments`]).
//!
//! Per chunk the model sees the chunk with the previous chunk's last 64 samples before it
//! (zeros for the first), reflect-padded by 64 at the end: an STFT as a stride-128 convolution
//! with its 256-wide basis (129 magnitudes × 4 frames), four 3-wide convolutions with ReLU
//! (strides 1, 2, 2, 1: down to one frame of 128), an LSTM cell whose state runs from chunk to
//! chunk, and ReLU → 1×1 convolution → sigmoid.
//!
//! The model is tiny (≈ 0.7 MFLOP a chunk) and sequential in its state, so it runs on the CPU:
//! everything before the LSTM is batched over all chunks of a clip into four matmuls through
//! the engine's kernels; the data movement between them and the 128-wide LSTM recurrence are
//! plain loops here.

mod segments;

pub use segments::{segments, Segment, SegmentOptions};

use crate::audio::{Audio, SPEECH_RATE};
use crate::core::error::{Error, Result};
use crate::ops;
use crate::tensor::Tensor;
use crate::weights::OnnxModel;

/// Samples per chunk at 16 kHz.
pub const CHUNK: usize = 512;
/// Samples of the previous chunk the model sees before each chunk.
pub const CONTEXT: usize = 64;
const WINDOW: usize = CHUNK + CONTEXT;
/// The STFT's reflect padding at the end, its filter length and hop.
const PAD: usize = 64;
const FILTER: usize = 256;
const HOP: usize = 128;
const FRAMES: usize = (WINDOW + PAD - FILTER) / HOP + 1;
const BINS: usize = FILTER / 2 + 1;
const HIDDEN: usize = 128;

/// A 3-wide convolution with padding 1, as a matmul over gathered windows.
struct Conv {
    /// [3·in, out]: rows in (input channel, tap) order.
    weight: Tensor,
    bias: Tensor,
    inputs: usize,
    stride: usize,
}

pub struct SileroVad {
    /// [256, 2·129]: the STFT basis, real rows then imaginary rows, transposed.
    basis: Tensor,
    convs: Vec<Conv>,
    /// LSTM weights, PyTorch gate order (input, forget, cell, output): [128, 512] transposed
    /// for the batched input projection, [512, 128] for the recurrence.
    w_ih: Tensor,
    w_hh: Vec<f32>,
    /// b_ih + b_hh.
    bias: Tensor,
    head: Vec<f32>,
    head_bias: f32,
}

fn bad(detail: impl Into<String>) -> Error {
    Error::Model(format!("silero vad: {}", detail.into()))
}

fn named(model: &OnnxModel<'_>, name: &str, shape: &[usize]) -> Result<Vec<f32>> {
    let t = model.tensor(name)?;
    if t.dims() != shape {
        return Err(bad(format!("{name} has shape {}, expected {shape:?}", t.shape())));
    }
    Ok(t.cpu_contiguous()?.into_owned())
}

/// `w` [rows, cols] transposed into a [cols, rows] tensor.
fn transposed(w: &[f32], rows: usize, cols: usize) -> Result<Tensor> {
    let mut t = vec![0.0; w.len()];
    for r in 0..rows {
        for c in 0..cols {
            t[c * rows + r] = w[r * cols + c];
        }
    }
    Tensor::from_vec(t, [cols, rows])
}

impl SileroVad {
    /// Bytes of f32 weights held.
    pub fn weight_bytes(&self) -> u64 {
        let tensors = [&self.basis, &self.w_ih, &self.bias].into_iter().chain(self.convs.iter().flat_map(|c| [&c.weight, &c.bias]));
        let held: u64 = tensors.map(|t| t.elements() as u64).sum::<u64>() + (self.w_hh.len() + self.head.len() + 1) as u64;
        held * 4
    }

    pub async fn from_onnx(bytes: &[u8]) -> Result<SileroVad> {
        let model = OnnxModel::parse(bytes)?;
        let basis = named(&model, "model.stft.forward_basis_buffer", &[2 * BINS, 1, FILTER])?;
        let mut convs = Vec::new();
        let mut inputs = BINS;
        for (i, (outputs, stride)) in [(128, 1), (64, 2), (64, 2), (128, 1)].into_iter().enumerate() {
            let p = format!("model.encoder.{i}.reparam_conv");
            let w = named(&model, &format!("{p}.weight"), &[outputs, inputs, 3])?;
            let bias = Tensor::from_vec(named(&model, &format!("{p}.bias"), &[outputs])?, [outputs])?;
            convs.push(Conv { weight: transposed(&w, outputs, inputs * 3)?.into_packed_weight()?, bias, inputs, stride });
            inputs = outputs;
        }
        let w_ih = named(&model, "model.decoder.rnn.weight_ih", &[4 * HIDDEN, HIDDEN])?;
        let w_hh = named(&model, "model.decoder.rnn.weight_hh", &[4 * HIDDEN, HIDDEN])?;
        let b_ih = named(&model, "model.decoder.rnn.bias_ih", &[4 * HIDDEN])?;
        let b_hh = named(&model, "model.decoder.rnn.bias_hh", &[4 * HIDDEN])?;
        let head = named(&model, "model.decoder.decoder.2.weight", &[1, HIDDEN, 1])?;
        let head_bias = named(&model, "model.decoder.decoder.2.bias", &[1])?[0];
        Ok(SileroVad {
            basis: transposed(&basis, 2 * BINS, FILTER)?.into_packed_weight()?,
            convs,
            w_ih: transposed(&w_ih, 4 * HIDDEN, HIDDEN)?.into_packed_weight()?,
            w_hh,
            bias: Tensor::from_vec(b_ih.iter().zip(&b_hh).map(|(a, b)| a + b).collect(), [4 * HIDDEN])?,
            head,
            head_bias,
        })
    }

    /// The speech probability of each 512-sample chunk of `audio` (resampled to 16 kHz
    /// first; a last partial chunk is padded with silence), the LSTM state carried through.
    pub async fn probabilities(&self, audio: &Audio) -> Result<Vec<f32>> {
        if audio.rate != SPEECH_RATE {
            return Box::pin(self.probabilities(&audio.clone().at_speech_rate())).await;
        }
        let chunks = audio.samples.len().div_ceil(CHUNK);
        let frames = stft_frames(&audio.samples, chunks);
        let spectra = ops::matmul(&Tensor::from_vec(frames, [chunks * FRAMES, FILTER])?, &self.basis).await?.to_vec().await?;
        let mut x: Vec<f32> = spectra
            .chunks_exact(2 * BINS)
            .flat_map(|row| (0..BINS).map(move |k| (row[k] * row[k] + row[BINS + k] * row[BINS + k]).sqrt()))
            .collect();
        let mut steps = FRAMES;
        for conv in &self.convs {
            let out_steps = (steps - 1) / conv.stride + 1;
            let windows = Tensor::from_vec(
                conv_windows(&x, chunks, steps, conv.inputs, conv.stride, out_steps),
                [chunks * out_steps, 3 * conv.inputs],
            )?;
            let y = ops::add(&ops::matmul(&windows, &conv.weight).await?, &conv.bias).await?;
            x = ops::unary(crate::core::UnaryOp::Relu, &y).await?.to_vec().await?;
            steps = out_steps;
        }
        if steps != 1 {
            return Err(bad(format!("the encoder left {steps} frames per chunk, expected 1")));
        }
        let features = Tensor::from_vec(x, [chunks, HIDDEN])?;
        let gates_in = ops::add(&ops::matmul(&features, &self.w_ih).await?, &self.bias).await?.to_vec().await?;
        Ok(self.recur(&gates_in))
    }

    /// The LSTM over the chunks' input gates, and the head on each hidden state.
    fn recur(&self, gates_in: &[f32]) -> Vec<f32> {
        let sigmoid = |v: f32| 1.0 / (1.0 + (-v).exp());
        let (mut h, mut c) = (vec![0.0f32; HIDDEN], vec![0.0f32; HIDDEN]);
        let mut gates = vec![0.0f32; 4 * HIDDEN];
        gates_in
            .chunks_exact(4 * HIDDEN)
            .map(|g_in| {
                for (g, (row, &b)) in gates.iter_mut().zip(self.w_hh.chunks_exact(HIDDEN).zip(g_in)) {
                    *g = b + row.iter().zip(&h).map(|(w, v)| w * v).sum::<f32>();
                }
                for j in 0..HIDDEN {
                    let (i, f) = (sigmoid(gates[j]), sigmoid(gates[HIDDEN + j]));
                    let (g, o) = (gates[2 * HIDDEN + j].tanh(), sigmoid(gates[3 * HIDDEN + j]));
                    c[j] = f * c[j] + i * g;
                    h[j] = o * c[j].tanh();
                }
                let logit = self.head_bias + self.head.iter().zip(&h).map(|(w, v)| w * v.max(0.0)).sum::<f32>();
                sigmoid(logit)
            })
            .collect()
    }
}

/// For each chunk, its window (64 samples of context, the chunk, 64 reflected) cut into
/// `FRAMES` overlapping 256-sample frames: rows [chunks·FRAMES, 256].
fn stft_frames(samples: &[f32], chunks: usize) -> Vec<f32> {
    let at = |i: isize| if i >= 0 && (i as usize) < samples.len() { samples[i as usize] } else { 0.0 };
    let mut rows = Vec::with_capacity(chunks * FRAMES * FILTER);
    let mut window = vec![0.0f32; WINDOW + PAD];
    for k in 0..chunks {
        let start = (k * CHUNK) as isize - CONTEXT as isize;
        for (i, w) in window[..WINDOW].iter_mut().enumerate() {
            *w = at(start + i as isize);
        }
        // Reflect padding: x[n + j] = x[n − 2 − j] for j = 0..PAD (numpy/torch "reflect").
        for j in 0..PAD {
            window[WINDOW + j] = window[WINDOW - 2 - j];
        }
        for f in 0..FRAMES {
            rows.extend_from_slice(&window[f * HOP..f * HOP + FILTER]);
        }
    }
    rows
}

/// Windows of a 3-wide, padding-1 convolution over `x` [chunks, steps, channels]: rows
/// [chunks·out_steps, channels·3] in (channel, tap) order, as the weight is laid out.
fn conv_windows(x: &[f32], chunks: usize, steps: usize, channels: usize, stride: usize, out_steps: usize) -> Vec<f32> {
    let mut rows = Vec::with_capacity(chunks * out_steps * channels * 3);
    for b in 0..chunks {
        for t in 0..out_steps {
            for c in 0..channels {
                for tap in 0..3 {
                    let s = (t * stride + tap) as isize - 1;
                    let v = if (0..steps as isize).contains(&s) { x[(b * steps + s as usize) * channels + c] } else { 0.0 };
                    rows.push(v);
                }
            }
        }
    }
    rows
}
