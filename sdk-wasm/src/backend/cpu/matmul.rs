//! Register-blocked matmul: B is packed into column panels, then an MR×NR micro-kernel walks K
//! with its MR×NR accumulators in registers.

use super::parallel::{for_each_chunk, threads};

/// Rows per micro-kernel call. In wasm, 4 rows × two 4-lane vectors: 8 accumulators, enough
/// multiply-add chains to cover the latency of two FMA pipes. Six rows were slower by half:
/// LLVM orders the K step as all six broadcasts, then the FMAs with the first B vector, then
/// those with the second, so 12 accumulators + 6 broadcasts + B outgrow the 15 vector
/// registers V8 allocates on x86-64 and it spills accumulators every step (Chromium, 512³ on
/// one thread: 22.7 GFLOP/s at 6 rows, 42.4 at 4, against a 56–58 relaxed-SIMD peak).
/// Natively, AVX-512 (32 registers) runs 12 rows × two 16-lane vectors: 24 accumulators, and
/// per K step 2 B loads and 12 broadcasts for 24 multiply-adds (one 16-lane vector per row was
/// 13 loads for 12, load-bound at a third of the FMA peak). AVX2 runs the same block as four
/// 3-row groups (12 accumulators each).
#[cfg(target_arch = "wasm32")]
const MR: usize = 4;
#[cfg(not(target_arch = "wasm32"))]
const MR: usize = 12;
/// Columns per packed panel: two 4-lane vectors in wasm; natively four 8-lane AVX2 vectors (or
/// two AVX-512 vectors).
#[cfg(target_arch = "wasm32")]
const NR: usize = 8;
#[cfg(not(target_arch = "wasm32"))]
const NR: usize = 32;
/// Below this many multiply-adds spawning threads costs more than it saves (measured: a
/// 128³ product is faster on one thread here).
const PARALLEL_MIN_FLOPS: usize = 1 << 22;

/// The MR-row micro-kernel picked once per matmul for this CPU.
type MicroKernel = fn([&[f32]; MR], &[f32], &mut [[f32; NR]; MR]);

/// `out[m×n] = a[m×k] · b[k×n]`, all row-major and contiguous.
pub fn matmul(a: &[f32], b: &[f32], m: usize, k: usize, n: usize, out: &mut [f32]) {
    debug_assert!(a.len() >= m * k && b.len() >= k * n && out.len() >= m * n);
    if m == 0 || n == 0 {
        return;
    }
    matmul_packed(a, &PackedB::pack(b, k, n), m, Addends::default(), out);
}

/// What is added to a product as each block leaves the registers, instead of in passes of
/// their own: a linear layer's bias (n values, on every row) and a residual (m×n, the
/// output's shape and row-major).
#[derive(Clone, Copy, Default)]
pub struct Addends<'a> {
    pub bias: Option<&'a [f32]>,
    pub residual: Option<&'a [f32]>,
}

impl<'a> Addends<'a> {
    /// The addends of the `rows` rows starting at row `row0` of an n-wide output.
    pub(super) fn rows_from(self, row0: usize, rows: usize, n: usize) -> Addends<'a> {
        Addends { residual: self.residual.map(|r| &r[row0 * n..(row0 + rows) * n]), ..self }
    }

    /// Add them to the m×n `out` (for products not written by the packed kernel).
    pub fn add_to(self, out: &mut [f32]) {
        if let Some(bias) = self.bias.filter(|b| !b.is_empty()) {
            for row in out.chunks_exact_mut(bias.len()) {
                row.iter_mut().zip(bias).for_each(|(o, b)| *o += b);
            }
        }
        if let Some(residual) = self.residual {
            out.iter_mut().zip(residual).for_each(|(o, r)| *o += r);
        }
    }
}

/// B (k×n) rearranged into the kernel's column panels. Weights are packed once and reused
/// (see `Tensor::packed_weights`); packing per call cost as much as the product for short inputs.
#[derive(Clone)]
pub struct PackedB {
    panels: Vec<f32>,
    k: usize,
    n: usize,
}

impl PackedB {
    pub fn pack(b: &[f32], k: usize, n: usize) -> PackedB {
        PackedB { panels: pack_b(b, k, n), k, n }
    }

    pub fn dims(&self) -> (usize, usize) {
        (self.k, self.n)
    }

    pub fn bytes(&self) -> u64 {
        self.panels.len() as u64 * 4
    }

    /// The k×n row-major matrix back (for the rare reader of a packed-only weight).
    pub fn unpack(&self) -> Vec<f32> {
        let (k, n) = (self.k, self.n);
        let mut b = vec![0.0; k * n];
        if k == 0 || n == 0 {
            return b;
        }
        for (p, panel) in self.panels.chunks_exact(k * NR).enumerate() {
            let col0 = p * NR;
            let width = NR.min(n - col0);
            for (kk, src) in panel.chunks_exact(NR).enumerate() {
                b[kk * n + col0..kk * n + col0 + width].copy_from_slice(&src[..width]);
            }
        }
        b
    }
}

