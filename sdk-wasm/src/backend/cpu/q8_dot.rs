//! Dot products of one 8-bit activation row (`Q8Rows`) with one weight row in its blocks
//! (Q4_1, Q8_0), in integers: per block Σ w·x is exact in i32, then scaled once. This is
//! where 8-bit activations pay: no weight is ever widened to f32.
//! Portable versions, AVX2 ones picked at run time, and wasm SIMD ones (with relaxed SIMD's
//! 8-bit dot product where the build has it).

#[cfg(target_arch = "x86_64")]
use super::block_dot::avx2_fma;
use super::block_dot::{by_format, whole_blocks, Q4_1_BYTES, Q8_0_BYTES};
use super::q8_rows::BLOCK;
use crate::core::f16::finite_f16_at as half;
use crate::core::DType;

/// (activation values, their block scales, their block sums, four weight rows' bytes) → the
/// four Σ w·x. Four rows at once: the activations are loaded once for all four, and four
/// streams of weights are in flight, which is what keeps memory busy where a single row's
/// stream waits on each cache line (decode streams every weight once per token).
pub type Q8Dot4 = fn(&[i8], &[f32], &[f32], [&[u8]; 4]) -> [f32; 4];

/// The fastest integer dot for weights in `dtype`, if the format has one.
pub fn q8_dot4(dtype: DType) -> Option<Q8Dot4> {
    #[cfg(target_arch = "x86_64")]
    if avx2_fma() {
        return by_format(dtype, avx2::q4_1, avx2::q8_0);
    }
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    return by_format(dtype, simd128::q4_1, simd128::q8_0);
    #[allow(unreachable_code)]
    portable(dtype)
}

fn portable(dtype: DType) -> Option<Q8Dot4> {
    by_format::<Q8Dot4>(
        dtype,
        |x, scales, sums, rows| rows.map(|w| q4_1(x, scales, sums, w)),
        |x, scales, _, rows| rows.map(|w| q8_0(x, scales, w)),
    )
}

/// Σ d·(Σ q·x) + m·Σx per block.
fn q4_1(x: &[i8], scales: &[f32], sums: &[f32], w: &[u8]) -> f32 {
    let mut acc = 0.0f32;
    for (((xb, &s), &sx), b) in x.chunks_exact(BLOCK).zip(scales).zip(sums).zip(w.chunks_exact(Q4_1_BYTES)) {
        let q = &b[4..20];
        let dot: i32 = (0..16).map(|j| (q[j] & 15) as i32 * xb[j] as i32 + (q[j] >> 4) as i32 * xb[16 + j] as i32).sum();
        acc += half(b, 0) * s * dot as f32 + half(b, 2) * sx;
    }
    acc
}

