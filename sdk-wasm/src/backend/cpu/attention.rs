//! Fused attention, `softmax(q·kᵀ·scale + bias)·v`, never holding more scores than one key
//! tile of one query row. Work units are blocks of query rows (of one problem); each walks
//! the keys in tiles of [`KEYS`]: the tile's keys are transposed into a small buffer, each
//! query row's scores for the tile are computed, and an online softmax (running max and sum,
//! the accumulator rescaled when the max grows) folds the tile's values into the output row.
//! q, k, v and the bias are read through their strides (a transposed query, a KV-cache
//! window, a broadcast mask), so no input is copied whole.

use super::exp::exp_nonpositive;
use super::lanes::{lane_max, lane_sum};
use super::matmul::{matmul_packed_serial, PackedB};
use super::parallel::{for_each_chunk, threads};
use super::{CpuBackend, CpuStorage};
use crate::backend::{AttentionOps, AttentionPlan, Operand};
use crate::core::{Error, Layout, Result};

/// Keys per tile: the transposed tile (d × KEYS) and a row's scores stay in L1.
const KEYS: usize = 64;
/// Query rows per block: they share each transposed key tile.
const ROWS: usize = 128;
/// Below this many multiply-adds one thread is faster than handing work to the pool.
const PARALLEL_MIN_MACS: usize = 1 << 20;
/// Scores computed together per query row, one accumulator chain per lane kept in registers:
/// 8 AVX registers natively; 8 of wasm's 128-bit registers in browsers.
const SCORE_LANES: usize = if cfg!(target_arch = "wasm32") { 32 } else { 64 };
/// Output columns accumulated together over a tile's keys, likewise in registers.
const OUT_LANES: usize = 32;
/// Query rows whose scores and outputs are computed together: each key (or value) loaded
/// serves all of them, so the loops are bound by multiply-adds, not loads.
const GROUP: usize = 4;
/// Keys (then output columns) per row of a group held in registers: 4 × 16 in 8 AVX
/// registers natively, 4 × 8 in 8 of wasm's 128-bit registers.
const GROUP_LANES: usize = if cfg!(target_arch = "wasm32") { 8 } else { 16 };

/// A rank-3 view [problem, row, column] of f32 data through strides. The problem index p
/// lands at `(p / per)·group_stride + (p % per)·head_stride`, so a rank-4 bias [B, H, ..]
/// grouping problems as [B, b / B] is a view too; broadcast dimensions have stride 0.
#[derive(Clone, Copy)]
pub(crate) struct View<'a> {
    data: &'a [f32],
    offset: usize,
    per: usize,
    group_stride: usize,
    head_stride: usize,
    row_stride: usize,
    col_stride: usize,
}

impl<'a> View<'a> {
    /// Where row `r` of problem `p` starts in the data.
    #[inline(always)]
    fn start(&self, p: usize, r: usize) -> usize {
        self.offset + (p / self.per) * self.group_stride + (p % self.per) * self.head_stride + r * self.row_stride
    }

