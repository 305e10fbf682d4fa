//! Dot products of one f32 activation row with four weight rows straight from their blocks
//! (Q4_1, Q8_0), with no decoded copy: the decode path of a token, where each weight is used
//! once. Four rows per call so (natively) each activation load serves four rows and four
//! weight streams are in flight (one stream alone waits on memory); the wasm versions walk the
//! four one after another (see `simd128::q4_1`). Portable versions and AVX2+FMA ones picked at
//! run time.

#[cfg(target_arch = "x86_64")]
use super::block_dot::avx2_fma;
use super::block_dot::{by_format, whole_blocks, Q4_1_BYTES, Q8_0_BYTES};
use crate::core::f16::finite_f16_at as half;
use crate::core::DType;

/// (x, per-32-block sums of x, four weight rows' bytes) → the four Σ w·x.
pub type RowDot4 = fn(&[f32], &[f32], [&[u8]; 4]) -> [f32; 4];

/// The fastest row dot for `dtype` on this CPU, if there is one.
pub fn row_dot4(dtype: DType) -> Option<RowDot4> {
    #[cfg(target_arch = "x86_64")]
    if avx2_fma() {
        return by_format(dtype, avx2::q4_1, avx2::q8_0);
    }
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    return by_format(dtype, simd128::q4_1, simd128::q8_0);
    #[allow(unreachable_code)]
    portable(dtype)
}

fn portable(dtype: DType) -> Option<RowDot4> {
    by_format::<RowDot4>(dtype, |x, sums, rows| rows.map(|w| q4_1(x, sums, w)), |x, _, rows| rows.map(|w| q8_0(x, w)))
}

/// Σ (d·q + m)·x over Q4_1 blocks = Σ d·(q·x) + m·Σx; lanes accumulate across blocks.
fn q4_1(x: &[f32], sums: &[f32], bytes: &[u8]) -> f32 {
    let (mut acc, mut offsets) = ([0.0f32; 16], 0.0f32);
    for ((xb, &sx), b) in x.chunks_exact(32).zip(sums).zip(bytes.chunks_exact(Q4_1_BYTES)) {
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
fn q8_0(x: &[f32], bytes: &[u8]) -> f32 {
    let mut acc = [0.0f32; 32];
    for (xb, b) in x.chunks_exact(32).zip(bytes.chunks_exact(Q8_0_BYTES)) {
        let d = half(b, 0);
        for j in 0..32 {
            acc[j] += d * ((b[2 + j] as i8) as f32 * xb[j]);
        }
    }
    acc.iter().sum()
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::super::block_dot::avx2::hsum;
    use super::{whole_blocks, Q4_1_BYTES, Q8_0_BYTES};
    use crate::core::f16::finite_f16_at as half;
    use std::arch::x86_64::*;

    pub fn q4_1(x: &[f32], sums: &[f32], rows: [&[u8]; 4]) -> [f32; 4] {
        // SAFETY: chosen by `row_dot4` only after AVX2 and FMA were detected.
        unsafe { q4_1_impl(x, sums, rows) }
    }

    #[target_feature(enable = "avx2,fma")]
    fn q4_1_impl(x: &[f32], sums: &[f32], rows: [&[u8]; 4]) -> [f32; 4] {
        let n = whole_blocks(x.len(), &rows, Q4_1_BYTES).min(sums.len());
        let (mut acc, mut offsets) = ([_mm256_setzero_ps(); 4], [0.0f32; 4]);
        let nibble = _mm_set1_epi8(15);
        let (xp, wp) = (x.as_ptr(), rows.map(|w| w.as_ptr()));
        for i in 0..n {
            // SAFETY: i < n, so x holds 32 floats from i·32 and every row 20 bytes from i·20.
            unsafe {
                let p = xp.add(i * 32);
                let xs = [_mm256_loadu_ps(p), _mm256_loadu_ps(p.add(8)), _mm256_loadu_ps(p.add(16)), _mm256_loadu_ps(p.add(24))];
                let sx = *sums.get_unchecked(i);
                for r in 0..4 {
                    let b = wp[r].add(i * Q4_1_BYTES);
                    let q = _mm_loadu_si128(b.add(4) as *const __m128i);
                    let lo = _mm_and_si128(q, nibble);
                    let hi = _mm_and_si128(_mm_srli_epi16(q, 4), nibble);
                    let f = |v: __m128i| _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(v));
                    let mut s = _mm256_mul_ps(f(lo), xs[0]);
                    s = _mm256_fmadd_ps(f(_mm_srli_si128(lo, 8)), xs[1], s);
                    s = _mm256_fmadd_ps(f(hi), xs[2], s);
                    s = _mm256_fmadd_ps(f(_mm_srli_si128(hi, 8)), xs[3], s);
                    let head = std::slice::from_raw_parts(b, 4);
                    acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(half(head, 0)), s, acc[r]);
                    offsets[r] += half(head, 2) * sx;
                }
            }
        }
        [hsum(acc[0]) + offsets[0], hsum(acc[1]) + offsets[1], hsum(acc[2]) + offsets[2], hsum(acc[3]) + offsets[3]]
    }

    pub fn q8_0(x: &[f32], _sums: &[f32], rows: [&[u8]; 4]) -> [f32; 4] {
        // SAFETY: chosen by `row_dot4` only after AVX2 and FMA were detected.
        unsafe { q8_0_impl(x, rows) }
    }

    #[target_feature(enable = "avx2,fma")]
    fn q8_0_impl(x: &[f32], rows: [&[u8]; 4]) -> [f32; 4] {
        let n = whole_blocks(x.len(), &rows, Q8_0_BYTES);
        let mut acc = [_mm256_setzero_ps(); 4];
        let (xp, wp) = (x.as_ptr(), rows.map(|w| w.as_ptr()));
        for i in 0..n {
            // SAFETY: i < n, so x holds 32 floats from i·32 and every row 34 bytes from i·34.
            unsafe {
                let p = xp.add(i * 32);
                let xs = [_mm256_loadu_ps(p), _mm256_loadu_ps(p.add(8)), _mm256_loadu_ps(p.add(16)), _mm256_loadu_ps(p.add(24))];
                for r in 0..4 {
                    let b = wp[r].add(i * Q8_0_BYTES);
                    let f = |at: usize| _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(b.add(2 + at) as *const __m128i)));
                    let mut s = _mm256_mul_ps(f(0), xs[0]);
                    s = _mm256_fmadd_ps(f(8), xs[1], s);
                    s = _mm256_fmadd_ps(f(16), xs[2], s);
                    s = _mm256_fmadd_ps(f(24), xs[3], s);
                    acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(half(std::slice::from_raw_parts(b, 2), 0)), s, acc[r]);
                }
            }
        }
        [hsum(acc[0]), hsum(acc[1]), hsum(acc[2]), hsum(acc[3])]
    }
}

