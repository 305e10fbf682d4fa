//! Block formats, decoded one 32-value block at a time (the layouts GGUF files use):
//! Q8_0 = f16 scale d + 32 i8 (w = d·q); Q4_0 = f16 d + 16 bytes (w = d·(q − 8));
//! Q4_1 = f16 d + f16 min m + 16 bytes (w = d·q + m). In the 4-bit formats a block's low
//! nibbles are its first 16 values and the high nibbles the next 16.
//! Our own sub-4-bit formats are in `low_bits.rs`.

use super::f16::{bf16_to_f32, f16_at};
use super::DType;

pub const BLOCK: usize = 32;

/// Decode one block (`dtype.block_bytes()` bytes) into 32 values, or the 1 value of a plain type.
/// Returns false for a dtype with no decoder here.
#[inline]
pub fn decode_block(dtype: DType, b: &[u8], out: &mut [f32]) -> bool {
    match dtype {
        DType::Q8_0 => {
            let d = f16_at(b, 0);
            for (o, &q) in out[..BLOCK].iter_mut().zip(&b[2..34]) {
                *o = d * (q as i8) as f32;
            }
        }
        DType::Q4_0 => {
            let d = f16_at(b, 0);
            let (lo, hi) = out[..BLOCK].split_at_mut(16);
            for (j, &q) in b[2..18].iter().enumerate() {
                lo[j] = d * ((q & 15) as f32 - 8.0);
                hi[j] = d * ((q >> 4) as f32 - 8.0);
            }
        }
        DType::Q4_1 => {
            let (d, m) = (f16_at(b, 0), f16_at(b, 2));
            let (lo, hi) = out[..BLOCK].split_at_mut(16);
            for (j, &q) in b[4..20].iter().enumerate() {
                lo[j] = d * (q & 15) as f32 + m;
                hi[j] = d * (q >> 4) as f32 + m;
            }
        }
        DType::Q2 | DType::Q3 => return super::low_bits::decode_block(dtype, b, out),
        DType::F32 => out[0] = f32::from_le_bytes([b[0], b[1], b[2], b[3]]),
        DType::F16 => out[0] = f16_at(b, 0),
        DType::BF16 => out[0] = bf16_to_f32(u16::from_le_bytes([b[0], b[1]])),
    }
    true
}

/// Decode a whole row of `out.len()` values from its bytes (`dtype.storage_bytes(len)`).
/// Append `values` (one block of `dtype`: 32 values, or 1 for F32) encoded; the formats we
/// write: F32, Q8_0, Q4_1 and our Q3/Q2.
pub fn encode(dtype: DType, values: &[f32], out: &mut Vec<u8>) {
    match dtype {
        DType::Q8_0 => encode_q8_0(values, out),
        DType::Q4_1 => encode_q4_1(values, out),
        DType::Q2 | DType::Q3 => super::low_bits::encode_block(dtype, values, out),
        _ => out.extend(values.iter().flat_map(|v| v.to_le_bytes())),
    }
}

/// Whether `encode` writes `dtype`.
pub fn encodable(dtype: DType) -> bool {
    matches!(dtype, DType::F32 | DType::Q8_0 | DType::Q4_1 | DType::Q2 | DType::Q3)
}

/// Append one Q4_1 block: m = min, d = (max − min) / 15, q = round((v − m) / d), against the
/// f16-rounded d and m so decoding reproduces the choice.
pub fn encode_q4_1(values: &[f32], out: &mut Vec<u8>) {
    use super::f16::{f16_to_f32, f32_to_f16};
    let (lo, hi) = values.iter().fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
    let (dh, mh) = (f32_to_f16(if hi > lo { (hi - lo) / 15.0 } else { 0.0 }), f32_to_f16(lo));
    let (d, m) = (f16_to_f32(dh), f16_to_f32(mh));
    out.extend_from_slice(&dh.to_le_bytes());
    out.extend_from_slice(&mh.to_le_bytes());
    let inv = if d > 0.0 { 1.0 / d } else { 0.0 };
    let q = |v: f32| ((v - m) * inv).round().clamp(0.0, 15.0) as u8;
    out.extend((0..16).map(|j| q(values[j]) | (q(values[j + 16]) << 4)));
}