    /// A rank-3 layout [b, rows, cols] as a view.
    fn of(data: &'a [f32], layout: &Layout) -> Result<View<'a>> {
        match (layout.shape.dims(), layout.strides.as_slice()) {
            (&[_, _, _], &[p, r, c]) => {
                Ok(View { data, offset: layout.offset, per: 1, group_stride: p, head_stride: 0, row_stride: r, col_stride: c })
            }
            _ => Err(Error::shape("attention", format!("expected a rank-3 view, got {}", layout.shape))),
        }
    }

    /// A bias broadcasting to the scores [b, sq, sk] per `plan` (checked by `ops::attention`).
    fn bias(data: &'a [f32], layout: &Layout, plan: &AttentionPlan) -> Result<View<'a>> {
        let (dims, strides) = (layout.shape.dims(), layout.strides.as_slice());
        // Size-1 dimensions broadcast: stride 0.
        let s = |i: usize| if dims[i] == 1 { 0 } else { strides[i] };
        let offset = layout.offset;
        match (dims.len(), plan.bias_groups) {
            (4, Some(groups)) if groups > 0 => {
                Ok(View { data, offset, per: plan.b / groups, group_stride: s(0), head_stride: s(1), row_stride: s(2), col_stride: s(3) })
            }
            (rank @ 0..=3, None) => {
                // Right-aligned against [b, sq, sk]; missing leading dimensions broadcast.
                let at = |i: usize| if i + rank >= 3 { s(i + rank - 3) } else { 0 };
                Ok(View { data, offset, per: 1, group_stride: at(0), head_stride: 0, row_stride: at(1), col_stride: at(2) })
            }
            _ => Err(Error::shape("attention", format!("bias {} does not match the plan {plan:?}", layout.shape))),
        }
    }

    /// Elements `cols` of row `r` of problem `p`: borrowed when they are adjacent in the data,
    /// else gathered into `buf`.
    #[inline(always)]
    fn row<'b>(&'b self, p: usize, r: usize, cols: std::ops::Range<usize>, buf: &'b mut [f32]) -> &'b [f32] {
        let start = self.start(p, r);
        let len = cols.len();
        if self.col_stride == 1 {
            let at = start + cols.start;
            return &self.data[at..at + len];
        }
        for (dst, c) in buf[..len].iter_mut().zip(cols) {
            *dst = self.data[start + c * self.col_stride];
        }
        &buf[..len]
    }
}

/// Attention for every problem into `out` [b, sq, dv] (contiguous).
pub(crate) fn attention(q: View, k: View, v: View, bias: Option<View>, plan: &AttentionPlan, out: &mut [f32]) {
    let AttentionPlan { b, sq, sk, d, dv, .. } = *plan;
    let rows = b * sq;
    if rows == 0 || dv == 0 {
        return;
    }
    if sq >= TILE_ROWS && (TILE_MIN_KEYS..=TILE_MAX_KEYS).contains(&sk) {
        return tiled::attention(q, k, v, bias, plan, out);
    }
    let macs = rows * sk * (d + dv);
    // Enough units for the pool to balance, each at most one block.
    let unit = if macs < PARALLEL_MIN_MACS || threads() == 1 { rows } else { rows.div_ceil(4 * threads()).clamp(1, ROWS) };
    let kernel = Kernel { q, k, v, bias, plan: *plan };
    for_each_chunk(out, unit * dv, |i, chunk| kernel.rows(i * unit, chunk));
}

/// Query rows per tile of the matmul path: a multiple of every micro-kernel's row block.
const TILE_ROWS: usize = 96;
/// Keys from which the matmul path wins (below, the streaming kernel's setup is cheaper)…
const TILE_MIN_KEYS: usize = 64;
/// …and up to which a tile's scores (TILE_ROWS × sk) stay in L2.
const TILE_MAX_KEYS: usize = 4096;

/// Attention for long problems through the register-blocked matmul: per problem Kᵀ and V are
/// packed once as the matmul's right operands; each tile of TILE_ROWS query rows gets its
/// scores [rows, sk] by one matmul, an exact row softmax, and its output by a second matmul.
/// Only one tile's scores exist at a time (per thread), never the problem's whole matrix.
mod tiled {
    use super::*;

    pub(super) fn attention(q: View, k: View, v: View, bias: Option<View>, plan: &AttentionPlan, out: &mut [f32]) {
        let AttentionPlan { b, sq, sk, d, dv, .. } = *plan;
        let mut operands: Vec<Option<(PackedB, PackedB)>> = (0..b).map(|_| None).collect();
        for_each_chunk(&mut operands, 1, |p, slot| slot[0] = Some(pack(&k, &v, p, sk, d, dv)));
        let operands: Vec<(PackedB, PackedB)> = operands.into_iter().flatten().collect();
        let tiles_per_problem = sq.div_ceil(TILE_ROWS);
        // One unit per tile; a problem's last tile may be short, so units are whole tiles.
        let mut units: Vec<Vec<f32>> = (0..b * tiles_per_problem).map(|_| Vec::new()).collect();
        for_each_chunk(&mut units, 1, |u, slot| {
            let (p, t) = (u / tiles_per_problem, u % tiles_per_problem);
            let (i0, len) = (t * TILE_ROWS, TILE_ROWS.min(sq - t * TILE_ROWS));
            slot[0] = tile(&q, bias.as_ref(), plan, &operands[p], p, i0, len);
        });
        for (u, rows) in units.iter().enumerate() {
            let (p, t) = (u / tiles_per_problem, u % tiles_per_problem);
            let at = (p * sq + t * TILE_ROWS) * dv;
            out[at..at + rows.len()].copy_from_slice(rows);
        }
    }

    /// Kᵀ [d, sk] and V [sk, dv] of problem `p`, packed.
    fn pack(k: &View, v: &View, p: usize, sk: usize, d: usize, dv: usize) -> (PackedB, PackedB) {
        let mut row = vec![0.0; d.max(dv)];
        let (mut kt, mut vv) = (vec![0.0; d * sk], vec![0.0; sk * dv]);
        for j in 0..sk {
            for (c, &x) in k.row(p, j, 0..d, &mut row).iter().enumerate() {
                kt[c * sk + j] = x;
            }
            vv[j * dv..(j + 1) * dv].copy_from_slice(v.row(p, j, 0..dv, &mut row));
        }
        (PackedB::pack(&kt, d, sk), PackedB::pack(&vv, sk, dv))
    }

    /// Output rows `i0..i0 + len` of problem `p`, [len, dv].
    fn tile(
        q: &View,
        bias: Option<&View>,
        plan: &AttentionPlan,
        (kt, vv): &(PackedB, PackedB),
        p: usize,
        i0: usize,
        len: usize,
    ) -> Vec<f32> {
        let AttentionPlan { sk, d, dv, scale, .. } = *plan;
        let mut row = vec![0.0; d.max(sk)];
        let mut qs = vec![0.0; len * d];
        for r in 0..len {
            qs[r * d..(r + 1) * d].copy_from_slice(q.row(p, i0 + r, 0..d, &mut row));
        }
        let mut scores = vec![0.0; len * sk];
        matmul_packed_serial(&qs, kt, len, &mut scores);
        let mut sums = vec![0.0f32; len];
        for (r, s) in scores.chunks_exact_mut(sk).enumerate() {
            let bias_row = bias.map(|bias| bias.row(p, i0 + r, 0..sk, &mut row));
            sums[r] = exponentials(s, bias_row, scale);
        }
        let mut out = vec![0.0; len * dv];
        matmul_packed_serial(&scores, vv, len, &mut out);
        for (o, &sum) in out.chunks_exact_mut(dv).zip(&sums) {
            let inv = if sum > 0.0 { 1.0 / sum } else { 0.0 };
            o.iter_mut().for_each(|a| *a *= inv);
        }
        out
    }
}

/// One row of scores → exp(score·scale + bias − max), in place; returns their sum. A row
/// whose every key is masked with −∞ becomes zeros (it adds nothing). With the widest vectors
/// this CPU has: the exponentials are most of a tile's non-matmul time.
fn exponentials(s: &mut [f32], bias: Option<&[f32]>, scale: f32) -> f32 {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") {
        // SAFETY: the CPU was just checked for the feature the function is compiled for.
        return unsafe { exponentials_avx512(s, bias, scale) };
    }
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        // SAFETY: as above, for both features.
        return unsafe { exponentials_avx2(s, bias, scale) };
    }
    exponentials_body(s, bias, scale)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn exponentials_avx512(s: &mut [f32], bias: Option<&[f32]>, scale: f32) -> f32 {
    exponentials_body(s, bias, scale)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn exponentials_avx2(s: &mut [f32], bias: Option<&[f32]>, scale: f32) -> f32 {
    exponentials_body(s, bias, scale)
}

#[inline(always)]
fn exponentials_body(s: &mut [f32], bias: Option<&[f32]>, scale: f32) -> f32 {
    match bias {
        Some(bias) => s.iter_mut().zip(bias).for_each(|(x, &b)| *x = *x * scale + b),
        None => s.iter_mut().for_each(|x| *x *= scale),
    }
    let max = lane_max(s);
    if max == f32::NEG_INFINITY {
        s.fill(0.0);
        return 0.0;
    }
    s.iter_mut().for_each(|x| *x = exp_nonpositive(*x - max));
    lane_sum(s)
}

struct Kernel<'a> {
    q: View<'a>,
    k: View<'a>,
    v: View<'a>,
    bias: Option<View<'a>>,
    plan: AttentionPlan,
}

/// Per-unit buffers, allocated once per unit.
struct Scratch {
    /// The query block, row-major [rows, d].
    q: Vec<f32>,
    /// The key tile transposed: [d, KEYS] (keys past the end are zero).
    kt: Vec<f32>,
    /// One gathered row of a strided key, value or bias.
    row: Vec<f32>,
    /// The value tile [KEYS, dv] when values are strided.
    v: Vec<f32>,
    /// One query row's scores for the tile, then their exponentials.
    s: [f32; KEYS],
    /// The same for a group of rows.
    group: [[f32; KEYS]; GROUP],
    /// The keys of a tile some row of the group gives weight (the others are masked).
    live: [u8; KEYS],
    /// Running max and sum of exponentials per query row of the block.
    max: [f32; ROWS],
    sum: [f32; ROWS],
}

impl Kernel<'_> {
    /// Global query rows `first..` (row g is row g % sq of problem g / sq) into `out`.
    fn rows(&self, first: usize, out: &mut [f32]) {
        let AttentionPlan { sq, d, dv, sk, .. } = self.plan;
        let width = d.max(dv).max(sk.min(KEYS));
        let mut scratch = Scratch {
            q: vec![0.0; ROWS * d],
            kt: vec![0.0; d * KEYS],
            row: vec![0.0; width],
            v: vec![0.0; KEYS * dv],
            s: [0.0; KEYS],
            group: [[0.0; KEYS]; GROUP],
            live: [0; KEYS],
            max: [0.0; ROWS],
            sum: [0.0; ROWS],
        };
        let n = out.len() / dv;
        let mut g = first;
        while g < first + n {
            let (p, i) = (g / sq, g % sq);
            let len = ROWS.min(sq - i).min(first + n - g);
            let block = &mut out[(g - first) * dv..(g - first + len) * dv];
            self.block_dispatch(p, i, block, &mut scratch);
            g += len;
        }
    }

