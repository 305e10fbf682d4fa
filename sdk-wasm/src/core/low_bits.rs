//! Our own sub-4-bit block formats (32 values a block, asymmetric: w = d·q + m, with d and m
//! as f16 like GGUF's Q4_1):
//!
//! | format | bytes | layout after d, m (4 bytes) | bits/weight |
//! |---|---|---|---|
//! | `Q2` | 12 | 8 bytes: byte j holds values j, j+8, j+16, j+24 in bits 0–1, 2–3, 4–5, 6–7 | 3.0 |
//! | `Q3` | 16 | the same 8 bytes of low 2 bits, then a little-endian u32 whose bit i is value i's third bit | 4.0 |
//!
//! Quantizing starts per block from m = min, d = (max − min) / (2^bits − 1), q = round((w − m) / d),
//! then refits d and m by least squares to the chosen q (a few rounds), keeping whichever of
//! the candidates has the smaller squared error after f16 rounding. At 2–3 bits the min/max
//! range wastes levels on one outlier; the refit trades that value's error for everyone else's.

use super::f16::{f16_at, f16_to_f32, f32_to_f16};
use super::DType;

pub(super) fn decode_block(dtype: DType, b: &[u8], out: &mut [f32]) -> bool {
    let (d, m) = (f16_at(b, 0), f16_at(b, 2));
    let high = match dtype {
        DType::Q2 => 0u32,
        DType::Q3 => u32::from_le_bytes([b[12], b[13], b[14], b[15]]),
        _ => return false,
    };
    for (j, &byte) in b[4..12].iter().enumerate() {
        for s in 0..4 {
            let i = j + 8 * s;
            let q = ((byte >> (2 * s)) & 3) as u32 | (((high >> i) & 1) << 2);
            out[i] = d * q as f32 + m;
        }
    }
    true
}

/// Codes of `values` against (d, m) after f16 rounding, and their squared error.
fn assign(values: &[f32], d: f32, m: f32, levels: f32) -> (u16, u16, Vec<u32>, f32) {
    let (dh, mh) = (f32_to_f16(d.max(0.0)), f32_to_f16(m));
    let (df, mf) = (f16_to_f32(dh), f16_to_f32(mh));
    let q: Vec<u32> = values.iter().map(|&v| if df > 0.0 { ((v - mf) / df).round().clamp(0.0, levels) as u32 } else { 0 }).collect();
    let err = values.iter().zip(&q).map(|(&v, &c)| (df * c as f32 + mf - v).powi(2)).sum();
    (dh, mh, q, err)
}

/// Quantize 32 values into one block of `dtype` (Q2 or Q3), appended to `out`.
pub fn encode_block(dtype: DType, values: &[f32], out: &mut Vec<u8>) {
    let levels = if dtype == DType::Q3 { 7.0 } else { 3.0 };
    let (lo, hi) = values.iter().fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
    let mut best = assign(values, if hi > lo { (hi - lo) / levels } else { 0.0 }, lo, levels);
    let mut current = best.clone();
    for _ in 0..4 {
        // Least-squares d, m for the current codes: minimise Σ (d·q + m − v)².
        let n = values.len() as f32;
        let (sq, sqq) = current.2.iter().fold((0.0f32, 0.0f32), |(a, b), &q| (a + q as f32, b + (q * q) as f32));
        let (sv, sqv) = values.iter().zip(&current.2).fold((0.0f32, 0.0f32), |(a, b), (&v, &q)| (a + v, b + q as f32 * v));
        let det = n * sqq - sq * sq;
        if det <= 0.0 {
            break;
        }
        let d = (n * sqv - sq * sv) / det;
        current = assign(values, d, (sv - d * sq) / n, levels);
        if current.3 < best.3 {
            best = current.clone();
        }
    }
    let (d, m, q, _) = best;
    out.extend(d.to_le_bytes());
    out.extend(m.to_le_bytes());
    for j in 0..8 {
        out.push((0..4).fold(0u8, |byte, s| byte | (((q[j + 8 * s] & 3) as u8) << (2 * s))));
    }
    if dtype == DType::Q3 {
        let high = (0..32).fold(0u32, |w, i| w | (((q[i] >> 2) & 1) << i));
        out.extend(high.to_le_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_refit_never_does_worse_than_min_max_and_helps_with_an_outlier() {
        let mut values: Vec<f32> = (0..32).map(|i| ((i * 13 % 32) as f32 - 16.0) * 0.01).collect();
        values[5] = 1.5;
        for (dtype, levels) in [(DType::Q2, 3.0), (DType::Q3, 7.0)] {
            let mut bytes = Vec::new();
            encode_block(dtype, &values, &mut bytes);
            let mut out = [0.0; 32];
            assert!(decode_block(dtype, &bytes, &mut out));
            let err: f32 = values.iter().zip(out).map(|(a, b)| (a - b).powi(2)).sum();
            let (lo, hi) = (values.iter().cloned().fold(f32::INFINITY, f32::min), 1.5);
            let min_max = assign(&values, (hi - lo) / levels, lo, levels).3;
            assert!(err < min_max, "{dtype:?}: {err} vs min/max {min_max}");
        }
    }

    #[test]
    fn round_trip_error_is_bounded_by_half_a_step() {
        let values: Vec<f32> = (0..32).map(|i| ((i * 37 % 32) as f32 - 13.0) * 0.1).collect();
        for (dtype, levels) in [(DType::Q2, 3.0), (DType::Q3, 7.0)] {
            let mut bytes = Vec::new();
            encode_block(dtype, &values, &mut bytes);
            assert_eq!(bytes.len(), dtype.block_bytes());
            let mut out = [0.0; 32];
            assert!(decode_block(dtype, &bytes, &mut out));
            let step = 3.1 / levels;
            for (a, b) in values.iter().zip(out) {
                assert!((a - b).abs() <= step / 2.0 + 2e-3, "{dtype:?}: {a} vs {b}");
            }
        }
    }
}
