//! int8 linear layers: weights int8 with one scale per output column (packed once at load),
//! activations quantized per row as they arrive, products summed in i32.
//!
//! Activations are quantized to 7 bits, 0…127 around a per-row zero point, because that is
//! what the fast instructions take: relaxed SIMD's `i32x4.relaxed_dot_i8x16_i7x16_add` (its
//! result is only defined when one operand's top bit is clear) and x86's `pmaddubsw` (unsigned
//! × signed bytes, whose pair sums then cannot saturate). Every build quantizes the same way,
//! so every build computes the same integers:
//! `out[i][j] = sa[i] · sw[j] · (Σₖ qa[i][k]·qw[k][j] − za[i] · Σₖ qw[k][j])`.

use super::int8_kernels::{select_kernel, Act, KG, MR, NR};
use super::lanes::{max, min};
use super::parallel::{for_each_chunk, threads};

/// Below this many multiply-adds one thread beats waking the pool.
const PARALLEL_MIN_MACS: usize = 1 << 21;
/// Rows of quantized A kept hot while every weight panel passes over them.
const A_BLOCK_BYTES: usize = 64 << 10;
/// Largest k whose i32 sums cannot overflow (127 · 128 per product).
pub const MAX_K: usize = (i32::MAX as usize) / (127 * 128);

/// A k×n right-hand side as int8: ⌈n/NR⌉ panels, each ⌈k/KG⌉ groups of NR columns × KG values
/// (a column's KG consecutive k values side by side, as the dot instructions read them).
#[derive(Clone)]
pub struct PackedInt8 {
    panels: Vec<i8>,
    scales: Vec<f32>,
    col_sums: Vec<i32>,
    k: usize,
    n: usize,
}

impl PackedInt8 {
    /// From `n` output rows of `k` int8 values each (the usual [out, in] layout), row `j`
    /// scaled by `scales[j]`.
    pub fn from_rows(values: &[i8], scales: &[f32], n: usize, k: usize) -> PackedInt8 {
        debug_assert!(values.len() == n * k && scales.len() == n);
        let mut panels = vec![0i8; n.div_ceil(NR) * k.div_ceil(KG) * NR * KG];
        for (j, row) in values.chunks_exact(k.max(1)).enumerate().take(n) {
            for (kk, &v) in row.iter().enumerate() {
                panels[panel_index(k, kk, j)] = v;
            }
        }
        let col_sums = values.chunks_exact(k.max(1)).take(n).map(|r| r.iter().map(|&v| v as i32).sum()).collect();
        PackedInt8 { panels, scales: scales.to_vec(), col_sums, k, n }
    }

    /// Symmetric per-column quantization of a k×n row-major f32 matrix (the transposed weight
    /// a matmul multiplies by): column j becomes round(w / sⱼ) with sⱼ = max|w| / 127.
    pub fn quantize(b: &[f32], k: usize, n: usize) -> PackedInt8 {
        let mut scales = vec![0.0f32; n];
        for row in b.chunks_exact(n.max(1)).take(k) {
            for (s, &v) in scales.iter_mut().zip(row) {
                *s = max(*s, v.abs());
            }
        }
        scales.iter_mut().for_each(|s| *s = if *s > 0.0 { *s / 127.0 } else { 1.0 });
        let mut values = vec![0i8; n * k];
        for (kk, row) in b.chunks_exact(n.max(1)).take(k).enumerate() {
            for (j, (&v, &s)) in row.iter().zip(&scales).enumerate() {
                values[j * k + kk] = (v / s).round().clamp(-127.0, 127.0) as i8;
            }
        }
        PackedInt8::from_rows(&values, &scales, n, k)
    }

    pub fn dims(&self) -> (usize, usize) {
        (self.k, self.n)
    }

    pub fn bytes(&self) -> u64 {
        (self.panels.len() + 8 * self.n) as u64
    }

    /// Row `kk` of the k×n matrix as f32 (value · scale).
    fn row(&self, kk: usize) -> impl Iterator<Item = f32> + '_ {
        (0..self.n).map(move |j| self.panels[panel_index(self.k, kk, j)] as f32 * self.scales[j])
    }

    /// The weights back as k×n f32 (value · scale), for readers other than matmul.
    pub fn unpack(&self) -> Vec<f32> {
        (0..self.k).flat_map(|kk| self.row(kk)).collect()
    }
}

/// Where value (kk, j) of a k-deep matrix sits in the panels: panel j / NR, group kk / KG,
/// column j % NR within the group, position kk % KG within the column's run.
fn panel_index(k: usize, kk: usize, j: usize) -> usize {
    (j / NR) * k.div_ceil(KG) * NR * KG + (kk / KG) * NR * KG + (j % NR) * KG + kk % KG
}