    fn block_dispatch(&self, p: usize, i0: usize, out: &mut [f32], scratch: &mut Scratch) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
            // SAFETY: the CPU was just checked for the features the function is compiled for.
            return unsafe { self.block_avx2(p, i0, out, scratch) };
        }
        self.block::<false>(p, i0, out, scratch)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    fn block_avx2(&self, p: usize, i0: usize, out: &mut [f32], scratch: &mut Scratch) {
        self.block::<true>(p, i0, out, scratch)
    }

    /// Query rows `i0..` of problem `p` (as many as `out` holds, at most ROWS): every key
    /// tile, folded in with an online softmax. `FUSED`: multiply-adds as FMA instructions
    /// (only where the target has them; elsewhere `mul_add` is a library call).
    #[inline(always)]
    fn block<const FUSED: bool>(&self, p: usize, i0: usize, out: &mut [f32], scratch: &mut Scratch) {
        let AttentionPlan { sk, d, dv, .. } = self.plan;
        let len = out.len() / dv;
        let Scratch { q, kt, row, v, s, group, live, max, sum } = scratch;
        for r in 0..len {
            let qr = self.q.row(p, i0 + r, 0..d, row);
            q[r * d..(r + 1) * d].copy_from_slice(qr);
        }
        out.fill(0.0);
        max[..len].fill(f32::NEG_INFINITY);
        sum[..len].fill(0.0);
        for j0 in (0..sk).step_by(KEYS) {
            let n = KEYS.min(sk - j0);
            // The key tile, transposed so a query row's scores are computed SCORE_LANES at a time.
            for j in 0..n {
                let kr = self.k.row(p, j0 + j, 0..d, row);
                for (c, &x) in kr.iter().enumerate() {
                    kt[c * KEYS + j] = x;
                }
            }
            if n < KEYS {
                for c in 0..d {
                    kt[c * KEYS + n..(c + 1) * KEYS].fill(0.0);
                }
            }
            // The value tile: read in place when its rows are contiguous.
            let values_in_place = self.v.col_stride == 1;
            if !values_in_place {
                for j in 0..n {
                    let vr = self.v.row(p, j0 + j, 0..dv, row);
                    v[j * dv..(j + 1) * dv].copy_from_slice(vr);
                }
            }
            let (data, base, stride) =
                if values_in_place { (self.v.data, self.v.start(p, j0), self.v.row_stride) } else { (&v[..], 0, dv) };
            let mut r = 0;
            while r + GROUP <= len {
                scores_group::<FUSED>(&q[r * d..(r + GROUP) * d], kt, group);
                for (g, w) in group.iter_mut().enumerate() {
                    let acc = &mut out[(r + g) * dv..(r + g + 1) * dv];
                    if !self.fold_tile((p, i0 + r + g), j0, &mut w[..n], (&mut max[r + g], &mut sum[r + g]), acc, row) {
                        w[..n].fill(0.0);
                    }
                }
                let keys = live_keys(group, n, live);
                weighted_sum_group::<FUSED>(group, &live[..keys], (data, base, stride), &mut out[r * dv..(r + GROUP) * dv]);
                r += GROUP;
            }
            for r in r..len {
                scores::<FUSED>(&q[r * d..(r + 1) * d], kt, s);
                let acc = &mut out[r * dv..(r + 1) * dv];
                if self.fold_tile((p, i0 + r), j0, &mut s[..n], (&mut max[r], &mut sum[r]), acc, row) {
                    weighted_sum::<FUSED>(&s[..n], data, base, stride, acc);
                }
            }
        }
        for r in 0..len {
            let inv = 1.0 / sum[r];
            out[r * dv..(r + 1) * dv].iter_mut().for_each(|a| *a *= inv);
        }
    }

    /// Query row `i`'s scores `s` for the key tile at `j0`: scaled and biased, then folded into
    /// its online softmax — `acc` (its output row so far) and its running sum rescaled when
    /// the max grows, `s` turned into the weights of the tile's values. False when every key
    /// so far is masked with −∞: nothing to add yet.
    #[inline(always)]
    fn fold_tile(
        &self,
        (p, i): (usize, usize),
        j0: usize,
        s: &mut [f32],
        (max, sum): (&mut f32, &mut f32),
        acc: &mut [f32],
        row: &mut [f32],
    ) -> bool {
        let scale = self.plan.scale;
        match &self.bias {
            Some(bias) => {
                let br = bias.row(p, i, j0..j0 + s.len(), row);
                s.iter_mut().zip(br).for_each(|(x, &b)| *x = *x * scale + b);
            }
            None if scale != 1.0 => s.iter_mut().for_each(|x| *x *= scale),
            None => {}
        }
        let tile_max = lane_max(s);
        let new_max = max.max(tile_max);
        if new_max == f32::NEG_INFINITY {
            return false;
        }
        if new_max > *max {
            let c = (*max - new_max).exp();
            *sum *= c;
            acc.iter_mut().for_each(|a| *a *= c);
            *max = new_max;
        }
        s.iter_mut().for_each(|x| *x = exp_nonpositive(*x - new_max));
        *sum += lane_sum(s);
        true
    }
}