fn q8_0(x: &[i8], scales: &[f32], w: &[u8]) -> f32 {
    let mut acc = 0.0f32;
    for ((xb, &s), b) in x.chunks_exact(BLOCK).zip(scales).zip(w.chunks_exact(Q8_0_BYTES)) {
        let dot: i32 = b[2..34].iter().zip(xb).map(|(&q, &v)| (q as i8) as i32 * v as i32).sum();
        acc += half(b, 0) * s * dot as f32;
    }
    acc
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::super::block_dot::avx2::hsum;
    use super::{whole_blocks, BLOCK, Q4_1_BYTES, Q8_0_BYTES};
    use crate::core::f16::finite_f16_at as half;
    use std::arch::x86_64::*;

    pub fn q4_1(x: &[i8], scales: &[f32], sums: &[f32], rows: [&[u8]; 4]) -> [f32; 4] {
        // SAFETY: chosen by `q8_dot4` only after AVX2 and FMA were detected.
        unsafe { q4_1_impl(x, scales, sums, rows) }
    }

    #[target_feature(enable = "avx2,fma")]
    fn q4_1_impl(x: &[i8], scales: &[f32], sums: &[f32], rows: [&[u8]; 4]) -> [f32; 4] {
        let n = whole_blocks(x.len(), &rows, Q4_1_BYTES).min(scales.len()).min(sums.len());
        let (mut acc, mut offsets) = ([_mm256_setzero_ps(); 4], [0.0f32; 4]);
        let nibble = _mm_set1_epi8(15);
        let ones = _mm256_set1_epi16(1);
        let (xp, wp) = (x.as_ptr(), rows.map(|w| w.as_ptr()));
        for i in 0..n {
            // SAFETY: i < n, so x holds 32 bytes from i·32 and every row 20 bytes from i·20.
            unsafe {
                let xq = _mm256_loadu_si256(xp.add(i * BLOCK) as *const __m256i);
                let (s, sx) = (*scales.get_unchecked(i), *sums.get_unchecked(i));
                for r in 0..4 {
                    let b = wp[r].add(i * Q4_1_BYTES);
                    let q = _mm_loadu_si128(b.add(4) as *const __m128i);
                    let wq = _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(q, 4), nibble), _mm_and_si128(q, nibble));
                    // u8 × i8 products, pairs summed in i16 (≤ 2·15·127), then fours in i32.
                    let dot = _mm256_cvtepi32_ps(_mm256_madd_epi16(_mm256_maddubs_epi16(wq, xq), ones));
                    let head = std::slice::from_raw_parts(b, 4);
                    acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(half(head, 0) * s), dot, acc[r]);
                    offsets[r] += half(head, 2) * sx;
                }
            }
        }
        [hsum(acc[0]) + offsets[0], hsum(acc[1]) + offsets[1], hsum(acc[2]) + offsets[2], hsum(acc[3]) + offsets[3]]
    }

    pub fn q8_0(x: &[i8], scales: &[f32], _sums: &[f32], rows: [&[u8]; 4]) -> [f32; 4] {
        // SAFETY: chosen by `q8_dot4` only after AVX2 and FMA were detected.
        unsafe { q8_0_impl(x, scales, rows) }
    }

    #[target_feature(enable = "avx2,fma")]
    fn q8_0_impl(x: &[i8], scales: &[f32], rows: [&[u8]; 4]) -> [f32; 4] {
        let n = whole_blocks(x.len(), &rows, Q8_0_BYTES).min(scales.len());
        let mut acc = [_mm256_setzero_ps(); 4];
        let ones = _mm256_set1_epi16(1);
        let (xp, wp) = (x.as_ptr(), rows.map(|w| w.as_ptr()));
        for i in 0..n {
            // SAFETY: i < n, so x holds 32 bytes from i·32 and every row 34 bytes from i·34.
            unsafe {
                let xq = _mm256_loadu_si256(xp.add(i * BLOCK) as *const __m256i);
                let s = *scales.get_unchecked(i);
                for r in 0..4 {
                    let b = wp[r].add(i * Q8_0_BYTES);
                    let wq = _mm256_loadu_si256(b.add(2) as *const __m256i);
                    // maddubs multiplies unsigned by signed: move w's signs onto x. Pairs of
                    // products fit i16: |w| ≤ 128, |x| ≤ 127, so |pair| ≤ 32 512.
                    let pairs = _mm256_maddubs_epi16(_mm256_sign_epi8(wq, wq), _mm256_sign_epi8(xq, wq));
                    let dot = _mm256_cvtepi32_ps(_mm256_madd_epi16(pairs, ones));
                    acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(half(std::slice::from_raw_parts(b, 2), 0) * s), dot, acc[r]);
                }
            }
        }
        [hsum(acc[0]), hsum(acc[1]), hsum(acc[2]), hsum(acc[3])]
    }
}