/// Rows of A as 7-bit values around a zero point, each row padded to whole KG groups and the
/// row count to whole MR blocks (padding holds the zero point: it adds nothing once corrected).
struct QuantizedRows {
    values: Vec<Act>,
    scales: Vec<f32>,
    zeros: Vec<i32>,
    stride: usize,
}

/// Rows of `a` quantized, the `outliers` features left out (quantized as 0: they are
/// multiplied in f32 instead).
fn quantize_rows(a: &[f32], m: usize, k: usize, outliers: &[usize]) -> QuantizedRows {
    let stride = k.div_ceil(KG) * KG;
    let padded = m.div_ceil(MR) * MR;
    let mut q = QuantizedRows { values: vec![0; padded * stride], scales: vec![1.0; padded], zeros: vec![0; padded], stride };
    let mut skip = vec![false; k];
    outliers.iter().for_each(|&c| skip[c] = true);
    for (i, row) in a.chunks_exact(k.max(1)).take(m).enumerate() {
        // The range always holds 0, so a row of zeros or of one sign still quantizes exactly.
        let range = |(lo, hi): (f32, f32), v: f32| (min(lo, v), max(hi, v));
        let (lo, hi) = if outliers.is_empty() {
            row.iter().fold((0.0f32, 0.0f32), |r, &v| range(r, v))
        } else {
            row.iter().zip(&skip).filter(|(_, &s)| !s).fold((0.0f32, 0.0f32), |r, (&v, _)| range(r, v))
        };
        let scale = if hi > lo { (hi - lo) / 127.0 } else { 1.0 };
        let zero = (-lo / scale + 0.5) as i32;
        let (inv, offset) = (1.0 / scale, zero as f32 + 0.5);
        let dst = &mut q.values[i * stride..(i + 1) * stride];
        for (d, &v) in dst.iter_mut().zip(row) {
            *d = (v * inv + offset).clamp(0.0, 127.0) as Act;
        }
        dst[k..].iter_mut().for_each(|d| *d = zero as Act);
        outliers.iter().for_each(|&c| dst[c] = zero as Act);
        (q.scales[i], q.zeros[i]) = (scale, zero);
    }
    q
}

/// `out[m×n] = a[m×k] · W` with W int8 (see the module docs for the arithmetic).
pub fn int8_matmul(a: &[f32], m: usize, w: &PackedInt8, out: &mut [f32]) {
    let (k, n) = (w.k, w.n);
    debug_assert!(a.len() >= m * k && out.len() >= m * n && k <= MAX_K);
    if m == 0 || n == 0 {
        return;
    }
    let outliers = outlier_features(a, m, k);
    int8_product(&quantize_rows(a, m, k, &outliers), m, w, out);
    if !outliers.is_empty() {
        add_outlier_product(a, m, w, &outliers, out);
    }
}

/// Input features whose largest |value| is more than this many times the median feature's
/// are multiplied in f32: one such feature would otherwise set every row's scale and leave
/// the rest a handful of levels (transformer hidden states have a few of them).
const OUTLIER_RATIO: f32 = 4.0;

/// The outlier input features of `a` (at most k/16 of them, the largest first).
fn outlier_features(a: &[f32], m: usize, k: usize) -> Vec<usize> {
    let mut largest = vec![0.0f32; k];
    for row in a.chunks_exact(k.max(1)).take(m) {
        for (l, &v) in largest.iter_mut().zip(row) {
            *l = max(*l, v.abs());
        }
    }
    let mut sorted = largest.clone();
    sorted.sort_by(f32::total_cmp);
    let limit = sorted[k / 2] * OUTLIER_RATIO;
    let mut outliers: Vec<usize> = (0..k).filter(|&c| largest[c] > limit).collect();
    outliers.sort_by(|&x, &y| largest[y].total_cmp(&largest[x]));
    outliers.truncate(k / 16);
    outliers
}

/// `out += a[:, outliers] · W[outliers, :]` in f32, W's rows dequantized.
fn add_outlier_product(a: &[f32], m: usize, w: &PackedInt8, outliers: &[usize], out: &mut [f32]) {
    let (k, n, ko) = (w.k, w.n, outliers.len());
    let a_o: Vec<f32> = a.chunks_exact(k).take(m).flat_map(|row| outliers.iter().map(|&c| row[c])).collect();
    let w_o: Vec<f32> = outliers.iter().flat_map(|&c| w.row(c)).collect();
    let mut product = vec![0.0; m * n];
    super::matmul::matmul(&a_o, &w_o, m, ko, n, &mut product);
    out.iter_mut().zip(&product).for_each(|(o, p)| *o += p);
}

