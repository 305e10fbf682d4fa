//! Dot products of one activation row with one weight row straight from its blocks (Q4_1,
//! Q8_0), with no decoded copy: the decode path of a token, where each weight is used once.
//! Portable versions (wasm SIMD vectorises them) and AVX2+FMA ones picked at run time.

use crate::core::f16::f16_at as half;
use crate::core::DType;

/// A row dot: (x, per-32-block sums of x, weight row bytes) → Σ w·x.
pub type RowDot = fn(&[f32], &[f32], &[u8]) -> f32;

/// The fastest row dot for `dtype` on this CPU, if there is one.
pub fn row_dot(dtype: DType) -> Option<RowDot> {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        return match dtype {
            DType::Q4_1 => Some(avx2::q4_1),
            DType::Q8_0 => Some(avx2::q8_0),
            _ => None,
        };
    }
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    return match dtype {
        DType::Q4_1 => Some(simd128::q4_1),
        DType::Q8_0 => Some(simd128::q8_0),
        _ => None,
    };
    #[allow(unreachable_code)]
    match dtype {
        DType::Q4_1 => Some(q4_1),
        DType::Q8_0 => Some(q8_0),
        _ => None,
    }
}

/// Σ (d·q + m)·x over Q4_1 blocks = Σ d·(q·x) + m·Σx; lanes accumulate across blocks.
fn q4_1(x: &[f32], sums: &[f32], bytes: &[u8]) -> f32 {
    let (mut acc, mut offsets) = ([0.0f32; 16], 0.0f32);
    for ((xb, &sx), b) in x.chunks_exact(32).zip(sums).zip(bytes.chunks_exact(20)) {
        let (d, m) = (half(b, 0), half(b, 2));
        let (q, lo, hi) = (&b[4..20], &xb[..16], &xb[16..]);
        for j in 0..16 {
            acc[j] += d * ((q[j] & 15) as f32 * lo[j] + (q[j] >> 4) as f32 * hi[j]);
        }
        offsets += m * sx;
    }
    acc.iter().sum::<f32>() + offsets
}

/// Σ d·q·x over Q8_0 blocks.
fn q8_0(x: &[f32], _sums: &[f32], bytes: &[u8]) -> f32 {
    let mut acc = [0.0f32; 32];
    for (xb, b) in x.chunks_exact(32).zip(bytes.chunks_exact(34)) {
        let d = half(b, 0);
        for j in 0..32 {
            acc[j] += d * ((b[2 + j] as i8) as f32 * xb[j]);
        }
    }
    acc.iter().sum()
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use crate::core::f16::f16_at as half;
    use std::arch::x86_64::*;

    #[target_feature(enable = "avx2,fma")]
    fn hsum(v: __m256) -> f32 {
        let s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
        let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        _mm_cvtss_f32(_mm_add_ss(s, _mm_shuffle_ps(s, s, 1)))
    }

    pub fn q4_1(x: &[f32], sums: &[f32], bytes: &[u8]) -> f32 {
        // SAFETY: chosen by `row_dot` only after AVX2 and FMA were detected.
        unsafe { q4_1_impl(x, sums, bytes) }
    }

    #[target_feature(enable = "avx2,fma")]
    fn q4_1_impl(x: &[f32], sums: &[f32], bytes: &[u8]) -> f32 {
        let blocks = (x.len() / 32).min(bytes.len() / 20).min(sums.len());
        let mut acc = _mm256_setzero_ps();
        let mut offsets = 0.0f32;
        let nibble = _mm_set1_epi8(15);
        for i in 0..blocks {
            let b = &bytes[i * 20..i * 20 + 20];
            let xb = &x[i * 32..i * 32 + 32];
            // SAFETY: b holds 20 bytes (16 read from offset 4) and xb 32 floats (read in 4 × 8).
            unsafe {
                let q = _mm_loadu_si128(b.as_ptr().add(4) as *const __m128i);
                let lo = _mm_and_si128(q, nibble);
                let hi = _mm_and_si128(_mm_srli_epi16(q, 4), nibble);
                let f = |v: __m128i| _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(v));
                let p = xb.as_ptr();
                let mut s = _mm256_mul_ps(f(lo), _mm256_loadu_ps(p));
                s = _mm256_fmadd_ps(f(_mm_srli_si128(lo, 8)), _mm256_loadu_ps(p.add(8)), s);
                s = _mm256_fmadd_ps(f(hi), _mm256_loadu_ps(p.add(16)), s);
                s = _mm256_fmadd_ps(f(_mm_srli_si128(hi, 8)), _mm256_loadu_ps(p.add(24)), s);
                acc = _mm256_fmadd_ps(_mm256_set1_ps(half(b, 0)), s, acc);
            }
            offsets += half(b, 2) * sums[i];
        }
        hsum(acc) + offsets
    }

    pub fn q8_0(x: &[f32], _sums: &[f32], bytes: &[u8]) -> f32 {
        // SAFETY: chosen by `row_dot` only after AVX2 and FMA were detected.
        unsafe { q8_0_impl(x, bytes) }
    }

    #[target_feature(enable = "avx2,fma")]
    fn q8_0_impl(x: &[f32], bytes: &[u8]) -> f32 {
        let blocks = (x.len() / 32).min(bytes.len() / 34);
        let mut acc = _mm256_setzero_ps();
        for i in 0..blocks {
            let b = &bytes[i * 34..i * 34 + 34];
            let xb = &x[i * 32..i * 32 + 32];
            // SAFETY: b holds 34 bytes (4 × 8 read from offset 2) and xb 32 floats.
            unsafe {
                let f = |at: usize| _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(b.as_ptr().add(2 + at) as *const __m128i)));
                let p = xb.as_ptr();
                let mut s = _mm256_mul_ps(f(0), _mm256_loadu_ps(p));
                s = _mm256_fmadd_ps(f(8), _mm256_loadu_ps(p.add(8)), s);
                s = _mm256_fmadd_ps(f(16), _mm256_loadu_ps(p.add(16)), s);
                s = _mm256_fmadd_ps(f(24), _mm256_loadu_ps(p.add(24)), s);
                acc = _mm256_fmadd_ps(_mm256_set1_ps(half(b, 0)), s, acc);
            }
        }
        hsum(acc)
    }
}

