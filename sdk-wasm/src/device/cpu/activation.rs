//! GELU (exact, erf-based, as BERT uses it).

/// erf(x), Abramowitz & Stegun 7.1.26 (absolute error ≤ 1.5e-7: below f32 resolution near 1).
/// The WGSL kernel in `shaders/activation.wgsl` uses the same formula.
pub fn erf(x: f32) -> f32 {
    let sign = if x < 0.0 { -1.0 } else { 1.0 };
    let x = x.abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * x);
    let poly = t * (0.254_829_6 + t * (-0.284_496_74 + t * (1.421_413_8 + t * (-1.453_152_1 + t * 1.061_405_4))));
    sign * (1.0 - poly * (-x * x).exp())
}

pub fn gelu(x: &[f32]) -> Vec<f32> {
    x.iter().map(|&v| 0.5 * v * (1.0 + erf(v * std::f32::consts::FRAC_1_SQRT_2))).collect()
}
