//! Images in and out of vision models: the pixels a caller hands over ([`RgbImage`]), fitting
//! them into a model's square input ([`fit`]) and turning a model's low-resolution logits back
//! into a per-pixel map over the caller's content ([`heatmap`]).

pub mod fit;
pub mod heatmap;
mod image;
mod resize;

pub use fit::{fit_to_square, ModelInput, Rect};
pub use heatmap::Heatmap;
pub use image::RgbImage;