/// `out[m×n] = a[m×k] · B (+ bias, n values added to every row)` with B already packed.
pub fn matmul_packed(a: &[f32], b: &PackedB, m: usize, add: Addends, out: &mut [f32]) {
    let (k, n) = (b.k, b.n);
    debug_assert!(a.len() >= m * k && out.len() >= m * n && add.bias.is_none_or(|b| b.len() == n));
    debug_assert!(add.residual.is_none_or(|r| r.len() >= m * n));
    if m == 0 || n == 0 {
        return;
    }
    let panels = &b.panels;
    let kernel = select_micro_kernel().1;
    let workers = threads().min(m.div_ceil(MR));
    if workers <= 1 || m * n * k < PARALLEL_MIN_FLOPS {
        compute_rows(kernel, a, panels, (0, m), (k, n), add.rows_from(0, m, n), &mut out[..m * n]);
        return;
    }
    // Whole micro-kernel row blocks per part, a few parts per thread so a slow thread
    // (another tab, the page) does not hold the rest up.
    let rows_per = m.div_ceil(MR).div_ceil(workers * 2).max(1) * MR;
    for_each_chunk(&mut out[..m * n], rows_per * n, |chunk_index, chunk| {
        let (row0, rows) = (chunk_index * rows_per, chunk.len() / n);
        compute_rows(kernel, a, panels, (row0, rows), (k, n), add.rows_from(row0, rows, n), chunk)
    });
}

/// `out[m×n] = a[m×k] · B` on the calling thread (for callers that parallelise above it).
pub(crate) fn matmul_packed_serial(a: &[f32], b: &PackedB, m: usize, out: &mut [f32]) {
    if m == 0 || b.n == 0 {
        return;
    }
    compute_rows(select_micro_kernel().1, a, &b.panels, (0, m), (b.k, b.n), Addends::default(), &mut out[..m * b.n]);
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

/// Bytes of A kept hot (in L2) while every panel of B passes over them.
const A_BLOCK_BYTES: usize = 128 << 10;

/// Rows `row0..row0+rows` of the product, plus `add` (whose residual, like `out`, starts at
/// row0), written to `out`.
///
/// Blocked for the caches: a block of A's rows (about `A_BLOCK_BYTES`) stays in L2 while each
/// k×NR panel of B, in L1, serves all of the block's micro-kernel rows. Walking MR rows at a
/// time over every panel instead streamed all of B from memory per MR rows, which capped the
/// kernel at the memory bandwidth and left a second thread nothing to gain.
fn compute_rows(
    kernel: MicroKernel,
    a: &[f32],
    panels: &[f32],
    (row0, rows): (usize, usize),
    (k, n): (usize, usize),
    add: Addends,
    out: &mut [f32],
) {
    let block_rows = (A_BLOCK_BYTES / (4 * k.max(1)) / MR).max(1) * MR;
    let mut r0 = 0;
    while r0 < rows {
        let end = (r0 + block_rows).min(rows);
        for (p, panel) in panels.chunks_exact(k * NR).enumerate() {
            let col0 = p * NR;
            let width = NR.min(n - col0);
            let mut r = r0;
            while r < end {
                let block = MR.min(end - r);
                let mut acc = [[0.0f32; NR]; MR];
                // A short last block repeats its last row: the vector kernel still runs, and the
                // extra rows' results are dropped below.
                let block_rows: [&[f32]; MR] = std::array::from_fn(|i| {
                    let row = row0 + r + i.min(block - 1);
                    &a[row * k..(row + 1) * k]
                });
                kernel(block_rows, panel, &mut acc);
                for (i, acc_row) in acc.iter().take(block).enumerate() {
                    let at = (r + i) * n + col0..(r + i) * n + col0 + width;
                    let dst = &mut out[at.clone()];
                    match add.bias {
                        Some(bias) => {
                            let sums = acc_row.iter().zip(&bias[col0..col0 + width]);
                            dst.iter_mut().zip(sums).for_each(|(d, (v, b))| *d = v + b);
                        }
                        None => dst.copy_from_slice(&acc_row[..width]),
                    }
                    if let Some(residual) = add.residual {
                        dst.iter_mut().zip(&residual[at]).for_each(|(d, r)| *d += r);
                    }
                }
                r += block;
            }
        }
        r0 = end;
    }
}

/// Portable block, as groups of `GROUP` rows (so a group's accumulators, 4 AVX2 vectors a row,
/// fit 16 registers); `FUSED` uses fused multiply-add, which is only fast where the target has
/// FMA instructions (otherwise `mul_add` becomes a library call).
#[cfg(not(target_arch = "wasm32"))]
#[inline(always)]
fn micro_kernel_body<const FUSED: bool>(rows: [&[f32]; MR], panel: &[f32], acc: &mut [[f32; NR]; MR]) {
    const GROUP: usize = 3;
    let k = rows[0].len();
    for g in 0..MR / GROUP {
        let mut c = [[0.0f32; NR]; GROUP];
        let rows = &rows[g * GROUP..(g + 1) * GROUP];
        for (kk, b) in panel.chunks_exact(NR).take(k).enumerate() {
            for (c_row, row) in c.iter_mut().zip(rows) {
                let av = row[kk];
                for (cv, &bv) in c_row.iter_mut().zip(b) {
                    *cv = if FUSED { av.mul_add(bv, *cv) } else { *cv + av * bv };
                }
            }
        }
        acc[g * GROUP..(g + 1) * GROUP].copy_from_slice(&c);
    }
}

#[cfg(not(target_arch = "wasm32"))]
fn micro_kernel(rows: [&[f32]; MR], panel: &[f32], acc: &mut [[f32; NR]; MR]) {
    micro_kernel_body::<false>(rows, panel, acc);
}

/// The same block compiled for AVX2 + FMA (four 8-lane registers per row), chosen at run time.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn micro_kernel_avx2_fma(rows: [&[f32]; MR], panel: &[f32], acc: &mut [[f32; NR]; MR]) {
    micro_kernel_body::<true>(rows, panel, acc);
}

