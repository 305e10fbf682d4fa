//! Fitting an image into a model's square input as the vision models were trained: the
//! longest side scaled to the input size (`INTER_AREA`), the rest padded with black, centred,
//! then every channel normalised. The content rectangle is kept so outputs can be cropped back.

use super::resize::resize_area;
use super::RgbImage;
use crate::core::error::{Error, Result};

/// Where the image's own pixels sit inside the square input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rect {
    pub top: usize,
    pub left: usize,
    pub width: usize,
    pub height: usize,
}

/// Per-channel `(value / 255 − mean) / std`, RGB order.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Normalisation {
    pub mean: [f32; 3],
    pub std: [f32; 3],
}

/// ImageNet statistics, what DINOv2 and most ViTs were trained with.
pub const IMAGENET: Normalisation = Normalisation { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };

/// A square model input: `[3, size, size]` normalised values, channel-major.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelInput {
    pub size: usize,
    pub chw: Vec<f32>,
    pub content: Rect,
    /// The caller's image size, for mapping outputs back.
    pub original: (usize, usize),
}

pub fn fit_to_square(image: &RgbImage, size: usize, norm: Normalisation) -> Result<ModelInput> {
    if size == 0 {
        return Err(Error::Image("the model input size must be at least 1 pixel".into()));
    }
    let ratio = size as f64 / image.width.max(image.height) as f64;
    // Python's round (ties to even), as albumentations' LongestMaxSize computes the sizes.
    let scaled = |side: usize| ((side as f64 * ratio).round_ties_even() as usize).clamp(1, size);
    let (width, height) = (scaled(image.width), scaled(image.height));
    let resized = resize_area(image, width, height);
    let content = Rect { top: (size - height) / 2, left: (size - width) / 2, width, height };
    let plane = size * size;
    // Padding is black before normalisation, so it becomes −mean/std.
    let mut chw: Vec<f32> = (0..3).flat_map(|c| std::iter::repeat_n(-norm.mean[c] / norm.std[c], plane)).collect();
    for y in 0..height {
        for x in 0..width {
            let at = (content.top + y) * size + content.left + x;
            for c in 0..3 {
                let v = f32::from(resized.pixels[(y * width + x) * 3 + c]) / 255.0;
                chw[c * plane + at] = (v - norm.mean[c]) / norm.std[c];
            }
        }
    }
    Ok(ModelInput { size, chw, content, original: (image.width, image.height) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wide_image_is_centred_vertically_and_padding_is_normalised_black() {
        let image = RgbImage::from_rgb(4, 2, vec![255; 24]).unwrap();
        let input = fit_to_square(&image, 8, IMAGENET).unwrap();
        assert_eq!(input.content, Rect { top: 2, left: 0, width: 8, height: 4 });
        assert!((input.chw[0] - (-0.485 / 0.229)).abs() < 1e-6, "padding row");
        assert!((input.chw[2 * 8] - (1.0 - 0.485) / 0.229).abs() < 1e-6, "first content row");
    }
}
