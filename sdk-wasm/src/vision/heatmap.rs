//! A per-pixel score map from a model's low-resolution logits: bilinear upsampling to the
//! input size (half-pixel centres, edges clamped, as ONNX `Resize` linear does), a sigmoid,
//! and a crop to the content rectangle (padding carries no scores).

use super::fit::Rect;

/// Scores in [0, 1] over the image content, at the model input's scale, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct Heatmap {
    pub width: usize,
    pub height: usize,
    pub values: Vec<f32>,
}

/// Source index pairs and the weight of the second, per output index.
fn linear_taps(src: usize, dst: usize) -> Vec<(usize, usize, f32)> {
    let scale = src as f32 / dst as f32;
    (0..dst)
        .map(|d| {
            let x = ((d as f32 + 0.5) * scale - 0.5).clamp(0.0, (src - 1) as f32);
            let x0 = (x as usize).min(src - 1);
            (x0, (x0 + 1).min(src - 1), x - x0 as f32)
        })
        .collect()
}

/// `logits` [side, side] upsampled to `size × size` (no sigmoid yet).
pub fn upsample(logits: &[f32], side: usize, size: usize) -> Vec<f32> {
    let taps = linear_taps(side, size);
    let mut out = Vec::with_capacity(size * size);
    for &(y0, y1, fy) in &taps {
        for &(x0, x1, fx) in &taps {
            let at = |y: usize, x: usize| logits[y * side + x];
            let top = at(y0, x0) * (1.0 - fx) + at(y0, x1) * fx;
            let bottom = at(y1, x0) * (1.0 - fx) + at(y1, x1) * fx;
            out.push(top * (1.0 - fy) + bottom * fy);
        }
    }
    out
}

/// The sigmoid of the upsampled logits over `content`.
pub fn heatmap(logits: &[f32], side: usize, size: usize, content: Rect) -> Heatmap {
    let scores: Vec<f32> = upsample(logits, side, size).into_iter().map(|v| 1.0 / (1.0 + (-v).exp())).collect();
    crop(&scores, size, content)
}

/// The `content` part of a `size × size` score map.
pub fn crop(scores: &[f32], size: usize, content: Rect) -> Heatmap {
    let rows = content.top..content.top + content.height;
    let values = rows.flat_map(|y| scores[y * size + content.left..y * size + content.left + content.width].iter().copied()).collect();
    Heatmap { width: content.width, height: content.height, values }
}

impl Heatmap {
    /// The highest score and where it is (x, y).
    pub fn peak(&self) -> (f32, usize, usize) {
        let (i, v) = self.values.iter().enumerate().fold((0, f32::MIN), |best, (i, &v)| if v > best.1 { (i, v) } else { best });
        (v, i % self.width.max(1), i / self.width.max(1))
    }

    pub fn mean(&self) -> f32 {
        self.values.iter().map(|&v| f64::from(v)).sum::<f64>() as f32 / self.values.len().max(1) as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubling_interpolates_between_centres_and_clamps_edges() {
        // [0, 4] → [0, 1, 3, 4]: half-pixel centres at −0.25 (clamped), 0.25, 0.75, 1.25 (clamped).
        let up = upsample(&[0.0, 4.0, 0.0, 4.0], 2, 4);
        assert_eq!(&up[..4], &[0.0, 1.0, 3.0, 4.0]);
    }
}
