//! Register-blocked matmul: B is packed into column panels, then a 4×8 micro-kernel walks K.

use super::threads;

/// Rows per micro-kernel call.
const MR: usize = 4;
/// Columns per packed panel (two 4-lane vectors).
const NR: usize = 8;
/// Below this many multiply-adds spawning threads costs more than it saves (measured: a
/// 128³ product is faster on one thread here).
const PARALLEL_MIN_FLOPS: usize = 1 << 22;

/// The 4-row micro-kernel picked once per matmul for this CPU.
type MicroKernel4 = fn([&[f32]; MR], &[f32], &mut [[f32; NR]; MR]);

/// `out[m×n] = a[m×k] · b[k×n]`, all row-major and contiguous.
pub fn matmul(a: &[f32], b: &[f32], m: usize, k: usize, n: usize, out: &mut [f32]) {
    debug_assert!(a.len() >= m * k && b.len() >= k * n && out.len() >= m * n);
    if m == 0 || n == 0 {
        return;
    }
    let panels = pack_b(b, k, n);
    let kernel = select_micro_kernel_4();
    let workers = threads().min(m.div_ceil(MR));
    if workers <= 1 || m * n * k < PARALLEL_MIN_FLOPS {
        compute_rows(kernel, a, &panels, 0, m, k, n, &mut out[..m * n]);
        return;
    }
    // Split whole micro-kernel row blocks across scoped threads (never reached in wasm,
    // where `threads()` is 1).
    let rows_per = m.div_ceil(MR).div_ceil(workers) * MR;
    std::thread::scope(|scope| {
        for (chunk_index, chunk) in out[..m * n].chunks_mut(rows_per * n).enumerate() {
            let panels = &panels;
            let row0 = chunk_index * rows_per;
            let rows = chunk.len() / n;
            scope.spawn(move || compute_rows(kernel, a, panels, row0, rows, k, n, chunk));
        }
    });
}

/// B as ⌈n/NR⌉ panels of k×NR, zero-padded on the right.
fn pack_b(b: &[f32], k: usize, n: usize) -> Vec<f32> {
    let panel_count = n.div_ceil(NR);
    let mut packed = vec![0.0; panel_count * k * NR];
    for (p, panel) in packed.chunks_exact_mut(k * NR).enumerate() {
        let col0 = p * NR;
        let width = NR.min(n - col0);
        for (kk, dst) in panel.chunks_exact_mut(NR).enumerate() {
            dst[..width].copy_from_slice(&b[kk * n + col0..kk * n + col0 + width]);
        }
    }
    packed
}

/// Rows `row0..row0+rows` of the product, written to `out` (which starts at row0).
#[allow(clippy::too_many_arguments)]
fn compute_rows(kernel: MicroKernel4, a: &[f32], panels: &[f32], row0: usize, rows: usize, k: usize, n: usize, out: &mut [f32]) {
    let mut r = 0;
    while r < rows {
        let block = MR.min(rows - r);
        for (p, panel) in panels.chunks_exact(k * NR).enumerate() {
            let col0 = p * NR;
            let width = NR.min(n - col0);
            let mut acc = [[0.0f32; NR]; MR];
            if block == MR {
                let rows4: [&[f32]; MR] = std::array::from_fn(|i| &a[(row0 + r + i) * k..(row0 + r + i + 1) * k]);
                kernel(rows4, panel, &mut acc);
            } else {
                for (i, acc_row) in acc.iter_mut().take(block).enumerate() {
                    let row = &a[(row0 + r + i) * k..(row0 + r + i + 1) * k];
                    micro_kernel_1(row, panel, acc_row);
                }
            }
            for (i, acc_row) in acc.iter().take(block).enumerate() {
                let dst = &mut out[(r + i) * n + col0..(r + i) * n + col0 + width];
                dst.copy_from_slice(&acc_row[..width]);
            }
        }
        r += block;
    }
}

fn micro_kernel_1(row: &[f32], panel: &[f32], acc: &mut [f32; NR]) {
    for (&av, b) in row.iter().zip(panel.chunks_exact(NR)) {
        for (c, &bv) in acc.iter_mut().zip(b) {
            *c += av * bv;
        }
    }
}