/// Append one Q8_0 block of `values` (32 of them): d = max|v| / 127, q = round(v / d).
pub fn encode_q8_0(values: &[f32], out: &mut Vec<u8>) {
    let amax = values.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    let d = super::f16::f16_to_f32(super::f16::f32_to_f16(amax / 127.0));
    out.extend_from_slice(&super::f16::f32_to_f16(d).to_le_bytes());
    let inv = if d > 0.0 { 1.0 / d } else { 0.0 };
    out.extend(values.iter().map(|v| (v * inv).round().clamp(-127.0, 127.0) as i8 as u8));
}

pub fn decode_row(dtype: DType, bytes: &[u8], out: &mut [f32]) {
    let (len, size) = (dtype.block_len(), dtype.block_bytes());
    if len == 1 {
        match dtype {
            DType::F32 => {
                for (o, c) in out.iter_mut().zip(bytes.chunks_exact(4)) {
                    *o = f32::from_le_bytes([c[0], c[1], c[2], c[3]]);
                }
            }
            _ => {
                for (o, c) in out.iter_mut().zip(bytes.chunks_exact(size)) {
                    decode_block(dtype, c, std::slice::from_mut(o));
                }
            }
        }
        return;
    }
    for (o, c) in out.chunks_exact_mut(len).zip(bytes.chunks_exact(size)) {
        decode_block(dtype, c, o);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn q4_1_block_puts_low_nibbles_first() {
        let mut b = vec![0u8; 20];
        b[0..2].copy_from_slice(&0x4000u16.to_le_bytes()); // d = 2
        b[2..4].copy_from_slice(&0x3c00u16.to_le_bytes()); // m = 1
        b[4] = 0x53; // value 0 = 3, value 16 = 5
        let mut out = [0.0; 32];
        decode_block(DType::Q4_1, &b, &mut out);
        assert_eq!((out[0], out[16], out[1]), (7.0, 11.0, 1.0));
    }

    #[test]
    fn q4_0_and_q8_0_are_signed() {
        let mut b = vec![0u8; 18];
        b[0..2].copy_from_slice(&0x3c00u16.to_le_bytes());
        b[2] = 0xf0;
        let mut out = [0.0; 32];
        decode_block(DType::Q4_0, &b, &mut out);
        assert_eq!((out[0], out[16]), (-8.0, 7.0));
        let mut b = vec![0u8; 34];
        b[0..2].copy_from_slice(&0x3800u16.to_le_bytes()); // 0.5
        b[2] = 0xfe; // -2
        decode_block(DType::Q8_0, &b, &mut out);
        assert_eq!(out[0], -1.0);
    }

    #[test]
    fn encoders_round_trip_within_half_a_step() {
        let values: Vec<f32> = (0..32).map(|i| ((i * 37 % 17) as f32 - 8.0) * 0.13).collect();
        for (dtype, steps) in [(DType::Q8_0, 254.0), (DType::Q4_1, 15.0), (DType::F32, 1e9)] {
            let mut bytes = Vec::new();
            let per_block = if dtype == DType::F32 { 1 } else { 32 };
            for chunk in values.chunks(per_block) {
                encode(dtype, chunk, &mut bytes);
            }
            assert_eq!(bytes.len(), dtype.storage_bytes(32).unwrap());
            let mut back = vec![0.0; 32];
            decode_row(dtype, &bytes, &mut back);
            let range = 16.0 * 0.13;
            for (a, b) in values.iter().zip(&back) {
                assert!((a - b).abs() <= range / steps * 0.51 + 1e-3 * range, "{dtype:?}: {a} vs {b}");
            }
        }
    }
}
