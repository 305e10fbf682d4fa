//! The vision suite's inputs and its accuracy check: the three pictures of the ViT reference
//! (scripts/reference/vit_focus.py; built into the binary) and ONNX Runtime's Python logits
//! for them, sampled every 7th pixel.

use crate::error::{HostError, Result};
use ipfs_accelerate::vision::{Heatmap, Rect, RgbImage};

const REFERENCE: &str = include_str!("../../../../sdk-wasm/tests/data/vit_focus_reference.json");
const PICTURES: [(&str, &[u8]); 3] = [
    ("images/scene-224x224.png", include_bytes!("../../../../sdk-wasm/tests/data/images/scene-224x224.png")),
    ("images/wide-320x200.png", include_bytes!("../../../../sdk-wasm/tests/data/images/wide-320x200.png")),
    ("images/small-150x100.png", include_bytes!("../../../../sdk-wasm/tests/data/images/small-150x100.png")),
];
/// The square the reference ran at.
const SIZE: usize = 224;

/// One reference picture and the reference's saliency logits over the 224² input.
pub struct ReferenceImage {
    pub image: RgbImage,
    pub png: &'static [u8],
    /// The backbone's CLS vector.
    pub cls: Vec<f64>,
    content: Rect,
    step: usize,
    logits: Vec<f64>,
}

fn bad(detail: impl std::fmt::Display) -> HostError {
    HostError::Invalid(format!("vision reference: {detail}"))
}

pub fn references() -> Result<Vec<ReferenceImage>> {
    let all: serde_json::Value = serde_json::from_str(REFERENCE).map_err(bad)?;
    let images = all["images"].as_array().ok_or_else(|| bad("no images"))?;
    images
        .iter()
        .map(|r| {
            let file = r["file"].as_str().ok_or_else(|| bad("an image without a file"))?;
            let (_, png) = PICTURES.iter().find(|(f, _)| *f == file).ok_or_else(|| bad(format!("{file} is not built in")))?;
            let decoded = image::load_from_memory(png).map_err(bad)?.to_rgb8();
            let image = RgbImage::from_rgb(decoded.width() as usize, decoded.height() as usize, decoded.into_raw())?;
            let n = |k: &str| r["content"][k].as_u64().map(|v| v as usize).ok_or_else(|| bad(format!("{file}: no content.{k}")));
            let content = Rect { top: n("top")?, left: n("left")?, width: n("width")?, height: n("height")? };
            let step = r["logits_step"].as_u64().ok_or_else(|| bad("no logits_step"))? as usize;
            let floats = |k: &str| -> Result<Vec<f64>> {
                Ok(r[k].as_array().ok_or_else(|| bad(format!("{file}: no {k}")))?.iter().filter_map(|v| v.as_f64()).collect())
            };
            Ok(ReferenceImage { image, png, cls: floats("cls")?, content, step, logits: floats("logits")? })
        })
        .collect()
}

/// The worst |score − reference score| over the sampled pixels inside each image's content.
pub fn worst_error<'a>(refs: impl IntoIterator<Item = &'a ReferenceImage>, got: &[Heatmap]) -> Result<f64> {
    let refs: Vec<&ReferenceImage> = refs.into_iter().collect();
    if got.len() != refs.len() {
        return Err(bad(format!("{} heatmaps for {} images", got.len(), refs.len())));
    }
    let mut worst = 0.0f64;
    for (r, h) in refs.iter().zip(got) {
        if (h.width, h.height) != (r.content.width, r.content.height) {
            return Err(bad(format!("a {}×{} heatmap for {}×{} content", h.width, h.height, r.content.width, r.content.height)));
        }
        let samples = (0..SIZE).step_by(r.step).flat_map(|y| (0..SIZE).step_by(r.step).map(move |x| (y, x)));
        for ((y, x), &logit) in samples.zip(&r.logits) {
            let c = r.content;
            if (c.top..c.top + c.height).contains(&y) && (c.left..c.left + c.width).contains(&x) {
                let expected = 1.0 / (1.0 + (-logit).exp());
                let score = f64::from(h.values[(y - c.top) * c.width + x - c.left]);
                worst = worst.max((score - expected).abs());
            }
        }
    }
    Ok(worst)
}

/// Multiply-adds ×2 of one 224² image through the model (DINOv2-small: 12 blocks, width 384,
/// MLP 1536, 257 tokens; decoder 384→256→128→64 over 16²→128² pixels, 4×4 kernels).
pub fn flops_per_image() -> f64 {
    let (t, h, f, layers) = (257.0, 384.0, 1536.0, 12.0);
    let blocks = layers * (t * 2.0 * (4.0 * h * h + 2.0 * h * f) + 4.0 * t * t * h);
    let patches = 2.0 * 256.0 * 588.0 * h;
    let decoder = 2.0 * 16.0 * (256.0 * 384.0 * 256.0 + 1024.0 * 256.0 * 128.0 + 4096.0 * 128.0 * 64.0) + 2.0 * 16384.0 * 64.0;
    blocks + patches + decoder
}

/// A timed batch of reference pictures, by index.
pub struct Workload {
    pub label: &'static str,
    pub pictures: &'static [usize],
}

/// `b1` (the square picture) and `b4` (all three and the square again).
pub const WORKLOADS: [Workload; 2] = [Workload { label: "b1", pictures: &[0] }, Workload { label: "b4", pictures: &[0, 1, 2, 0] }];

impl Workload {
    pub fn of<'r>(&self, refs: &'r [ReferenceImage]) -> Vec<&'r ReferenceImage> {
        self.pictures.iter().filter_map(|&i| refs.get(i)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_references_parse_and_fit_their_pictures() {
        let refs = references().unwrap();
        assert_eq!(refs.len(), 3);
        assert!(refs.iter().all(|r| r.logits.len() == (SIZE / r.step + 1).pow(2) || r.logits.len() == (SIZE / r.step).pow(2)));
        assert!((flops_per_image() / 1e9 - 15.2).abs() < 0.3, "{}", flops_per_image() / 1e9);
    }
}