/// The int8 product of already quantized rows.
fn int8_product(q: &QuantizedRows, m: usize, w: &PackedInt8, out: &mut [f32]) {
    let (k, n) = (w.k, w.n);
    let blocks = m.div_ceil(MR);
    let workers = if m * n * k >= PARALLEL_MIN_MACS { threads() } else { 1 };
    if workers > 1 && blocks >= 2 * workers {
        let rows_per = blocks.div_ceil(workers * 2) * MR;
        for_each_chunk(&mut out[..m * n], rows_per * n, |c, chunk| {
            compute(q, w, c * rows_per, chunk.len() / n, 0..n.div_ceil(NR), chunk, n)
        });
        return;
    }
    if workers > 1 && n > NR {
        // Few rows (a short input): split the columns instead, each part into its own buffer.
        let panels = n.div_ceil(NR);
        let per = panels.div_ceil(workers);
        let mut parts = vec![0.0f32; m * per * NR * workers];
        for_each_chunk(&mut parts, m * per * NR, |c, part| {
            let range = c * per..((c + 1) * per).min(panels);
            compute(q, w, 0, m, range, part, per * NR)
        });
        for (c, part) in parts.chunks_exact(m * per * NR).enumerate() {
            let col0 = c * per * NR;
            let width = (per * NR).min(n.saturating_sub(col0));
            for i in 0..m {
                out[i * n + col0..i * n + col0 + width].copy_from_slice(&part[i * per * NR..i * per * NR + width]);
            }
        }
        return;
    }
    compute(q, w, 0, m, 0..n.div_ceil(NR), &mut out[..m * n], n);
}

