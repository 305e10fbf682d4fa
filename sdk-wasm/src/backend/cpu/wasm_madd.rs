//! `c + a·b` on four f32 lanes: one fused instruction in the relaxed-SIMD builds (an FMA where
//! the CPU has one; relaxed SIMD lets the engine choose fused or not), a multiply and an add
//! otherwise. The kernels' inner loops use it so each build gets the best it may.

use core::arch::wasm32::*;

#[inline(always)]
pub fn madd(a: v128, b: v128, c: v128) -> v128 {
    #[cfg(target_feature = "relaxed-simd")]
    {
        f32x4_relaxed_madd(a, b, c)
    }
    #[cfg(not(target_feature = "relaxed-simd"))]
    {
        f32x4_add(c, f32x4_mul(a, b))
    }
}
