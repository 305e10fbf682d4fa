//! What both block-format row dots (`qdot.rs` for f32 activations, `q8_dot.rs` for 8-bit
//! ones) share: the block sizes, which kernel a format takes, how many blocks a call may read,
//! and the vector reductions.

use crate::core::DType;

/// Q4_1 block: f16 d, f16 m, 16 bytes (byte j: value j low, value j + 16 high); value = d·q + m.
pub const Q4_1_BYTES: usize = 20;
/// Q8_0 block: f16 d, 32 signed bytes; value = d·q.
pub const Q8_0_BYTES: usize = 34;

/// The kernel of the pair (Q4_1's, Q8_0's) for weights in `dtype`; None for other formats.
pub fn by_format<F>(dtype: DType, q4_1: F, q8_0: F) -> Option<F> {
    match dtype {
        DType::Q4_1 => Some(q4_1),
        DType::Q8_0 => Some(q8_0),
        _ => None,
    }
}

/// Whether this CPU runs the AVX2+FMA kernels.
#[cfg(target_arch = "x86_64")]
pub fn avx2_fma() -> bool {
    std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
}

/// Whole 32-value blocks that `values` activations and every one of `rows` hold.
pub fn whole_blocks(values: usize, rows: &[&[u8]; 4], block_bytes: usize) -> usize {
    rows.iter().fold(values / 32, |n, w| n.min(w.len() / block_bytes))
}

#[cfg(target_arch = "x86_64")]
pub mod avx2 {
    use std::arch::x86_64::*;

    /// The sum of the eight lanes.
    #[target_feature(enable = "avx2,fma")]
    pub fn hsum(v: __m256) -> f32 {
        let s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
        let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        _mm_cvtss_f32(_mm_add_ss(s, _mm_shuffle_ps(s, s, 1)))
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub mod simd128 {
    use core::arch::wasm32::*;

    /// The sum of the four lanes.
    #[inline(always)]
    pub fn f32x4_sum(v: v128) -> f32 {
        f32x4_extract_lane::<0>(v) + f32x4_extract_lane::<1>(v) + f32x4_extract_lane::<2>(v) + f32x4_extract_lane::<3>(v)
    }

    /// The 16 bytes of `b` from element `at`.
    #[inline(always)]
    pub fn load16<T>(b: &[T], at: usize) -> v128 {
        let bytes = &b[at..at + 16 / core::mem::size_of::<T>()];
        // SAFETY: `bytes` spans exactly 16 bytes; v128_load needs no alignment.
        unsafe { v128_load(bytes.as_ptr() as *const v128) }
    }
}
