//! The int8 micro-kernels: MR rows of quantized activations × one NR-column weight panel,
//! summed in i32. Each build reads the panel in the groups its dot instruction takes:
//! - relaxed SIMD (wasm) and x86 natively: groups of 4 k values per column, one
//!   `relaxed_dot_i8x16_i7x16_add` / `vpdpbusd` / `pmaddubsw`+`pmaddwd` per 4 columns × 4 k;
//! - plain wasm SIMD: groups of 2, activations widened to i16 once per row and weights per
//!   group, one `i32x4.dot_i16x8_s` per 4 columns × 2 k (twice the multiply-adds per
//!   instruction of the f32 kernel).

/// Rows per micro-kernel call: in wasm 4 rows × two 4-lane vectors (8 accumulators within
/// 16 registers); natively 8 rows × 16 columns, so VNNI's 8 accumulator chains hide its
/// 5-cycle latency (AVX2 runs it as two halves of 4 rows × two 8-lane vectors).
#[cfg(target_arch = "wasm32")]
pub const MR: usize = 4;
#[cfg(not(target_arch = "wasm32"))]
pub const MR: usize = 8;
/// Columns per weight panel.
#[cfg(target_arch = "wasm32")]
pub const NR: usize = 8;
#[cfg(not(target_arch = "wasm32"))]
pub const NR: usize = 16;

#[cfg(all(target_arch = "wasm32", target_feature = "simd128", not(target_feature = "relaxed-simd")))]
pub const KG: usize = 2;
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128", not(target_feature = "relaxed-simd"))))]
pub const KG: usize = 4;

/// One quantized activation (0…127): i16 where the kernel multiplies i16 pairs, else a byte.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128", not(target_feature = "relaxed-simd")))]
pub type Act = i16;
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128", not(target_feature = "relaxed-simd"))))]
pub type Act = u8;

/// (MR activation rows, each k padded to whole groups; panel; accumulators).
pub type Kernel = fn([&[Act]; MR], &[i8], &mut [[i32; NR]; MR]);

/// The fastest kernel this CPU runs, and its name (for `doctor`).
pub fn select_kernel() -> (&'static str, Kernel) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512vnni") && std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU was just checked for the features the function is compiled for.
            return ("avx512-vnni", |a, panel, acc| unsafe { x86::vnni(a, panel, acc) });
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: as above.
            return ("avx2", |a, panel, acc| unsafe { x86::avx2(a, panel, acc) });
        }
    }
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128", target_feature = "relaxed-simd"))]
    return ("wasm-relaxed-dot-i8", simd128::kernel);
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128", not(target_feature = "relaxed-simd")))]
    return ("wasm-simd128-dot-i16", simd128::kernel);
    #[allow(unreachable_code)]
    ("portable", portable)
}