/// wasm SIMD: 16-bit dot products; the relaxed-SIMD builds multiply Q4_1's nibbles (7-bit
/// safe) by 8-bit activations in one instruction.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd128 {
    use super::super::block_dot::simd128::{f32x4_sum, load16};
    use super::super::wasm_madd::madd;
    use super::{whole_blocks, BLOCK, Q4_1_BYTES, Q8_0_BYTES};
    use crate::core::f16::finite_f16_at as half;
    use core::arch::wasm32::*;

    /// i32x4 sums of the products of 16 unsigned 7-bit `w` and 16 signed `x`, added to `acc`.
    #[inline(always)]
    fn dot_u7_i8(w: v128, x: v128, acc: v128) -> v128 {
        #[cfg(target_feature = "relaxed-simd")]
        {
            i32x4_relaxed_dot_i8x16_i7x16_add(x, w, acc)
        }
        #[cfg(not(target_feature = "relaxed-simd"))]
        {
            let lo = i32x4_dot_i16x8(u16x8_extend_low_u8x16(w), i16x8_extend_low_i8x16(x));
            let hi = i32x4_dot_i16x8(u16x8_extend_high_u8x16(w), i16x8_extend_high_i8x16(x));
            i32x4_add(acc, i32x4_add(lo, hi))
        }
    }

    /// i32x4 sums of the products of 16 signed `w` and 16 signed `x`, added to `acc`.
    #[inline(always)]
    fn dot_i8_i8(w: v128, x: v128, acc: v128) -> v128 {
        let lo = i32x4_dot_i16x8(i16x8_extend_low_i8x16(w), i16x8_extend_low_i8x16(x));
        let hi = i32x4_dot_i16x8(i16x8_extend_high_i8x16(w), i16x8_extend_high_i8x16(x));
        i32x4_add(acc, i32x4_add(lo, hi))
    }

    pub fn q4_1(x: &[i8], scales: &[f32], sums: &[f32], rows: [&[u8]; 4]) -> [f32; 4] {
        let n = whole_blocks(x.len(), &rows, Q4_1_BYTES).min(scales.len()).min(sums.len());
        let (mut acc, mut offsets) = ([f32x4_splat(0.0); 4], [0.0f32; 4]);
        let nibble = u8x16_splat(15);
        let rows = rows.map(|w| &w[..n * Q4_1_BYTES]);
        for i in 0..n {
            let (lo, hi, s, sx) = (load16(x, i * BLOCK), load16(x, i * BLOCK + 16), scales[i], sums[i]);
            for r in 0..4 {
                let b = &rows[r][i * Q4_1_BYTES..(i + 1) * Q4_1_BYTES];
                let q = load16(b, 4);
                let sums4 = dot_u7_i8(u8x16_shr(q, 4), hi, dot_u7_i8(v128_and(q, nibble), lo, i32x4_splat(0)));
                acc[r] = madd(f32x4_splat(half(b, 0) * s), f32x4_convert_i32x4(sums4), acc[r]);
                offsets[r] += half(b, 2) * sx;
            }
        }
        [f32x4_sum(acc[0]) + offsets[0], f32x4_sum(acc[1]) + offsets[1], f32x4_sum(acc[2]) + offsets[2], f32x4_sum(acc[3]) + offsets[3]]
    }

    pub fn q8_0(x: &[i8], scales: &[f32], _sums: &[f32], rows: [&[u8]; 4]) -> [f32; 4] {
        let n = whole_blocks(x.len(), &rows, Q8_0_BYTES).min(scales.len());
        let mut acc = [f32x4_splat(0.0); 4];
        let rows = rows.map(|w| &w[..n * Q8_0_BYTES]);
        for i in 0..n {
            let (x0, x1, s) = (load16(x, i * BLOCK), load16(x, i * BLOCK + 16), scales[i]);
            for r in 0..4 {
                let b = &rows[r][i * Q8_0_BYTES..(i + 1) * Q8_0_BYTES];
                let sums4 = dot_i8_i8(load16(b, 18), x1, dot_i8_i8(load16(b, 2), x0, i32x4_splat(0)));
                acc[r] = madd(f32x4_splat(half(b, 0) * s), f32x4_convert_i32x4(sums4), acc[r]);
            }
        }
        [f32x4_sum(acc[0]), f32x4_sum(acc[1]), f32x4_sum(acc[2]), f32x4_sum(acc[3])]
    }
}

#[cfg(test)]
mod tests {
    use super::super::q8_rows::Q8Rows;
    use super::*;
    use crate::core::{blocks, SeededRng};

    /// Every dot (the chosen one and the portable one) against an f64 product of the rounded
    /// activations with the decoded weights, for four different rows at once.
    #[test]
    fn integer_dots_match_the_f64_product_of_the_rounded_values() {
        let k = 576;
        let mut x = SeededRng::new(3).fill(k);
        x[7] = -3.0; // a block whose extreme is negative
        let rows = Q8Rows::quantize(&x, k);
        let (q, scales, sums) = rows.row(0);
        let xv = rows.dequantized();
        for dtype in [DType::Q4_1, DType::Q8_0] {
            let (mut encoded, mut want) = (Vec::new(), Vec::new());
            for r in 0..4 {
                let mut values = SeededRng::new(4 + r).fill(k);
                values[40] = -2.0; // a Q8_0 weight of −127 next to activations of both signs
                let mut bytes = Vec::new();
                for b in values.chunks_exact(32) {
                    blocks::encode(dtype, b, &mut bytes);
                }
                let mut w = vec![0.0; k];
                blocks::decode_row(dtype, &bytes, &mut w);
                want.push(xv.iter().zip(&w).map(|(a, b)| *a as f64 * *b as f64).sum::<f64>());
                encoded.push(bytes);
            }
            let group = [&encoded[0][..], &encoded[1][..], &encoded[2][..], &encoded[3][..]];
            for dot in [q8_dot4(dtype), portable(dtype)].into_iter().flatten() {
                for (r, got) in dot(q, scales, sums, group).into_iter().enumerate() {
                    assert!((got as f64 - want[r]).abs() < 1e-4 * (k as f64).sqrt(), "{dtype:?} row {r}: {got} vs {}", want[r]);
                }
            }
        }
    }
}
