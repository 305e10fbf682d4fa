//! The CPU's measured peak: a loop of nothing but fused multiply-adds on independent
//! accumulators held in registers, one thread. Matmul GFLOP/s are read against it.
//!
//! Every build does exactly [`FMAS_PER_ITERATION`] multiply-adds per iteration, laid out for
//! its widest vectors with eight independent chains (enough to cover FMA latency on two
//! ports): AVX-512 8×16 lanes, AVX2 8×8 lanes twice, wasm SIMD 8×4 lanes four times (a fused
//! `relaxed_madd` where the build has relaxed SIMD, else a multiply and an add), a portable
//! fallback 8 scalars sixteen times. With a multiplier of 1 and an addend of 0, read through
//! `black_box` so nothing folds, the state ends as it began: the output is checkable. The
//! chains start and end in `black_box`: they start from equal values and only some reach the
//! output, so LLVM merged or deleted all but one, and one dependent chain timed as eight
//! read twice the CPU's real peak natively.

use std::hint::black_box;

/// Multiply-adds per iteration in every build (two flops each).
pub const FMAS_PER_ITERATION: usize = 128;
/// Values of state each build seeds its accumulators from and writes back.
pub const STATE: usize = 16;

/// Run `iterations` iterations from `seed`; the state afterwards (equal to `seed`).
pub fn run(seed: &[f32; STATE], iterations: u64) -> [f32; STATE] {
    let (multiplier, addend) = (black_box(1.0f32), black_box(0.0f32));
    #[cfg(target_arch = "x86_64")]
    {
        if is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU has AVX-512F (checked just above).
            return unsafe { x86::avx512(seed, iterations, multiplier, addend) };
        }
        if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            // SAFETY: the CPU has AVX2 and FMA (checked just above).
            return unsafe { x86::avx2(seed, iterations, multiplier, addend) };
        }
    }
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        return wasm::simd(seed, iterations, multiplier, addend);
    }
    #[allow(unreachable_code)]
    portable(seed, iterations, multiplier, addend)
}

fn portable(seed: &[f32; STATE], iterations: u64, a: f32, b: f32) -> [f32; STATE] {
    let mut acc = [0.0f32; 8];
    acc.copy_from_slice(&seed[..8]);
    for _ in 0..iterations {
        for _ in 0..FMAS_PER_ITERATION / 8 {
            for v in acc.iter_mut() {
                *v = *v * a + b;
            }
        }
    }
    let mut out = *seed;
    out[..8].copy_from_slice(&acc);
    black_box(out)
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{FMAS_PER_ITERATION, STATE};
    use std::arch::x86_64::*;
    use std::hint::black_box;

    /// The 8 accumulators from the seed's values, repeated across lanes.
    fn lane_values<const L: usize>(seed: &[f32; STATE]) -> [[f32; L]; 8] {
        std::array::from_fn(|chain| std::array::from_fn(|lane| seed[(chain * L + lane) % STATE]))
    }

    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn avx512(seed: &[f32; STATE], iterations: u64, a: f32, b: f32) -> [f32; STATE] {
        let init = lane_values::<16>(seed);
        let mut acc: [__m512; 8] = black_box(std::array::from_fn(|c| _mm512_loadu_ps(init[c].as_ptr())));
        let (va, vb) = (_mm512_set1_ps(a), _mm512_set1_ps(b));
        const { assert!(FMAS_PER_ITERATION == 8 * 16) };
        for _ in 0..iterations {
            for v in acc.iter_mut() {
                *v = _mm512_fmadd_ps(*v, va, vb);
            }
        }
        let acc = black_box(acc);
        let mut out = [0.0f32; 16];
        _mm512_storeu_ps(out.as_mut_ptr(), acc[0]);
        out
    }

    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn avx2(seed: &[f32; STATE], iterations: u64, a: f32, b: f32) -> [f32; STATE] {
        let init = lane_values::<8>(seed);
        let mut acc: [__m256; 8] = black_box(std::array::from_fn(|c| _mm256_loadu_ps(init[c].as_ptr())));
        let (va, vb) = (_mm256_set1_ps(a), _mm256_set1_ps(b));
        const { assert!(FMAS_PER_ITERATION == 2 * 8 * 8) };
        for _ in 0..iterations {
            for _ in 0..2 {
                for v in acc.iter_mut() {
                    *v = _mm256_fmadd_ps(*v, va, vb);
                }
            }
        }
        let acc = black_box(acc);
        let mut out = [0.0f32; 16];
        _mm256_storeu_ps(out.as_mut_ptr(), acc[0]);
        _mm256_storeu_ps(out.as_mut_ptr().add(8), acc[1]);
        out
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod wasm {
    use super::{FMAS_PER_ITERATION, STATE};
    use std::arch::wasm32::*;
    use std::hint::black_box;

    #[inline(always)]
    fn madd(acc: v128, a: v128, b: v128) -> v128 {
        #[cfg(target_feature = "relaxed-simd")]
        {
            f32x4_relaxed_madd(acc, a, b)
        }
        #[cfg(not(target_feature = "relaxed-simd"))]
        {
            f32x4_add(f32x4_mul(acc, a), b)
        }
    }

    pub(super) fn simd(seed: &[f32; STATE], iterations: u64, a: f32, b: f32) -> [f32; STATE] {
        let lane = |chain: usize, i: usize| seed[(chain * 4 + i) % STATE];
        let mut acc: [v128; 8] = black_box(std::array::from_fn(|c| f32x4(lane(c, 0), lane(c, 1), lane(c, 2), lane(c, 3))));
        let (va, vb) = (f32x4_splat(a), f32x4_splat(b));
        const { assert!(FMAS_PER_ITERATION == 4 * 8 * 4) };
        for _ in 0..iterations {
            for _ in 0..4 {
                for v in acc.iter_mut() {
                    *v = madd(*v, va, vb);
                }
            }
        }
        let acc = black_box(acc);
        let mut out = [0.0f32; STATE];
        for (lanes, &v) in out.chunks_exact_mut(4).zip(&acc) {
            lanes.copy_from_slice(&[
                f32x4_extract_lane::<0>(v),
                f32x4_extract_lane::<1>(v),
                f32x4_extract_lane::<2>(v),
                f32x4_extract_lane::<3>(v),
            ]);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_survives_the_loop_on_every_path() {
        let seed: [f32; STATE] = std::array::from_fn(|i| i as f32 * 0.25 - 1.5);
        assert_eq!(run(&seed, 1000), seed);
        assert_eq!(portable(&seed, 10, 1.0, 0.0), seed);
        // A real multiply-add: each of the 16 rounds per iteration doubles the first 8 values.
        let doubled = portable(&seed, 1, 2.0, 0.0);
        assert_eq!(doubled[0], seed[0] * 65536.0);
        assert_eq!(doubled[8], seed[8]);
    }
}
