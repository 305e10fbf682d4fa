//! `out[m×n] = x[m×k] · Wᵀ` with W (n×k) in a block format: each weight row is decoded
//! block by block into a small f32 buffer that stays in L1 and is reused for every row of x,
//! so the weights stay 4-bit (or 2/3/8-bit) in memory and are read once per call.

use super::parallel::{for_each_chunk, threads};
use super::q8_dot::q8_dot4;
use super::q8_rows::Q8Rows;
use super::{CpuBackend, CpuStorage};
use crate::backend::{Activations, Operand, QuantMatmulOps, QuantShape};
use crate::core::blocks::decode_row;
use crate::core::{DType, Result};

/// Below this many multiply-adds one thread is faster than sharing the work: a decode step's
/// 576×576 projection (0.3 M) already gains from two threads, natively and in the threaded
/// wasm build (whose regions wake no Worker: `spin_region`).
const PARALLEL_MIN_MACS: usize = 1 << 16;

/// Input rows from which 8-bit activations take the f32 path (see `qmatmul`). Measured on a
/// 37-token prefill: integer dots per row 194 ms natively, against 152 ms for f32.
const INTEGER_DOT_MAX_ROWS: usize = 4;

/// Weight rows handled per work unit: decode a few rows, then sweep x over them.
const ROWS_PER_STEP: usize = 4;

/// `out` is m×n; `w` holds n rows of `row_bytes` bytes, each k values of `dtype`. With 8-bit
/// activations x is first rounded as ggml rounds it (k must be a multiple of 32).
#[allow(clippy::too_many_arguments)]
pub fn qmatmul(x: &[f32], m: usize, k: usize, w: &[u8], dtype: DType, n: usize, activations: Activations, out: &mut [f32]) {
    debug_assert!(x.len() >= m * k && out.len() >= m * n);
    let row_bytes = w.len() / n.max(1);
    if activations == Activations::Int8 {
        let q = Q8Rows::quantize(&x[..m * k], k);
        let Some(dot4) = q8_dot4(dtype).filter(|_| m < INTEGER_DOT_MAX_ROWS) else {
            // No integer dot for this format, or several rows (a prefill): the rounded values
            // through the f32 path, which decodes each weight row once for every input row
            // (the integer dots would unpack it again per row). The values are the same.
            let rounded = q.dequantized();
            return by_weight_rows(m, n, k, out, |rows, t| rows_into(&rounded, m, k, w, row_bytes, dtype, rows, t));
        };
        return by_weight_rows(m, n, k, out, |rows, t| {
            for_groups_of_four(w, row_bytes, rows, m, t, |i, group| {
                let (xq, scales, sums) = q.row(i);
                dot4(xq, scales, sums, group)
            })
        });
    }
    by_weight_rows(m, n, k, out, |rows, t| rows_into(x, m, k, w, row_bytes, dtype, rows, t))
}

/// Runs `rows_of(weight rows, outputs)` over bands of weight rows, in parallel where the
/// product is large enough. Each band writes its outputs transposed (one contiguous run of m
/// per weight row); the bands are then laid back into m×n.
fn by_weight_rows<F>(m: usize, n: usize, k: usize, out: &mut [f32], rows_of: F)
where
    F: Fn(std::ops::Range<usize>, &mut [f32]) + Sync + Send,
{
    let workers = if m * n * k >= PARALLEL_MIN_MACS { threads().min(n.div_ceil(ROWS_PER_STEP)) } else { 1 };
    let mut t = vec![0.0; n * m];
    if workers <= 1 {
        rows_of(0..n, &mut t);
    } else {
        let band = n.div_ceil(workers).next_multiple_of(ROWS_PER_STEP);
        for_each_chunk(&mut t, band * m, |i, chunk| rows_of(i * band..(i * band + chunk.len() / m.max(1)), chunk));
    }
    transpose_into(&t, n, m, out);
}

fn transpose_into(t: &[f32], n: usize, m: usize, out: &mut [f32]) {
    for (r, col) in t.chunks_exact(m.max(1)).enumerate().take(n) {
        for (i, &v) in col.iter().enumerate() {
            out[i * n + r] = v;
        }
    }
}

/// `t[(r - rows.start) * m + i] = dot(i, four weight rows)[r - group start]` over the weight
/// rows `rows` in groups of four (a short last group repeats its final row; only the real
/// rows are kept) and every activation row i < m.
fn for_groups_of_four<F>(w: &[u8], row_bytes: usize, rows: std::ops::Range<usize>, m: usize, t: &mut [f32], dot: F)
where
    F: Fn(usize, [&[u8]; 4]) -> [f32; 4],
{
    let row = |r: usize| &w[r * row_bytes..(r + 1) * row_bytes];
    for r0 in rows.clone().step_by(4) {
        let group = std::array::from_fn(|j| row((r0 + j).min(rows.end - 1)));
        for i in 0..m {
            for (j, v) in dot(i, group).into_iter().take(rows.end - r0).enumerate() {
                t[(r0 + j - rows.start) * m + i] = v;
            }
        }
    }
}