/// AVX-512: 12 rows × two 16-lane accumulators each, broadcast A, two B loads per step.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn micro_kernel_avx512(rows: [&[f32]; MR], panel: &[f32], acc: &mut [[f32; NR]; MR]) {
    use std::arch::x86_64::*;
    let k = rows[0].len();
    assert!(rows.iter().all(|r| r.len() == k) && panel.len() >= k * NR);
    let a: [*const f32; MR] = rows.map(|r| r.as_ptr());
    let mut c = [[_mm512_setzero_ps(); 2]; MR];
    for kk in 0..k {
        // SAFETY: kk < k, every row holds k values and the panel k×32 (asserted above);
        // loadu needs no alignment.
        unsafe {
            let b = panel.as_ptr().add(kk * NR);
            let (b0, b1) = (_mm512_loadu_ps(b), _mm512_loadu_ps(b.add(16)));
            for (c_row, row) in c.iter_mut().zip(a) {
                let av = _mm512_set1_ps(*row.add(kk));
                c_row[0] = _mm512_fmadd_ps(av, b0, c_row[0]);
                c_row[1] = _mm512_fmadd_ps(av, b1, c_row[1]);
            }
        }
    }
    for (acc_row, c_row) in acc.iter_mut().zip(c) {
        // SAFETY: acc_row holds exactly 32 f32s: two 16-lane stores.
        unsafe {
            _mm512_storeu_ps(acc_row.as_mut_ptr(), c_row[0]);
            _mm512_storeu_ps(acc_row.as_mut_ptr().add(16), c_row[1]);
        }
    }
}

/// The fastest micro-kernel this CPU runs, and its name (for `doctor`).
pub(super) fn select_micro_kernel() -> (&'static str, MicroKernel) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") {
        // SAFETY: the CPU was just checked for the feature the function is compiled for.
        return ("avx512", |rows, panel, acc| unsafe { micro_kernel_avx512(rows, panel, acc) });
    }
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        // SAFETY: the CPU was just checked for both features the function is compiled for.
        return ("avx2+fma", |rows, panel, acc| unsafe { micro_kernel_avx2_fma(rows, panel, acc) });
    }
    let name = if cfg!(target_feature = "relaxed-simd") {
        "wasm-simd128-relaxed-madd"
    } else if cfg!(all(target_arch = "wasm32", target_feature = "simd128")) {
        "wasm-simd128"
    } else {
        "portable"
    };
    (name, micro_kernel)
}

/// wasm SIMD: 8 accumulator vectors stay in registers across the whole K loop.
/// Never inlined: inlined into its caller (as an unrelated change to the crate once made LLVM
/// do), V8 no longer kept the accumulators in registers and BERT's matmuls ran 4× slower.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline(never)]
fn micro_kernel(rows: [&[f32]; MR], panel: &[f32], acc: &mut [[f32; NR]; MR]) {
    use super::wasm_madd::madd;
    use core::arch::wasm32::*;
    let k = rows[0].len();
    assert!(rows.iter().all(|r| r.len() == k) && panel.len() >= k * NR);
    let a: [*const f32; MR] = rows.map(|r| r.as_ptr());
    let zero = f32x4_splat(0.0);
    let mut c = [[zero; 2]; MR];
    for kk in 0..k {
        // SAFETY: kk < k, every row holds k values and the panel k×8 (asserted above); wasm
        // loads need no alignment.
        unsafe {
            let b = panel.as_ptr().add(kk * NR);
            let (b0, b1) = (v128_load(b as *const v128), v128_load(b.add(4) as *const v128));
            for (c_row, row) in c.iter_mut().zip(a) {
                let av = v128_load32_splat(row.add(kk) as *const u32);
                c_row[0] = madd(av, b0, c_row[0]);
                c_row[1] = madd(av, b1, c_row[1]);
            }
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
        for &(m, k, n) in &[(1, 1, 1), (3, 5, 7), (4, 8, 8), (13, 17, 19), (64, 33, 65), (130, 70, 90), (37, 600, 45)] {
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
