//! Activation rows rounded to 8 bits in 32-value blocks, as ggml's CPU matmul rounds them
//! before a block-quantized weight (quantize_row_q8_0 / q8_1): per block d = max|x| / 127,
//! q = round(x / d) (half away from zero), and the value is q · f16(d). The block's sum of
//! values rides along for Q4_1's offset term. Integer dot products then do the multiplying.

use super::lanes::max;
use crate::core::f16::{f16_to_f32, f32_to_f16};

/// Values per block (the weights' block length too).
pub const BLOCK: usize = 32;

/// `rows` rows of `k` values (k a multiple of BLOCK), quantized.
pub struct Q8Rows {
    pub k: usize,
    /// Row-major, k per row.
    pub q: Vec<i8>,
    /// Per block: the f16-rounded scale.
    pub scales: Vec<f32>,
    /// Per block: Σ q · scale, the sum of the block's rounded values.
    pub sums: Vec<f32>,
}

impl Q8Rows {
    /// `x` holds `rows × k` values; `k` must be a multiple of BLOCK.
    pub fn quantize(x: &[f32], k: usize) -> Q8Rows {
        debug_assert!(k.is_multiple_of(BLOCK));
        let blocks = x.len() / BLOCK;
        let mut rows = Q8Rows { k, q: vec![0; blocks * BLOCK], scales: Vec::with_capacity(blocks), sums: Vec::with_capacity(blocks) };
        for (xb, qb) in x.chunks_exact(BLOCK).zip(rows.q.chunks_exact_mut(BLOCK)) {
            let amax = xb.iter().fold(0.0f32, |m, v| max(m, v.abs()));
            let d = amax / 127.0;
            let inv = if d != 0.0 { 1.0 / d } else { 0.0 };
            let mut total = 0i32;
            for (q, &v) in qb.iter_mut().zip(xb) {
                // `round` is half away from zero, as C's roundf; |v·inv| ≤ 127 by construction.
                *q = (v * inv).round() as i8;
                total += *q as i32;
            }
            let scale = f16_to_f32(f32_to_f16(d));
            rows.scales.push(scale);
            rows.sums.push(total as f32 * scale);
        }
        rows
    }

    /// Row `i`: its values, block scales and block sums.
    pub fn row(&self, i: usize) -> (&[i8], &[f32], &[f32]) {
        let per = self.k / BLOCK;
        (&self.q[i * self.k..(i + 1) * self.k], &self.scales[i * per..(i + 1) * per], &self.sums[i * per..(i + 1) * per])
    }

    /// The rounded values as f32 (for weight formats without an integer dot).
    pub fn dequantized(&self) -> Vec<f32> {
        self.q.chunks_exact(BLOCK).zip(&self.scales).flat_map(|(qb, &s)| qb.iter().map(move |&q| q as f32 * s)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::SeededRng;

    #[test]
    fn rounding_follows_ggml_and_the_sums_are_the_values_sums() {
        let mut x = SeededRng::new(9).fill(3 * 64);
        x[5] = 10.0; // block 0's maximum: q = 127
        x[64..96].iter_mut().for_each(|v| *v = 0.0); // an all-zero block
        let rows = Q8Rows::quantize(&x, 64);
        assert_eq!(rows.q.len(), 3 * 64);
        assert_eq!(rows.q[5], 127);
        let values = rows.dequantized();
        for (b, xb) in x.chunks_exact(BLOCK).enumerate() {
            let d = xb.iter().fold(0.0f32, |m, v| m.max(v.abs())) as f64 / 127.0;
            for (j, &v) in xb.iter().enumerate() {
                let q = if d == 0.0 { 0.0 } else { (v as f64 / d).round() };
                let want = q * f16_to_f32(f32_to_f16(d as f32)) as f64;
                assert!((values[b * BLOCK + j] as f64 - want).abs() <= 1e-6 * want.abs().max(1e-3), "block {b} value {j}");
            }
            let sum: f64 = values[b * BLOCK..(b + 1) * BLOCK].iter().map(|&v| v as f64).sum();
            assert!((rows.sums[b] as f64 - sum).abs() < 1e-4, "block {b}");
        }
        assert!(rows.q[64..96].iter().all(|&q| q == 0) && rows.scales[2] == 0.0);
    }
}