/// wasm SIMD (multiply and add, fused in the relaxed-SIMD builds).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd128 {
    use super::super::wasm_madd::madd;
    use crate::core::f16::f16_at as half;
    use core::arch::wasm32::*;

    #[inline(always)]
    fn f32x4_sum(v: v128) -> f32 {
        f32x4_extract_lane::<0>(v) + f32x4_extract_lane::<1>(v) + f32x4_extract_lane::<2>(v) + f32x4_extract_lane::<3>(v)
    }

    /// Four f32x4 from the 16 bytes of `q` (as unsigned or signed).
    #[inline(always)]
    fn widen(q: v128, signed: bool) -> [v128; 4] {
        let (a, b) = if signed {
            (i16x8_extend_low_i8x16(q), i16x8_extend_high_i8x16(q))
        } else {
            (u16x8_extend_low_u8x16(q), u16x8_extend_high_u8x16(q))
        };
        let w = |h: v128, high: bool| {
            let i = match (signed, high) {
                (true, false) => i32x4_extend_low_i16x8(h),
                (true, true) => i32x4_extend_high_i16x8(h),
                (false, false) => u32x4_extend_low_u16x8(h),
                (false, true) => u32x4_extend_high_u16x8(h),
            };
            f32x4_convert_i32x4(i)
        };
        [w(a, false), w(a, true), w(b, false), w(b, true)]
    }

    /// `Σ lanes of f · x[at..at + 16]`, accumulated into `acc`.
    #[inline(always)]
    fn mul_add(acc: v128, f: [v128; 4], x: &[f32]) -> v128 {
        // SAFETY: each load reads 4 of the 16 floats x holds; v128_load needs no alignment.
        let load = |i: usize| unsafe { v128_load(x[i * 4..i * 4 + 4].as_ptr() as *const v128) };
        let pair = |i: usize| madd(f[i], load(i), f32x4_mul(f[i + 1], load(i + 1)));
        f32x4_add(acc, f32x4_add(pair(0), pair(2)))
    }

    pub fn q4_1(x: &[f32], sums: &[f32], bytes: &[u8]) -> f32 {
        let (mut acc, mut offsets) = (f32x4_splat(0.0), 0.0f32);
        let nibble = u8x16_splat(15);
        for ((xb, &sx), b) in x.chunks_exact(32).zip(sums).zip(bytes.chunks_exact(20)) {
            // SAFETY: b holds 20 bytes; 16 are read from offset 4.
            let q = unsafe { v128_load(b[4..20].as_ptr() as *const v128) };
            let lo = widen(v128_and(q, nibble), false);
            let hi = widen(u8x16_shr(q, 4), false);
            let s = mul_add(mul_add(f32x4_splat(0.0), lo, &xb[..16]), hi, &xb[16..]);
            acc = madd(f32x4_splat(half(b, 0)), s, acc);
            offsets += half(b, 2) * sx;
        }
        f32x4_sum(acc) + offsets
    }

    pub fn q8_0(x: &[f32], _sums: &[f32], bytes: &[u8]) -> f32 {
        let mut acc = f32x4_splat(0.0);
        for (xb, b) in x.chunks_exact(32).zip(bytes.chunks_exact(34)) {
            // SAFETY: b holds 34 bytes; 2 × 16 are read from offsets 2 and 18.
            let (q0, q1) = unsafe { (v128_load(b[2..18].as_ptr() as *const v128), v128_load(b[18..34].as_ptr() as *const v128)) };
            let s = mul_add(mul_add(f32x4_splat(0.0), widen(q0, true), &xb[..16]), widen(q1, true), &xb[16..]);
            acc = madd(f32x4_splat(half(b, 0)), s, acc);
        }
        f32x4_sum(acc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::{blocks, SeededRng};

    #[test]
    fn row_dots_match_the_decoded_product() {
        let k = 576;
        let x = SeededRng::new(3).fill(k);
        let sums: Vec<f32> = x.chunks_exact(32).map(|b| b.iter().sum()).collect();
        let values = SeededRng::new(4).fill(k);
        for dtype in [DType::Q4_1, DType::Q8_0] {
            let mut bytes = Vec::new();
            for b in values.chunks_exact(32) {
                blocks::encode(dtype, b, &mut bytes);
            }
            let mut w = vec![0.0; k];
            blocks::decode_row(dtype, &bytes, &mut w);
            let want: f64 = x.iter().zip(&w).map(|(a, b)| *a as f64 * *b as f64).sum();
            for dot in [row_dot(dtype).unwrap_or(q8_0), if dtype == DType::Q4_1 { q4_1 } else { q8_0 }] {
                let got = dot(&x, &sums, &bytes) as f64;
                assert!((got - want).abs() < 1e-4 * (k as f64).sqrt(), "{dtype:?}: {got} vs {want}");
            }
        }
    }
}