/// Outputs for weight rows `rows`, transposed: `t[(r - rows.start) * m + i]`.
#[allow(clippy::too_many_arguments)]
fn rows_into(x: &[f32], m: usize, k: usize, w: &[u8], row_bytes: usize, dtype: DType, rows: std::ops::Range<usize>, t: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        // SAFETY: the CPU was just checked for the features the function is compiled for.
        return unsafe { rows_into_avx2(x, m, k, w, row_bytes, dtype, rows, t) };
    }
    rows_body(x, m, k, w, row_bytes, dtype, rows, t)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[allow(clippy::too_many_arguments)]
fn rows_into_avx2(x: &[f32], m: usize, k: usize, w: &[u8], row_bytes: usize, dtype: DType, rows: std::ops::Range<usize>, t: &mut [f32]) {
    rows_body(x, m, k, w, row_bytes, dtype, rows, t)
}

#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn rows_body(x: &[f32], m: usize, k: usize, w: &[u8], row_bytes: usize, dtype: DType, rows: std::ops::Range<usize>, t: &mut [f32]) {
    // One row of x (decoding a token): dot each weight block straight from its bytes, with
    // no decoded copy — decoding was most of the time.
    if let (1, Some(dot4), true) = (m, super::qdot::row_dot4(dtype), k.is_multiple_of(32)) {
        let sums: Vec<f32> = x[..k].chunks_exact(32).map(|b| b.iter().sum()).collect();
        return for_groups_of_four(w, row_bytes, rows, 1, t, |_, group| dot4(&x[..k], &sums, group));
    }
    let mut decoded = vec![0.0f32; ROWS_PER_STEP * k];
    let start = rows.start;
    let mut r = rows.start;
    while r < rows.end {
        let count = ROWS_PER_STEP.min(rows.end - r);
        for j in 0..count {
            let bytes = &w[(r + j) * row_bytes..(r + j + 1) * row_bytes];
            decode_row(dtype, bytes, &mut decoded[j * k..(j + 1) * k]);
        }
        for i in 0..m {
            let xi = &x[i * k..(i + 1) * k];
            for j in 0..count {
                t[(r + j - start) * m + i] = dot(xi, &decoded[j * k..(j + 1) * k]);
            }
        }
        r += count;
    }
}

/// Sixteen independent lanes so the compiler vectorises it (f32 adds are not reassociated;
/// no `mul_add`, which is a slow library call where the target has no FMA, e.g. wasm).
#[inline(always)]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 16];
    let (ac, bc) = (a.chunks_exact(16), b.chunks_exact(16));
    let tail: f32 = ac.remainder().iter().zip(bc.remainder()).map(|(x, y)| x * y).sum();
    for (x, y) in ac.zip(bc) {
        for l in 0..16 {
            acc[l] += x[l] * y[l];
        }
    }
    acc.iter().sum::<f32>() + tail
}

impl QuantMatmulOps for CpuBackend {
    fn qmatmul(&self, x: Operand<CpuStorage>, w: &CpuStorage, shape: QuantShape) -> Result<CpuStorage> {
        let xv = x.storage.dense(x.layout)?;
        let m = xv.len() / shape.cols.max(1);
        let mut out = vec![0.0; m * shape.rows];
        qmatmul(&xv, m, shape.cols, w.block_bytes()?, shape.dtype, shape.rows, shape.activations, &mut out);
        Ok(CpuStorage::f32(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::{blocks, SeededRng};

    /// Both activation precisions and every kind of row kernel (integer dots for Q4_1/Q8_0,
    /// the rounded values through the f32 path for Q2/Q3), on one thread and on the pool,
    /// against an f64 product of the (rounded, with 8-bit activations) inputs.
    #[test]
    fn matches_a_product_with_the_dequantized_weights() {
        for (m, k, n) in [(1, 64, 5), (3, 96, 33), (7, 256, 130), (40, 576, 192)] {
            let values = SeededRng::new(5).fill(n * k);
            let x = SeededRng::new(6).fill(m * k);
            for activations in [Activations::F32, Activations::Int8] {
                let xr = if activations == Activations::Int8 { Q8Rows::quantize(&x, k).dequantized() } else { x.clone() };
                for dtype in [DType::Q4_1, DType::Q8_0, DType::Q2, DType::Q3] {
                    let mut w = Vec::new();
                    for block in values.chunks_exact(dtype.block_len()) {
                        blocks::encode(dtype, block, &mut w);
                    }
                    let mut dense = vec![0.0; n * k];
                    let row_bytes = w.len() / n;
                    for (r, row) in dense.chunks_exact_mut(k).enumerate() {
                        blocks::decode_row(dtype, &w[r * row_bytes..(r + 1) * row_bytes], row);
                    }
                    let mut out = vec![0.0; m * n];
                    qmatmul(&x, m, k, &w, dtype, n, activations, &mut out);
                    for i in 0..m {
                        for r in 0..n {
                            let want: f64 = (0..k).map(|c| xr[i * k + c] as f64 * dense[r * k + c] as f64).sum();
                            let err = (out[i * n + r] as f64 - want).abs();
                            assert!(err < 1e-4 * (k as f64).sqrt(), "{m}×{k}×{n} {dtype:?} {activations:?}: off by {err}");
                        }
                    }
                }
            }
        }
    }
}