/// wasm SIMD (multiply and add, fused in the relaxed-SIMD builds).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd128 {
    use super::super::block_dot::simd128::{f32x4_sum, load16};
    use super::super::wasm_madd::madd;
    use super::{whole_blocks, Q4_1_BYTES, Q8_0_BYTES};
    use crate::core::f16::finite_f16_at as half;
    use core::arch::wasm32::*;

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

    /// Four f32x4 from the 16 bytes of `q`, each 0…15 (nibbles): byte 4j + i into lane i of
    /// the j-th. Relaxed SIMD's swizzle is one `pshufb` on x86 (an index of 128 or more gives
    /// 0), where widening through u16 and u32 takes two or three instructions per vector.
    #[cfg(target_feature = "relaxed-simd")]
    #[inline(always)]
    fn nibbles(q: v128) -> [v128; 4] {
        const Z: u8 = 0x80;
        const fn pick(j: u8) -> v128 {
            let b = 4 * j;
            u8x16(b, Z, Z, Z, b + 1, Z, Z, Z, b + 2, Z, Z, Z, b + 3, Z, Z, Z)
        }
        const PICKS: [v128; 4] = [pick(0), pick(1), pick(2), pick(3)];
        PICKS.map(|p| f32x4_convert_i32x4(i8x16_relaxed_swizzle(q, p)))
    }

    #[cfg(not(target_feature = "relaxed-simd"))]
    #[inline(always)]
    fn nibbles(q: v128) -> [v128; 4] {
        widen(q, false)
    }

    /// The 32 activations of block `i`, as eight f32x4.
    #[inline(always)]
    fn block(x: &[f32], i: usize) -> [v128; 8] {
        let xb = &x[i * 32..i * 32 + 32];
        // SAFETY: each load reads 4 of the 32 floats xb holds; v128_load needs no alignment.
        core::array::from_fn(|j| unsafe { v128_load(xb[j * 4..j * 4 + 4].as_ptr() as *const v128) })
    }

    /// `Σ lanes of f · x` for 16 values of weights `f` and activations `x`, added to `acc`.
    #[inline(always)]
    fn mul_add(acc: v128, f: [v128; 4], x: &[v128]) -> v128 {
        let pair = |i: usize| madd(f[i], x[i], f32x4_mul(f[i + 1], x[i + 1]));
        f32x4_add(acc, f32x4_add(pair(0), pair(2)))
    }

    /// One row at a time: a block's eight activation vectors then live only while its row
    /// uses them. Sweeping the four rows per block kept all eight live beside four accumulators
    /// and the unpacked weights, past the 15 vector registers V8 allocates on x86-64.
    pub fn q4_1(x: &[f32], sums: &[f32], rows: [&[u8]; 4]) -> [f32; 4] {
        let n = whole_blocks(x.len(), &rows, Q4_1_BYTES).min(sums.len());
        rows.map(|w| q4_1_row(x, sums, &w[..n * Q4_1_BYTES], n))
    }

    #[inline(always)]
    fn q4_1_row(x: &[f32], sums: &[f32], w: &[u8], n: usize) -> f32 {
        let (mut acc, mut offsets) = (f32x4_splat(0.0), 0.0f32);
        let nibble = u8x16_splat(15);
        for i in 0..n {
            let (xs, b) = (block(x, i), &w[i * Q4_1_BYTES..(i + 1) * Q4_1_BYTES]);
            let q = load16(b, 4);
            let (lo, hi) = (nibbles(v128_and(q, nibble)), nibbles(u8x16_shr(q, 4)));
            let s = mul_add(mul_add(f32x4_splat(0.0), lo, &xs[..4]), hi, &xs[4..]);
            acc = madd(f32x4_splat(half(b, 0)), s, acc);
            offsets += half(b, 2) * sums[i];
        }
        f32x4_sum(acc) + offsets
    }

    /// One row at a time, as `q4_1`.
    pub fn q8_0(x: &[f32], _sums: &[f32], rows: [&[u8]; 4]) -> [f32; 4] {
        let n = whole_blocks(x.len(), &rows, Q8_0_BYTES);
        rows.map(|w| {
            let mut acc = f32x4_splat(0.0);
            for i in 0..n {
                let (xs, b) = (block(x, i), &w[i * Q8_0_BYTES..(i + 1) * Q8_0_BYTES]);
                let s = mul_add(mul_add(f32x4_splat(0.0), widen(load16(b, 2), true), &xs[..4]), widen(load16(b, 18), true), &xs[4..]);
                acc = madd(f32x4_splat(half(b, 0)), s, acc);
            }
            f32x4_sum(acc)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::{blocks, SeededRng};

    /// The chosen dot and the portable one, for four different rows at once.
    #[test]
    fn row_dots_match_the_decoded_product() {
        let k = 576;
        let x = SeededRng::new(3).fill(k);
        let sums: Vec<f32> = x.chunks_exact(32).map(|b| b.iter().sum()).collect();
        for dtype in [DType::Q4_1, DType::Q8_0] {
            let (mut encoded, mut want) = (Vec::new(), Vec::new());
            for r in 0..4 {
                let values = SeededRng::new(4 + r).fill(k);
                let mut bytes = Vec::new();
                for b in values.chunks_exact(32) {
                    blocks::encode(dtype, b, &mut bytes);
                }
                let mut w = vec![0.0; k];
                blocks::decode_row(dtype, &bytes, &mut w);
                want.push(x.iter().zip(&w).map(|(a, b)| *a as f64 * *b as f64).sum::<f64>());
                encoded.push(bytes);
            }
            let group = [&encoded[0][..], &encoded[1][..], &encoded[2][..], &encoded[3][..]];
            for dot in [row_dot4(dtype), portable(dtype)].into_iter().flatten() {
                for (r, got) in dot(&x, &sums, group).into_iter().enumerate() {
                    assert!((got as f64 - want[r]).abs() < 1e-4 * (k as f64).sqrt(), "{dtype:?} row {r}: {got} vs {}", want[r]);
                }
            }
        }
    }
}