/// Rows `row0..row0+rows` × the columns of `panels`, into `out` (row stride `out_stride`,
/// starting at row0 and at the first panel's first column).
fn compute(
    q: &QuantizedRows,
    w: &PackedInt8,
    row0: usize,
    rows: usize,
    panels: std::ops::Range<usize>,
    out: &mut [f32],
    out_stride: usize,
) {
    let kernel = select_kernel().1;
    let panel_len = q.stride / KG * NR * KG;
    let block_rows = (A_BLOCK_BYTES / (q.stride * std::mem::size_of::<Act>()).max(1) / MR).max(1) * MR;
    let mut r0 = 0;
    while r0 < rows {
        let end = (r0 + block_rows).min(rows);
        for p in panels.clone() {
            let panel = &w.panels[p * panel_len..(p + 1) * panel_len];
            let col0 = p * NR;
            let width = NR.min(w.n - col0);
            let out_col0 = (p - panels.start) * NR;
            let mut r = r0;
            while r < end {
                let a: [&[Act]; MR] = std::array::from_fn(|i| {
                    let row = row0 + r + i;
                    &q.values[row * q.stride..(row + 1) * q.stride]
                });
                let mut acc = [[0i32; NR]; MR];
                kernel(a, panel, &mut acc);
                for (i, acc_row) in acc.iter().enumerate().take(end - r) {
                    let row = row0 + r + i;
                    let (sa, za) = (q.scales[row], q.zeros[row]);
                    let dst = &mut out[(r + i) * out_stride + out_col0..(r + i) * out_stride + out_col0 + width];
                    for (jj, d) in dst.iter_mut().enumerate() {
                        let j = col0 + jj;
                        *d = sa * w.scales[j] * (acc_row[jj] - za * w.col_sums[j]) as f32;
                    }
                }
                r += MR;
            }
        }
        r0 = end;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::SeededRng;

    /// The same quantization done in f64 and integer arithmetic, independently of the packing
    /// and the kernels: the kernels must reproduce it exactly (up to the final f32 scaling).
    fn emulate(a: &[f32], m: usize, k: usize, w: &[i8], scales: &[f32], n: usize) -> Vec<f64> {
        let mut out = vec![0.0; m * n];
        for i in 0..m {
            let row = &a[i * k..(i + 1) * k];
            let lo = row.iter().fold(0.0f32, |x, &v| x.min(v));
            let hi = row.iter().fold(0.0f32, |x, &v| x.max(v));
            let s = if hi > lo { (hi - lo) / 127.0 } else { 1.0 };
            let z = (-lo / s + 0.5) as i64;
            let qa: Vec<i64> = row.iter().map(|&v| (v * (1.0 / s) + (z as f32 + 0.5)).clamp(0.0, 127.0) as i64).collect();
            for j in 0..n {
                let dot: i64 = (0..k).map(|kk| (qa[kk] - z) * w[j * k + kk] as i64).sum();
                out[i * n + j] = s as f64 * scales[j] as f64 * dot as f64;
            }
        }
        out
    }

    fn random_int8(n: usize, k: usize, seed: u64) -> (Vec<i8>, Vec<f32>) {
        let v = SeededRng::new(seed).fill(n * k);
        let values = v.iter().map(|x| (x * 127.0).round().clamp(-128.0, 127.0) as i8).collect();
        let scales = SeededRng::new(seed + 1).fill(n).iter().map(|s| 0.001 + s.abs() * 0.01).collect();
        (values, scales)
    }

    #[test]
    fn kernels_compute_exactly_the_quantized_product() {
        for (m, k, n) in [(1, 1, 1), (3, 5, 7), (4, 8, 8), (13, 17, 19), (64, 384, 65), (130, 70, 90), (9, 1536, 384), (300, 384, 1536)] {
            let (w, scales) = random_int8(n, k, 3);
            // A row of one sign and a row of zeros test the zero point's edges.
            let mut a = SeededRng::new(4).fill(m * k).iter().map(|x| x * 3.0).collect::<Vec<f32>>();
            a[..k].iter_mut().for_each(|v| *v = v.abs());
            if m > 2 {
                a[k..2 * k].iter_mut().for_each(|v| *v = 0.0);
            }
            let mut out = vec![0.0; m * n];
            int8_matmul(&a, m, &PackedInt8::from_rows(&w, &scales, n, k), &mut out);
            let want = emulate(&a, m, k, &w, &scales, n);
            for (i, (x, y)) in out.iter().zip(&want).enumerate() {
                assert!((*x as f64 - y).abs() <= 1e-5 * y.abs().max(1e-3), "({m},{k},{n}) [{i}]: {x} vs {y}");
            }
        }
    }

    /// ‖int8 product − f64 product‖ / ‖f64 product‖, with `b` (k×n) quantized per column.
    fn relative_error_vs_f64(a: &[f32], b: &[f32], m: usize, k: usize, n: usize) -> f64 {
        let mut out = vec![0.0; m * n];
        int8_matmul(a, m, &PackedInt8::quantize(b, k, n), &mut out);
        let (mut err, mut norm) = (0.0f64, 0.0f64);
        for i in 0..m {
            for j in 0..n {
                let want: f64 = (0..k).map(|kk| a[i * k + kk] as f64 * b[kk * n + j] as f64).sum();
                err += (out[i * n + j] as f64 - want).powi(2);
                norm += want * want;
            }
        }
        (err / norm).sqrt()
    }

    #[test]
    fn int8_product_is_close_to_the_f64_product() {
        let (m, k, n) = (16, 384, 96);
        let a = SeededRng::new(7).fill(m * k);
        let b = SeededRng::new(8).fill(k * n);
        // 7-bit activations and 8-bit weights over uniform data: about 1 % relative error.
        let relative = relative_error_vs_f64(&a, &b, m, k, n);
        assert!(relative < 0.02, "relative error {relative}");
        assert!(relative > 0.0, "a quantized product that is exact means nothing was quantized");
    }

    #[test]
    fn outlier_features_are_multiplied_in_f32() {
        let (m, k, n) = (24, 256, 40);
        let mut a = SeededRng::new(10).fill(m * k);
        // Two features 100× larger than the rest, as transformer hidden states have.
        for row in a.chunks_exact_mut(k) {
            row[17] *= 100.0;
            row[200] *= 60.0;
        }
        assert_eq!(outlier_features(&a, m, k), vec![17, 200]);
        let b = SeededRng::new(11).fill(k * n);
        // Without the split the outliers would leave the other features about 2 levels each.
        let relative = relative_error_vs_f64(&a, &b, m, k, n);
        assert!(relative < 0.02, "relative error {relative}");
        assert!(outlier_features(&SeededRng::new(12).fill(m * k), m, k).is_empty());
    }

    #[test]
    fn unpack_returns_the_dequantized_weights() {
        let (k, n) = (10, 11);
        let b = SeededRng::new(9).fill(k * n);
        let packed = PackedInt8::quantize(&b, k, n);
        for (x, y) in packed.unpack().iter().zip(&b) {
            assert!((x - y).abs() <= 1.0 / 127.0 * 0.51 + 1e-6, "{x} vs {y}");
        }
    }
}
