//! Position embeddings for a patch grid other than the one the model was trained on: the
//! trained [side, side, h] grid resized bicubically (a = −0.75, half-pixel centres, edge
//! indices clamped), as DINOv2's `interpolate_pos_encoding` does and its ONNX export
//! (`Resize`, mode cubic) computes.

/// Keys' cubic convolution weights for a sample `t` ∈ [0, 1) past the second of four taps.
fn cubic_weights(t: f64) -> [f64; 4] {
    const A: f64 = -0.75;
    let near = |d: f64| ((A + 2.0) * d - (A + 3.0)) * d * d + 1.0;
    let far = |d: f64| ((A * d - 5.0 * A) * d + 8.0 * A) * d - 4.0 * A;
    [far(t + 1.0), near(t), near(1.0 - t), far(2.0 - t)]
}

/// (four source indices, their weights) for each of `dst` outputs along an axis of `src`.
fn taps(src: usize, dst: usize) -> Vec<([usize; 4], [f64; 4])> {
    let scale = src as f64 / dst as f64;
    (0..dst)
        .map(|d| {
            let x = (d as f64 + 0.5) * scale - 0.5;
            let base = x.floor();
            let index = |k: i64| (base as i64 + k).clamp(0, src as i64 - 1) as usize;
            ([index(-1), index(0), index(1), index(2)], cubic_weights(x - base))
        })
        .collect()
}

/// `grid` [side, side, h] resized to [out, out, h].
pub fn resize_grid(grid: &[f32], side: usize, hidden: usize, out: usize) -> Vec<f32> {
    if out == side {
        return grid.to_vec();
    }
    let t = taps(side, out);
    let mut result = vec![0.0f32; out * out * hidden];
    let mut acc = vec![0.0f64; hidden];
    for (oy, (ys, wy)) in t.iter().enumerate() {
        for (ox, (xs, wx)) in t.iter().enumerate() {
            acc.fill(0.0);
            for (&y, &fy) in ys.iter().zip(wy) {
                for (&x, &fx) in xs.iter().zip(wx) {
                    let row = &grid[(y * side + x) * hidden..][..hidden];
                    acc.iter_mut().zip(row).for_each(|(a, &v)| *a += fy * fx * f64::from(v));
                }
            }
            let at = (oy * out + ox) * hidden;
            result[at..at + hidden].iter_mut().zip(&acc).for_each(|(r, &a)| *r = a as f32);
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_sum_to_one_and_a_linear_ramp_survives_resizing() {
        for t in [0.0, 0.25, 0.5, 0.9] {
            assert!((cubic_weights(t).iter().sum::<f64>() - 1.0).abs() < 1e-12);
        }
        // Cubic convolution reproduces a linear function away from the clamped edges.
        let side = 8;
        let grid: Vec<f32> = (0..side * side).map(|i| (i % side) as f32).collect();
        let out = resize_grid(&grid, side, 1, 4);
        assert!((out[1] - 2.5).abs() < 1e-5 && (out[2] - 4.5).abs() < 1e-5, "{out:?}");
    }
}
