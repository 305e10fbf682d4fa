//! Row-wise softmax and layer normalisation over the last dimension.

/// Numerically stable softmax of each `cols`-long row (max subtracted before exp).
pub fn softmax(x: &[f32], cols: usize) -> Vec<f32> {
    let mut out = vec![0.0; x.len()];
    if cols == 0 {
        return out;
    }
    for (row, dst) in x.chunks_exact(cols).zip(out.chunks_exact_mut(cols)) {
        let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let mut sum = 0.0;
        for (d, &v) in dst.iter_mut().zip(row) {
            *d = (v - max).exp();
            sum += *d;
        }
        let inv = 1.0 / sum;
        dst.iter_mut().for_each(|d| *d *= inv);
    }
    out
}

/// `(x - mean) / sqrt(var + eps) * gamma + beta` per row; gamma and beta have `cols` entries.
pub fn layernorm(x: &[f32], gamma: &[f32], beta: &[f32], cols: usize, eps: f32) -> Vec<f32> {
    let mut out = vec![0.0; x.len()];
    if cols == 0 {
        return out;
    }
    for (row, dst) in x.chunks_exact(cols).zip(out.chunks_exact_mut(cols)) {
        let mean = row.iter().sum::<f32>() / cols as f32;
        let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / cols as f32;
        let inv = 1.0 / (var + eps).sqrt();
        for (((d, &v), &g), &b) in dst.iter_mut().zip(row).zip(gamma).zip(beta) {
            *d = (v - mean) * inv * g + b;
        }
    }
    out
}