/// Any target: plain integer loops.
#[allow(dead_code)]
fn portable(a: [&[Act]; MR], panel: &[i8], acc: &mut [[i32; NR]; MR]) {
    for (g, group) in panel.chunks_exact(NR * KG).take(a[0].len() / KG).enumerate() {
        for (acc_row, row) in acc.iter_mut().zip(a) {
            let x = &row[g * KG..(g + 1) * KG];
            for (c, w) in acc_row.iter_mut().zip(group.chunks_exact(KG)) {
                *c += x.iter().zip(w).map(|(&x, &w)| x as i32 * w as i32).sum::<i32>();
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{Act, MR, NR};
    use std::arch::x86_64::*;

    /// Checks the slices the unsafe loops below read: every row a whole number of 4-groups,
    /// the panel NR·4 bytes per group. Returns the group count.
    fn groups(a: &[&[Act]; MR], panel: &[i8]) -> usize {
        let groups = a[0].len() / 4;
        assert!(a.iter().all(|r| r.len() == groups * 4) && panel.len() >= groups * NR * 4);
        groups
    }

    /// Row `r`'s 4 activations of group `g`, as one i32 to broadcast.
    ///
    /// # Safety
    /// `g` < the row's group count.
    #[inline(always)]
    unsafe fn quad(row: &[Act], g: usize) -> i32 {
        // SAFETY: the caller keeps g in range; read_unaligned needs no alignment.
        unsafe { (row.as_ptr().add(g * 4) as *const i32).read_unaligned() }
    }

    /// AVX2: unsigned activations × signed weights into i16 pairs (`pmaddubsw`), pairs of
    /// those into i32 (`pmaddwd` by ones); two halves of 4 rows × two 8-column vectors.
    #[target_feature(enable = "avx2")]
    pub fn avx2(a: [&[Act]; MR], panel: &[i8], acc: &mut [[i32; NR]; MR]) {
        const HALF: usize = MR / 2;
        let groups = groups(&a, panel);
        let ones = _mm256_set1_epi16(1);
        for half in 0..2 {
            let rows = &a[half * HALF..(half + 1) * HALF];
            let mut c = [[_mm256_setzero_si256(); 2]; HALF];
            for g in 0..groups {
                // SAFETY: g < groups: the panel holds 64 bytes per group (checked above).
                unsafe {
                    let w = panel.as_ptr().add(g * NR * 4);
                    let (w0, w1) = (_mm256_loadu_si256(w as *const __m256i), _mm256_loadu_si256(w.add(32) as *const __m256i));
                    for (cv, row) in c.iter_mut().zip(rows) {
                        let x = _mm256_set1_epi32(quad(row, g));
                        cv[0] = _mm256_add_epi32(cv[0], _mm256_madd_epi16(_mm256_maddubs_epi16(x, w0), ones));
                        cv[1] = _mm256_add_epi32(cv[1], _mm256_madd_epi16(_mm256_maddubs_epi16(x, w1), ones));
                    }
                }
            }
            for (acc_row, cv) in acc[half * HALF..].iter_mut().zip(c) {
                // SAFETY: acc_row holds 16 i32s: two 8-lane stores; storeu needs no alignment.
                unsafe {
                    _mm256_storeu_si256(acc_row.as_mut_ptr() as *mut __m256i, cv[0]);
                    _mm256_storeu_si256(acc_row.as_mut_ptr().add(8) as *mut __m256i, cv[1]);
                }
            }
        }
    }

    /// AVX-512 VNNI: one `vpdpbusd` per row and group (16 columns × 4 values).
    #[target_feature(enable = "avx512f,avx512vnni")]
    pub fn vnni(a: [&[Act]; MR], panel: &[i8], acc: &mut [[i32; NR]; MR]) {
        let groups = groups(&a, panel);
        let mut c = [_mm512_setzero_si512(); MR];
        for g in 0..groups {
            // SAFETY: as in `avx2`.
            unsafe {
                let w = _mm512_loadu_si512(panel.as_ptr().add(g * NR * 4) as *const __m512i);
                for (cv, row) in c.iter_mut().zip(a) {
                    *cv = _mm512_dpbusd_epi32(*cv, _mm512_set1_epi32(quad(row, g)), w);
                }
            }
        }
        for (acc_row, cv) in acc.iter_mut().zip(c) {
            // SAFETY: acc_row holds exactly 16 i32s.
            unsafe { _mm512_storeu_si512(acc_row.as_mut_ptr() as *mut __m512i, cv) };
        }
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd128 {
    use super::{Act, KG, MR, NR};
    use core::arch::wasm32::*;

    /// Never inlined, like the f32 kernel: V8 keeps a small function's accumulators in registers.
    #[inline(never)]
    pub fn kernel(a: [&[Act]; MR], panel: &[i8], acc: &mut [[i32; NR]; MR]) {
        let groups = a[0].len() / KG;
        assert!(a.iter().all(|r| r.len() == groups * KG) && panel.len() >= groups * NR * KG);
        let mut c = [[i32x4_splat(0); 2]; MR];
        for g in 0..groups {
            // SAFETY: g < groups: the panel holds NR·KG bytes per group and each row KG values
            // (asserted above); wasm loads need no alignment.
            unsafe {
                let w = panel.as_ptr().add(g * NR * KG);
                #[cfg(target_feature = "relaxed-simd")]
                {
                    let (w0, w1) = (v128_load(w as *const v128), v128_load(w.add(16) as *const v128));
                    for (cv, row) in c.iter_mut().zip(a) {
                        let x = v128_load32_splat(row.as_ptr().add(g * 4) as *const u32);
                        cv[0] = i32x4_relaxed_dot_i8x16_i7x16_add(w0, x, cv[0]);
                        cv[1] = i32x4_relaxed_dot_i8x16_i7x16_add(w1, x, cv[1]);
                    }
                }
                #[cfg(not(target_feature = "relaxed-simd"))]
                {
                    let wv = v128_load(w as *const v128);
                    let (w0, w1) = (i16x8_extend_low_i8x16(wv), i16x8_extend_high_i8x16(wv));
                    for (cv, row) in c.iter_mut().zip(a) {
                        let x = v128_load32_splat(row.as_ptr().add(g * 2) as *const u32);
                        cv[0] = i32x4_add(cv[0], i32x4_dot_i16x8(w0, x));
                        cv[1] = i32x4_add(cv[1], i32x4_dot_i16x8(w1, x));
                    }
                }
            }
        }
        for (acc_row, cv) in acc.iter_mut().zip(c) {
            // SAFETY: acc_row holds 8 i32s, exactly two v128 stores.
            unsafe {
                v128_store(acc_row.as_mut_ptr() as *mut v128, cv[0]);
                v128_store(acc_row.as_mut_ptr().add(4) as *mut v128, cv[1]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_selected_kernel_matches_the_portable_one() {
        let k = 40 * KG;
        let rows: Vec<Vec<Act>> = (0..MR).map(|r| (0..k).map(|i| ((i * 7 + r * 13) % 128) as Act).collect()).collect();
        let panel: Vec<i8> = (0..k * NR).map(|i| ((i * 31 % 256) as i32 - 128) as i8).collect();
        let a: [&[Act]; MR] = std::array::from_fn(|r| rows[r].as_slice());
        let mut want = [[0; NR]; MR];
        portable(a, &panel, &mut want);
        let mut kernels: Vec<Kernel> = vec![select_kernel().1];
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU was just checked for AVX2 (the chosen kernel may be VNNI's).
            kernels.push(|a, panel, acc| unsafe { x86::avx2(a, panel, acc) });
        }
        for kernel in kernels {
            let mut got = [[0; NR]; MR];
            kernel(a, &panel, &mut got);
            assert_eq!(got, want);
        }
    }
}
