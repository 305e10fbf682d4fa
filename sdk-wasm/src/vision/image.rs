//! 8-bit RGB pixels, row-major, checked on the way in.

use crate::core::error::{Error, Result};

/// Side lengths beyond this are refused: 16384² RGB is already 768 MiB.
const MAX_SIDE: usize = 16_384;

#[derive(Debug, Clone, PartialEq)]
pub struct RgbImage {
    pub width: usize,
    pub height: usize,
    /// `width · height · 3` bytes, R G B per pixel, rows top to bottom.
    pub pixels: Vec<u8>,
}

impl RgbImage {
    pub fn from_rgb(width: usize, height: usize, pixels: Vec<u8>) -> Result<RgbImage> {
        check_size(width, height)?;
        if pixels.len() != width * height * 3 {
            return Err(Error::Image(format!("{width}×{height} RGB needs {} bytes, got {}", width * height * 3, pixels.len())));
        }
        Ok(RgbImage { width, height, pixels })
    }

    /// From RGBA bytes (a canvas's `ImageData`): alpha is dropped, as the models were trained
    /// on opaque images.
    pub fn from_rgba(width: usize, height: usize, rgba: &[u8]) -> Result<RgbImage> {
        check_size(width, height)?;
        if rgba.len() != width * height * 4 {
            return Err(Error::Image(format!("{width}×{height} RGBA needs {} bytes, got {}", width * height * 4, rgba.len())));
        }
        Ok(RgbImage { width, height, pixels: rgba.chunks_exact(4).flat_map(|p| [p[0], p[1], p[2]]).collect() })
    }
}

fn check_size(width: usize, height: usize) -> Result<()> {
    if width == 0 || height == 0 {
        return Err(Error::Image(format!("the image is empty ({width}×{height})")));
    }
    if width > MAX_SIDE || height > MAX_SIDE {
        return Err(Error::Image(format!("{width}×{height} is larger than {MAX_SIDE} pixels on a side")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_images_are_refused_by_what_is_wrong() {
        assert!(RgbImage::from_rgb(0, 4, vec![]).unwrap_err().to_string().contains("empty"));
        assert!(RgbImage::from_rgb(2, 2, vec![0; 11]).unwrap_err().to_string().contains("needs 12 bytes, got 11"));
        assert!(RgbImage::from_rgba(1, 1, &[1, 2, 3]).unwrap_err().to_string().contains("RGBA needs 4 bytes"));
        assert_eq!(RgbImage::from_rgba(1, 1, &[1, 2, 3, 9]).unwrap().pixels, [1, 2, 3]);
    }
}