/// The keys of the tile's first `n` some row of the group weighs (masked keys weigh 0 in
/// every row), into `live`; returns how many.
#[inline(always)]
fn live_keys(w: &[[f32; KEYS]; GROUP], n: usize, live: &mut [u8; KEYS]) -> usize {
    let mut count = 0;
    for j in 0..n {
        if w.iter().any(|row| row[j] != 0.0) {
            live[count] = j as u8;
            count += 1;
        }
    }
    count
}

/// `s[g][j] = q_g · key j` for GROUP query rows `q` [GROUP, d] over a tile transposed as `kt`
/// [d, KEYS]: each key lane loaded once serves every row of the group.
#[inline(always)]
fn scores_group<const FUSED: bool>(q: &[f32], kt: &[f32], s: &mut [[f32; KEYS]; GROUP]) {
    let d = q.len() / GROUP;
    for l0 in (0..KEYS).step_by(GROUP_LANES) {
        let mut acc = [[0.0f32; GROUP_LANES]; GROUP];
        for c in 0..d {
            let k = &kt[c * KEYS + l0..c * KEYS + l0 + GROUP_LANES];
            for (g, a) in acc.iter_mut().enumerate() {
                let x = q[g * d + c];
                for l in 0..GROUP_LANES {
                    a[l] = madd::<FUSED>(x, k[l], a[l]);
                }
            }
        }
        for (row, a) in s.iter_mut().zip(&acc) {
            row[l0..l0 + GROUP_LANES].copy_from_slice(a);
        }
    }
}

