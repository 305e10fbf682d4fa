//! eˣ in plain f32 arithmetic, so the loops that call it vectorise (`f32::exp` is a scalar
//! library call: through it GELU cost as much as a third of the matmuls it follows, and in
//! wasm a loop calling it stays scalar).

/// Below this eˣ leaves f32's normal range.
const FLOOR: f32 = -87.3;
/// Above this 2ⁿ no longer fits f32's exponent.
const CEIL: f32 = 88.0;

/// eˣ for x ≤ 0; below −87.3 it is 0, so −1e9 masks give exactly 0; −∞ gives 0 and NaN stays
/// NaN.
#[inline(always)]
pub(super) fn exp_nonpositive(x: f32) -> f32 {
    let e = exp_in_range(if x < FLOOR { FLOOR } else { x });
    if x < FLOOR {
        0.0
    } else {
        e
    }
}

/// eˣ with x clamped to [−87.3, 88]: about 1e-38 far below, about 1.6e38 far above.
#[inline(always)]
pub(super) fn exp_clamped(x: f32) -> f32 {
    exp_in_range(x.clamp(FLOOR, CEIL))
}

/// eˣ for x in [−87.3, 88] (within 2 ulp): x = n·ln 2 + r (Cody–Waite: ln 2 in two parts,
/// |r| ≤ ln 2 / 2), eʳ by Cephes' `expf` polynomial, 2ⁿ built in the exponent bits.
#[inline(always)]
fn exp_in_range(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    /// 1.5·2²³: adding and subtracting it rounds to the nearest integer (ties to even)
    /// without a `round` call (which baseline x86-64 has no instruction for).
    const ROUND: f32 = 12_582_912.0;
    // n + ROUND, exactly: n sits in the low bits of its mantissa.
    let shifted = x * LOG2E + ROUND;
    let n = shifted - ROUND;
    let r = (x - n * LN2_HI) - n * LN2_LO;
    let mut p = 1.987_569_2e-4f32;
    p = p * r + 1.398_199_9e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 1.666_666_5e-1;
    p = p * r + 0.5;
    let er = p * r * r + r + 1.0;
    // 2ⁿ's exponent bits read off `shifted` in integer arithmetic: no float-to-int conversion,
    // whose saturating form (`as i32`) kept the AVX-512 GELU loop from vectorising well.
    let biased = shifted.to_bits().wrapping_sub(ROUND.to_bits()).wrapping_add(127);
    er * f32::from_bits(biased << 23)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_within_two_ulp(f: fn(f32) -> f32, from: f32, to: f32) {
        let mut x = from;
        while x < to {
            let (got, want) = (f(x) as f64, (x as f64).exp());
            assert!((got - want).abs() <= 2.0 * f32::EPSILON as f64 * want, "exp({x}) = {got}, want {want}");
            x += 0.000_37;
        }
    }

    #[test]
    fn exp_nonpositive_is_within_two_ulp_and_masks_to_zero() {
        assert_within_two_ulp(exp_nonpositive, -87.0, 0.0);
        assert_eq!([exp_nonpositive(-1e9), exp_nonpositive(f32::NEG_INFINITY), exp_nonpositive(0.0)], [0.0, 0.0, 1.0]);
        assert!(exp_nonpositive(f32::NAN).is_nan());
    }

    #[test]
    fn exp_clamped_is_within_two_ulp_and_saturates() {
        assert_within_two_ulp(exp_clamped, -87.0, 88.0);
        assert!(exp_clamped(-1e4) > 0.0 && exp_clamped(-1e4) < 1e-37);
        assert!(exp_clamped(1e4).is_finite() && exp_clamped(1e4) > 1e38);
    }
}
