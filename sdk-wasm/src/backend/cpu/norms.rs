//! Row-wise softmax, layer normalisation and RMS normalisation over the last dimension.

use super::exp::exp_nonpositive;
use super::lanes::{lane_max, lane_sum, lane_sum_of};
use super::parallel::for_each_row_block;
use super::{CpuBackend, CpuStorage};
use crate::backend::{NormOps, Operand};
use crate::core::Result;

/// Numerically stable softmax of each `cols`-long row (max subtracted before exp).
pub fn softmax(x: &[f32], cols: usize) -> Vec<f32> {
    let mut out = vec![0.0; x.len()];
    if cols == 0 {
        return out;
    }
    for_each_row_block(&mut out, cols, |row0, block| {
        for (row, dst) in x[row0 * cols..].chunks_exact(cols).zip(block.chunks_exact_mut(cols)) {
            let max = lane_max(row);
            for (d, &v) in dst.iter_mut().zip(row) {
                *d = exp_nonpositive(v - max);
            }
            let inv = 1.0 / lane_sum(dst);
            dst.iter_mut().for_each(|d| *d *= inv);
        }
    });
    out
}

/// `(x - mean) / sqrt(var + eps) * gamma + beta` per row; gamma and beta have `cols` entries.
pub fn layernorm(x: &[f32], gamma: &[f32], beta: &[f32], cols: usize, eps: f32) -> Vec<f32> {
    let mut out = vec![0.0; x.len()];
    if cols == 0 {
        return out;
    }
    for_each_row_block(&mut out, cols, |row0, block| {
        for (row, dst) in x[row0 * cols..].chunks_exact(cols).zip(block.chunks_exact_mut(cols)) {
            let mean = lane_sum(row) / cols as f32;
            let var = lane_sum_of(row, |v| (v - mean) * (v - mean)) / cols as f32;
            let inv = 1.0 / (var + eps).sqrt();
            for (((d, &v), &g), &b) in dst.iter_mut().zip(row).zip(gamma).zip(beta) {
                *d = (v - mean) * inv * g + b;
            }
        }
    });
    out
}

/// `x / sqrt(mean(x²) + eps) * gamma` per row.
pub fn rmsnorm(x: &[f32], gamma: &[f32], cols: usize, eps: f32) -> Vec<f32> {
    let mut out = vec![0.0; x.len()];
    if cols == 0 {
        return out;
    }
    for_each_row_block(&mut out, cols, |row0, block| {
        for (row, dst) in x[row0 * cols..].chunks_exact(cols).zip(block.chunks_exact_mut(cols)) {
            let mean_sq = lane_sum_of(row, |v| v * v) / cols as f32;
            let inv = 1.0 / (mean_sq + eps).sqrt();
            for ((d, &v), &g) in dst.iter_mut().zip(row).zip(gamma) {
                *d = v * inv * g;
            }
        }
    });
    out
}

impl NormOps for CpuBackend {
    fn softmax(&self, x: Operand<CpuStorage>, cols: usize) -> Result<CpuStorage> {
        Ok(CpuStorage::f32(softmax(&x.storage.dense(x.layout)?, cols)))
    }

    fn layernorm(
        &self,
        x: Operand<CpuStorage>,
        g: Operand<CpuStorage>,
        b: Operand<CpuStorage>,
        cols: usize,
        eps: f32,
    ) -> Result<CpuStorage> {
        let (xv, gv, bv) = (x.storage.dense(x.layout)?, g.storage.dense(g.layout)?, b.storage.dense(b.layout)?);
        Ok(CpuStorage::f32(layernorm(&xv, &gv, &bv, cols, eps)))
    }

    fn rmsnorm(&self, x: Operand<CpuStorage>, g: Operand<CpuStorage>, cols: usize, eps: f32) -> Result<CpuStorage> {
        Ok(CpuStorage::f32(rmsnorm(&x.storage.dense(x.layout)?, &g.storage.dense(g.layout)?, cols, eps)))
    }
}
