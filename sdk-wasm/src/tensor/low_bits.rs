//! Our own sub-4-bit block formats (32 values a block, asymmetric: w = d·q + m, with d and m
//! as f16 like GGUF's Q4_1):
//!
//! | format | bytes | layout after d, m (4 bytes) | bits/weight |
//! |---|---|---|---|
//! | `Q2` | 12 | 8 bytes: byte j holds values j, j+8, j+16, j+24 in bits 0–1, 2–3, 4–5, 6–7 | 3.0 |
//! | `Q3` | 16 | the same 8 bytes of low 2 bits, then a little-endian u32 whose bit i is value i's third bit | 4.0 |
//!
//! Quantizing picks per block m = min and d = (max − min) / (2^bits − 1), q = round((w − m) / d).

use super::DType;
use crate::weights::{f16_to_f32, f32_to_f16};

fn f16_at(b: &[u8], i: usize) -> f32 {
    f16_to_f32(u16::from_le_bytes([b[i], b[i + 1]]))
}

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

/// Quantize 32 values into one block of `dtype` (Q2 or Q3), appended to `out`.
pub fn encode_block(dtype: DType, values: &[f32], out: &mut Vec<u8>) {
    let levels = if dtype == DType::Q3 { 7.0 } else { 3.0 };
    let (lo, hi) = values.iter().fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
    let d = f32_to_f16(if hi > lo { (hi - lo) / levels } else { 0.0 });
    let m = f32_to_f16(lo);
    // Quantize against the rounded scale and offset, so decoding reproduces the choice made here.
    let (df, mf) = (f16_to_f32(d), f16_to_f32(m));
    let q: Vec<u32> = values.iter().map(|&v| if df > 0.0 { ((v - mf) / df).round().clamp(0.0, levels) as u32 } else { 0 }).collect();
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
