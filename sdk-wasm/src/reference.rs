//! Deliberately plain reference implementations (f64 accumulation, no blocking, no SIMD).
//! Every device's kernels are checked against these, never against another fast kernel.

pub fn matmul(a: &[f32], b: &[f32], batch: usize, m: usize, k: usize, n: usize, b_shared: bool) -> Vec<f32> {
    let mut out = vec![0.0f32; batch * m * n];
    for bi in 0..batch {
        let a0 = bi * m * k;
        let b0 = if b_shared { 0 } else { bi * k * n };
        for i in 0..m {
            for j in 0..n {
                let mut sum = 0.0f64;
                for p in 0..k {
                    sum += a[a0 + i * k + p] as f64 * b[b0 + p * n + j] as f64;
                }
                out[bi * m * n + i * n + j] = sum as f32;
            }
        }
    }
    out
}

pub fn softmax(x: &[f32], cols: usize) -> Vec<f32> {
    x.chunks(cols.max(1))
        .flat_map(|row| {
            let max = row.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v as f64));
            let exps: Vec<f64> = row.iter().map(|&v| (v as f64 - max).exp()).collect();
            let sum: f64 = exps.iter().sum();
            exps.into_iter().map(move |e| (e / sum) as f32)
        })
        .collect()
}

pub fn layernorm(x: &[f32], gamma: &[f32], beta: &[f32], cols: usize, eps: f32) -> Vec<f32> {
    x.chunks(cols.max(1))
        .flat_map(|row| {
            let n = row.len() as f64;
            let mean = row.iter().map(|&v| v as f64).sum::<f64>() / n;
            let var = row.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n;
            let inv = 1.0 / (var + eps as f64).sqrt();
            row.iter().zip(gamma).zip(beta).map(move |((&v, &g), &b)| ((v as f64 - mean) * inv * g as f64 + b as f64) as f32)
        })
        .collect()
}

/// erf by its Maclaurin series (|x| < 4, where it converges well in f64); 1 beyond, where
/// 1 - erf(x) < 2e-8 is below f32 resolution.
pub fn erf(x: f64) -> f64 {
    if x.abs() >= 4.0 {
        return x.signum();
    }
    let mut term = x;
    let mut sum = x;
    for n in 1..200 {
        term *= -x * x / n as f64;
        let add = term / (2 * n + 1) as f64;
        sum += add;
        if add.abs() < 1e-17 {
            break;
        }
    }
    sum * 2.0 / std::f64::consts::PI.sqrt()
}

pub fn gelu(x: &[f32]) -> Vec<f32> {
    x.iter().map(|&v| (0.5 * v as f64 * (1.0 + erf(v as f64 / std::f64::consts::SQRT_2))) as f32).collect()
}

/// Largest absolute and relative (|d| / max(|want|, 1e-3)) difference.
pub fn max_errors(got: &[f32], want: &[f32]) -> (f64, f64) {
    got.iter().zip(want).fold((0.0f64, 0.0f64), |(abs, rel), (&g, &w)| {
        let d = (g as f64 - w as f64).abs();
        let d = if d.is_nan() { f64::INFINITY } else { d };
        (abs.max(d), rel.max(d / (w as f64).abs().max(1e-3)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erf_series_matches_known_values() {
        // Values from Abramowitz & Stegun table 7.1.
        for (x, want) in [(0.5, 0.520_499_877_8), (1.0, 0.842_700_792_9), (2.0, 0.995_322_265_0), (-1.5, -0.966_105_146_5)] {
            assert!((erf(x) - want).abs() < 1e-9, "erf({x}) = {}", erf(x));
        }
    }

    #[test]
    fn max_errors_treats_nan_as_infinite() {
        assert_eq!(max_errors(&[f32::NAN], &[1.0]).0, f64::INFINITY);
    }
}
