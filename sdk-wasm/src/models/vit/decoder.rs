//! The saliency decoder: three transposed convolutions (4×4, stride 2, padding 1), each with
//! batch norm and ReLU, doubling the patch grid each time, then a 1×1 convolution to one
//! logit per pixel.
//!
//! A transposed convolution is written with the ops every device has: one matmul computes
//! every (input pixel, kernel tap) product at once, `x [pixels, in] · W [in, 17·out]` (16 taps
//! plus one block of zero columns, so the product holds rows of exact zeros), viewed as rows
//! [pixels·17, out]; each output pixel is then the sum of the four tap rows that land on it —
//! four row gathers and three adds, with taps that fall outside the input reading a zero row.
//! Batch norm is folded into the weights (scale) and one shift (with the conv's bias).

use crate::core::error::{Error, Result};
use crate::core::UnaryOp;
use crate::device::Device;
use crate::models::layers::{matmul_operand, sum_of_rows};
use crate::ops;
use crate::tensor::Tensor;

const KERNEL: usize = 4;
const TAPS: usize = KERNEL * KERNEL;
/// The zero block's place among each pixel's rows.
const ZERO_TAP: usize = TAPS;
/// PyTorch's BatchNorm2d default, what the export's `epsilon` attribute holds.
pub const BATCH_NORM_EPS: f32 = 1e-5;

/// One transposed convolution + batch norm + ReLU.
pub struct UpBlock {
    /// [in, 17·out]: tap t = ky·4 + kx in columns t·out.., batch-norm scale folded in.
    weight: Tensor,
    /// [out]: (bias − running mean) · scale + beta.
    shift: Tensor,
    outputs: usize,
}

/// The batch norm's four vectors.
pub struct BatchNorm<'a> {
    pub gamma: &'a [f32],
    pub beta: &'a [f32],
    pub mean: &'a [f32],
    pub var: &'a [f32],
}

impl UpBlock {
    /// From the ONNX `ConvTranspose` weight [in, out, 4, 4], its bias [out] and the batch norm.
    pub async fn new(weight: &[f32], bias: &[f32], bn: BatchNorm<'_>, inputs: usize, device: &Device) -> Result<UpBlock> {
        let outputs = bias.len();
        if weight.len() != inputs * outputs * TAPS || [bn.gamma.len(), bn.beta.len(), bn.mean.len(), bn.var.len()] != [outputs; 4] {
            return Err(Error::Model(format!("decoder block {inputs}→{outputs}: weight or batch-norm sizes do not match")));
        }
        let scale: Vec<f32> = bn.gamma.iter().zip(bn.var).map(|(g, v)| g / (v + BATCH_NORM_EPS).sqrt()).collect();
        let width = (TAPS + 1) * outputs;
        let mut folded = vec![0.0f32; inputs * width];
        for i in 0..inputs {
            for o in 0..outputs {
                for t in 0..TAPS {
                    folded[i * width + t * outputs + o] = weight[(i * outputs + o) * TAPS + t] * scale[o];
                }
            }
        }
        let shift: Vec<f32> = (0..outputs).map(|o| (bias[o] - bn.mean[o]) * scale[o] + bn.beta[o]).collect();
        Ok(UpBlock {
            weight: matmul_operand(Tensor::from_vec(folded, [inputs, width])?, device).await?,
            shift: Tensor::from_vec(shift, [outputs])?.to_device(device).await?,
            outputs,
        })
    }

    /// `x` [batch·side·side, in] (pixels row-major) → [batch·2side·2side, out].
    pub async fn forward(&self, x: &Tensor, batch: usize, side: usize) -> Result<Tensor> {
        let pixels = batch * side * side;
        let products = ops::matmul(x, &self.weight).await?.reshape([pixels * (TAPS + 1), self.outputs])?;
        let sum = sum_of_rows(&products, tap_rows(batch, side)).await?;
        ops::unary(UnaryOp::Relu, &ops::add(&sum, &self.shift).await?).await
    }
}

/// The (kernel index, input index) pairs that reach output index `o` along one axis, for a
/// stride-2, padding-1, 4-wide kernel: o = 2i − 1 + k.
fn axis_taps(o: usize) -> [(usize, isize); 2] {
    let m = (o / 2) as isize;
    if o.is_multiple_of(2) {
        [(1, m), (3, m - 1)]
    } else {
        [(0, m + 1), (2, m)]
    }
}

/// Four id lists, one per (y tap, x tap) pair: for each output pixel the product row its tap
/// reads, or pixel 0's zero row when the tap falls outside the input.
fn tap_rows(batch: usize, side: usize) -> [Vec<u32>; 4] {
    let out = 2 * side;
    let zero = ZERO_TAP as u32;
    let mut lists: [Vec<u32>; 4] = Default::default();
    for b in 0..batch {
        for oy in 0..out {
            for ox in 0..out {
                for (ty, &(ky, iy)) in axis_taps(oy).iter().enumerate() {
                    for (tx, &(kx, ix)) in axis_taps(ox).iter().enumerate() {
                        let inside = (0..side as isize).contains(&iy) && (0..side as isize).contains(&ix);
                        let id = if inside {
                            let pixel = (b * side + iy as usize) * side + ix as usize;
                            (pixel * (TAPS + 1) + ky * KERNEL + kx) as u32
                        } else {
                            zero
                        };
                        lists[ty * 2 + tx].push(id);
                    }
                }
            }
        }
    }
    lists
}

#[cfg(test)]
mod tests {
    use super::*;

    /// ConvTranspose2d (stride 2, padding 1, 4×4) by its definition, one channel in and out.
    fn direct(x: &[f32], w: &[f32], side: usize) -> Vec<f32> {
        let out = 2 * side;
        let mut y = vec![0.0; out * out];
        for iy in 0..side {
            for ix in 0..side {
                for ky in 0..4 {
                    for kx in 0..4 {
                        let (oy, ox) = ((2 * iy + ky) as isize - 1, (2 * ix + kx) as isize - 1);
                        if (0..out as isize).contains(&oy) && (0..out as isize).contains(&ox) {
                            y[oy as usize * out + ox as usize] += x[iy * side + ix] * w[ky * 4 + kx];
                        }
                    }
                }
            }
        }
        y
    }

    #[test]
    fn gathered_taps_match_the_transposed_convolution() {
        let side = 3;
        let x: Vec<f32> = (0..side * side).map(|i| (i as f32 * 0.37).sin()).collect();
        let w: Vec<f32> = (0..16).map(|i| (i as f32 * 0.91).cos()).collect();
        let bn = BatchNorm { gamma: &[1.0], beta: &[0.0], mean: &[0.0], var: &[1.0 - BATCH_NORM_EPS] };
        let block = pollster::block_on(UpBlock::new(&w, &[0.0], bn, 1, &Device::Cpu)).unwrap();
        let input = Tensor::from_vec(x.clone(), [side * side, 1]).unwrap();
        let got = pollster::block_on(async { block.forward(&input, 1, side).await?.to_vec().await }).unwrap();
        let expected: Vec<f32> = direct(&x, &w, side).into_iter().map(|v| v.max(0.0)).collect();
        for (g, e) in got.iter().zip(&expected) {
            assert!((g - e).abs() < 1e-5, "{got:?}\n{expected:?}");
        }
    }
}