/// Portable 4×8 block; `FUSED` uses fused multiply-add, which is only fast where the target
/// has FMA instructions (otherwise `mul_add` becomes a library call).
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
#[inline(always)]
fn micro_kernel_4_body<const FUSED: bool>(rows: [&[f32]; MR], panel: &[f32], acc: &mut [[f32; NR]; MR]) {
    let k = rows[0].len();
    for (kk, b) in panel.chunks_exact(NR).take(k).enumerate() {
        for (acc_row, row) in acc.iter_mut().zip(rows) {
            let av = row[kk];
            for (c, &bv) in acc_row.iter_mut().zip(b) {
                *c = if FUSED { av.mul_add(bv, *c) } else { *c + av * bv };
            }
        }
    }
}

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
fn micro_kernel_4(rows: [&[f32]; MR], panel: &[f32], acc: &mut [[f32; NR]; MR]) {
    micro_kernel_4_body::<false>(rows, panel, acc);
}

/// The same block compiled for AVX2 + FMA (one 8-lane register per row), chosen at run time.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn micro_kernel_4_avx2_fma(rows: [&[f32]; MR], panel: &[f32], acc: &mut [[f32; NR]; MR]) {
    micro_kernel_4_body::<true>(rows, panel, acc);
}

fn select_micro_kernel_4() -> MicroKernel4 {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        // SAFETY: the CPU was just checked for both features the function is compiled for.
        return |rows, panel, acc| unsafe { micro_kernel_4_avx2_fma(rows, panel, acc) };
    }
    micro_kernel_4
}

/// wasm SIMD: 8 accumulator vectors stay in registers across the whole K loop.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
fn micro_kernel_4(rows: [&[f32]; MR], panel: &[f32], acc: &mut [[f32; NR]; MR]) {
    use core::arch::wasm32::*;
    let k = rows[0].len();
    let zero = f32x4_splat(0.0);
    let mut c = [[zero; 2]; MR];
    for (kk, b) in panel.chunks_exact(NR).take(k).enumerate() {
        // SAFETY: chunks_exact(NR) yields exactly 8 f32s; wasm loads need no alignment.
        let (b0, b1) = unsafe { (v128_load(b.as_ptr() as *const v128), v128_load(b.as_ptr().add(4) as *const v128)) };
        for (c_row, row) in c.iter_mut().zip(rows) {
            let av = f32x4_splat(row[kk]);
            c_row[0] = f32x4_add(c_row[0], f32x4_mul(av, b0));
            c_row[1] = f32x4_add(c_row[1], f32x4_mul(av, b1));
        }
    }
    for (acc_row, c_row) in acc.iter_mut().zip(c) {
        // SAFETY: acc_row holds 8 f32s, exactly two v128 stores.
        unsafe {
            v128_store(acc_row.as_mut_ptr() as *mut v128, c_row[0]);
            v128_store(acc_row.as_mut_ptr().add(4) as *mut v128, c_row[1]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(a: &[f32], b: &[f32], m: usize, k: usize, n: usize) -> Vec<f32> {
        let mut out = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                out[i * n + j] = (0..k).map(|p| a[i * k + p] * b[p * n + j]).sum();
            }
        }
        out
    }

    #[test]
    fn ragged_shapes_match_naive_product() {
        for &(m, k, n) in &[(1, 1, 1), (3, 5, 7), (4, 8, 8), (13, 17, 19), (64, 33, 65), (130, 70, 90)] {
            let a: Vec<f32> = (0..m * k).map(|i| ((i * 7 % 13) as f32 - 6.0) / 6.0).collect();
            let b: Vec<f32> = (0..k * n).map(|i| ((i * 5 % 11) as f32 - 5.0) / 5.0).collect();
            let mut out = vec![0.0; m * n];
            matmul(&a, &b, m, k, n, &mut out);
            let want = naive(&a, &b, m, k, n);
            for (x, y) in out.iter().zip(&want) {
                assert!((x - y).abs() < 1e-4, "({m},{k},{n}): {x} vs {y}");
            }
        }
    }
}