/// `out[g] += Σ_j w[g][j] · value row j` for the group's GROUP output rows `out` [GROUP, dv],
/// over the `live` keys, value row j at `data[base + j·stride..]`: each value lane loaded once
/// serves every row of the group.
#[inline(always)]
fn weighted_sum_group<const FUSED: bool>(
    w: &[[f32; KEYS]; GROUP],
    live: &[u8],
    (data, base, stride): (&[f32], usize, usize),
    out: &mut [f32],
) {
    let dv = out.len() / GROUP;
    let mut c0 = 0;
    while c0 + GROUP_LANES <= dv {
        let mut acc = [[0.0f32; GROUP_LANES]; GROUP];
        for (g, a) in acc.iter_mut().enumerate() {
            a.copy_from_slice(&out[g * dv + c0..g * dv + c0 + GROUP_LANES]);
        }
        for &j in live {
            let j = j as usize;
            let at = base + j * stride + c0;
            let x = &data[at..at + GROUP_LANES];
            for (g, a) in acc.iter_mut().enumerate() {
                let wj = w[g][j];
                for l in 0..GROUP_LANES {
                    a[l] = madd::<FUSED>(wj, x[l], a[l]);
                }
            }
        }
        for (g, a) in acc.iter().enumerate() {
            out[g * dv + c0..g * dv + c0 + GROUP_LANES].copy_from_slice(a);
        }
        c0 += GROUP_LANES;
    }
    for (g, row) in out.chunks_exact_mut(dv).enumerate() {
        for &j in live {
            let (j, wj) = (j as usize, w[g][j as usize]);
            let at = base + j * stride;
            row[c0..].iter_mut().zip(&data[at + c0..at + dv]).for_each(|(a, &x)| *a = madd::<FUSED>(wj, x, *a));
        }
    }
}

