//! Reductions over a row that vectorise (LANES independent partial results, combined at the
//! end), and the max/min they and other loops use. The compiler keeps f32 adds in order, so
//! a plain `sum()` is one dependent chain of adds (four cycles each), and a 384-wide layer
//! norm row paid that latency twice.

/// The larger of `a` and `b`, NaN `b` leaving `a`. A compare and a select: in wasm `f32::max`
/// is a call to libm's `fmaxf` per value (wasm's own max propagates NaN, Rust's ignores it),
/// which kept every loop over it scalar; this is one instruction and vectorises.
#[inline(always)]
pub(super) fn max(a: f32, b: f32) -> f32 {
    if b > a {
        b
    } else {
        a
    }
}

/// The smaller of `a` and `b`, NaN `b` leaving `a` (as `max`).
#[inline(always)]
pub(super) fn min(a: f32, b: f32) -> f32 {
    if b < a {
        b
    } else {
        a
    }
}

/// Independent partial results per reduction.
const LANES: usize = 16;

/// Σ f(x) over `x`.
#[inline(always)]
pub(super) fn lane_sum_of(x: &[f32], f: impl Fn(f32) -> f32) -> f32 {
    let mut acc = [0.0f32; LANES];
    let chunks = x.chunks_exact(LANES);
    let tail: f32 = chunks.remainder().iter().map(|&v| f(v)).sum();
    for c in chunks {
        for l in 0..LANES {
            acc[l] += f(c[l]);
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// Σ x.
#[inline(always)]
pub(super) fn lane_sum(x: &[f32]) -> f32 {
    lane_sum_of(x, |v| v)
}

/// max x, −∞ for no values.
#[inline(always)]
pub(super) fn lane_max(x: &[f32]) -> f32 {
    let mut acc = [f32::NEG_INFINITY; LANES];
    let chunks = x.chunks_exact(LANES);
    let tail = chunks.remainder().iter().copied().fold(f32::NEG_INFINITY, max);
    for c in chunks {
        for l in 0..LANES {
            acc[l] = max(acc[l], c[l]);
        }
    }
    acc.iter().copied().fold(tail, max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lane_reductions_match_plain_ones() {
        for len in [0, 1, 15, 16, 17, 384, 1000] {
            let x: Vec<f32> = (0..len).map(|i| ((i * 37 % 101) as f32 - 50.0) / 8.0).collect();
            let plain: f64 = x.iter().map(|&v| v as f64).sum();
            assert!((lane_sum(&x) as f64 - plain).abs() <= 1e-4 * (1.0 + plain.abs()), "sum of {len}");
            let squares: f64 = x.iter().map(|&v| (v as f64) * (v as f64)).sum();
            assert!((lane_sum_of(&x, |v| v * v) as f64 - squares).abs() <= 1e-4 * squares.max(1.0), "squares of {len}");
            assert_eq!(lane_max(&x), x.iter().copied().fold(f32::NEG_INFINITY, f32::max), "max of {len}");
        }
    }
}