/// `s[j] = q · key j` for a tile transposed as `kt` [d, KEYS]: SCORE_LANES keys at a time, each
/// accumulated over d in its own lane (no `mul_add`: a slow library call without FMA, e.g.
/// in wasm; the compiler vectorises the lanes).
#[inline(always)]
fn scores<const FUSED: bool>(q: &[f32], kt: &[f32], s: &mut [f32; KEYS]) {
    for (l0, out) in s.chunks_exact_mut(SCORE_LANES).enumerate() {
        let mut acc = [0.0f32; SCORE_LANES];
        for (c, &x) in q.iter().enumerate() {
            let k = &kt[c * KEYS + l0 * SCORE_LANES..c * KEYS + (l0 + 1) * SCORE_LANES];
            for l in 0..SCORE_LANES {
                acc[l] = madd::<FUSED>(x, k[l], acc[l]);
            }
        }
        out.copy_from_slice(&acc);
    }
}

/// `acc += Σ_j w[j] · row j` with row j at `data[base + j·stride..][..acc.len()]`: OUT_LANES
/// columns at a time held across the keys; keys of weight 0 (masked) skipped.
#[inline(always)]
fn weighted_sum<const FUSED: bool>(w: &[f32], data: &[f32], base: usize, stride: usize, acc: &mut [f32]) {
    let dv = acc.len();
    let mut chunks = acc.chunks_exact_mut(OUT_LANES);
    for (ci, out) in chunks.by_ref().enumerate() {
        let mut a = [0.0f32; OUT_LANES];
        a.copy_from_slice(out);
        for (j, &wj) in w.iter().enumerate() {
            if wj == 0.0 {
                continue;
            }
            let at = base + j * stride + ci * OUT_LANES;
            let x = &data[at..at + OUT_LANES];
            for l in 0..OUT_LANES {
                a[l] = madd::<FUSED>(wj, x[l], a[l]);
            }
        }
        out.copy_from_slice(&a);
    }
    let tail = chunks.into_remainder();
    let c0 = dv - tail.len();
    for (j, &wj) in w.iter().enumerate() {
        if wj != 0.0 {
            let at = base + j * stride + c0;
            tail.iter_mut().zip(&data[at..at + dv - c0]).for_each(|(a, &x)| *a = madd::<FUSED>(wj, x, *a));
        }
    }
}

#[inline(always)]
fn madd<const FUSED: bool>(a: f32, b: f32, c: f32) -> f32 {
    if FUSED {
        a.mul_add(b, c)
    } else {
        c + a * b
    }
}

impl AttentionOps for CpuBackend {
    fn attention(
        &self,
        q: Operand<CpuStorage>,
        k: Operand<CpuStorage>,
        v: Operand<CpuStorage>,
        bias: Option<Operand<CpuStorage>>,
        plan: &AttentionPlan,
    ) -> Result<Option<CpuStorage>> {
        let (qd, kd, vd) = (q.storage.f32_data()?, k.storage.f32_data()?, v.storage.f32_data()?);
        let bd = bias.map(|b| b.storage.f32_data()).transpose()?;
        let bias = match (&bd, bias) {
            (Some(data), Some(b)) => Some(View::bias(data, b.layout, plan)?),
            _ => None,
        };
        let mut out = vec![0.0; plan.b * plan.sq * plan.dv];
        attention(View::of(&qd, q.layout)?, View::of(&kd, k.layout)?, View::of(&vd, v.layout)?, bias, plan, &mut out);
        Ok(Some(CpuStorage::f32(out)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::{SeededRng, Shape};

    /// The matmul path (problems of ≥ TILE_ROWS query rows): two problems of 100 rows (a full
    /// tile and a short one) over 70 keys with a mask, one row masked entirely, against the f64
    /// reference.
    #[test]
    fn the_tiled_path_matches_the_reference() {
        let (b, sq, sk, d, dv) = (2, TILE_ROWS + 4, TILE_MIN_KEYS + 6, 5, 3);
        let (q, k, v) = (SeededRng::new(4).fill(b * sq * d), SeededRng::new(5).fill(b * sk * d), SeededRng::new(6).fill(b * sk * dv));
        let bias: Vec<f32> = (0..sq * sk)
            .map(|i| {
                if i / sk == 7 {
                    f32::NEG_INFINITY
                } else if (i % sk) % 5 == 0 {
                    -1e9
                } else {
                    0.01 * (i % 13) as f32
                }
            })
            .collect();
        let plan = AttentionPlan { b, sq, sk, d, dv, scale: 0.3, bias_groups: None };
        let layout = |dims: [usize; 3]| Layout::contiguous(Shape::new(dims));
        let (lq, lk, lv) = (layout([b, sq, d]), layout([b, sk, d]), layout([b, sk, dv]));
        let mut out = vec![0.0; b * sq * dv];
        let bv = View { data: &bias, offset: 0, per: 1, group_stride: 0, head_stride: 0, row_stride: sk, col_stride: 1 };
        attention(View::of(&q, &lq).unwrap(), View::of(&k, &lk).unwrap(), View::of(&v, &lv).unwrap(), Some(bv), &plan, &mut out);
        let full_bias: Vec<f32> = (0..b).flat_map(|_| bias.iter().map(|&x| if x == f32::NEG_INFINITY { -1e9 } else { x })).collect();
        let want = crate::reference::attention(&q, &k, &v, Some(&full_bias), b, sq, sk, d, dv, 0.3);
        for (i, (g, w)) in out.iter().zip(&want).enumerate() {
            let masked_row = (i / dv) % sq == 7;
            let w = if masked_row { 0.0 } else { *w };
            assert!((g - w).abs() < 1e-5, "element {i}: {g} vs {w}");
        }
    }

    /// Masks of −∞ (outside `ops::attention`'s contract for GPUs, but what a CPU caller may
    /// pass): whole leading key tiles masked must add nothing, not NaN.
    #[test]
    fn leading_tiles_masked_with_infinity_add_nothing() {
        let (sq, sk, d, dv) = (2, 2 * KEYS + 3, 4, 3);
        let (q, k, v) = (SeededRng::new(1).fill(sq * d), SeededRng::new(2).fill(sk * d), SeededRng::new(3).fill(sk * dv));
        let bias: Vec<f32> = (0..sq * sk).map(|i| if i % sk >= KEYS + 1 + i / sk { 0.0 } else { f32::NEG_INFINITY }).collect();
        let plan = AttentionPlan { b: 1, sq, sk, d, dv, scale: 0.5, bias_groups: None };
        let layout = |dims: [usize; 3]| Layout::contiguous(Shape::new(dims));
        let (lq, lk, lv) = (layout([1, sq, d]), layout([1, sk, d]), layout([1, sk, dv]));
        let mut out = vec![0.0; sq * dv];
        let b = View { data: &bias, offset: 0, per: 1, group_stride: 0, head_stride: 0, row_stride: sk, col_stride: 1 };
        let (q3, k3, v3) = (View::of(&q, &lq).unwrap(), View::of(&k, &lk).unwrap(), View::of(&v, &lv).unwrap());
        attention(q3, k3, v3, Some(b), &plan, &mut out);
        let want = crate::reference::attention(&q, &k, &v, Some(&bias), 1, sq, sk, d, dv, 0.5);
        for (g, w) in out.iter().zip(&want) {
            assert!((g - w).abs() < 1e-5, "{out:?} vs {want:?}");
        }
    }
}
