//! Native backends of the image model (`accelerate run --model vit-focus`, `bench --suite
//! vision`): ours on the CPU or wgpu, and ONNX Runtime on the same file. Every backend gets
//! the same fitted input (our preprocessing), so differences are the model's arithmetic.

use super::ort_vision::OrtImageModel;
use crate::error::{HostError, Result};
use ipfs_accelerate::models::vit::{VitFocus, INPUT_SIZE};
use ipfs_accelerate::vision::{fit, Heatmap, ModelInput, RgbImage};
use ipfs_accelerate::{AdapterSummary, Device};
use std::path::PathBuf;

/// `--backend` names the image model runs on.
pub const IMAGE_BACKENDS: [&str; 3] = ["ours-cpu", "ours-wgpu", "ort-cpu"];
/// The model's name on the command line, and its file in the model cache.
pub const VIT_FOCUS: &str = "vit-focus";
const VIT_FOCUS_FILE: &str = "vit-focus/vit_s_focus.onnx";

pub fn vit_focus_path() -> PathBuf {
    ipfs_accelerate::weights::model_cache_dir().join(VIT_FOCUS_FILE)
}

/// One image's outputs: the saliency map over its content, and (ours) the CLS vector.
pub struct ImageOutput {
    pub heatmap: Heatmap,
    pub embedding: Option<Vec<f32>>,
}

pub enum NativeImageModel {
    Ours(Box<VitFocus>, AdapterSummary),
    Ort(OrtImageModel),
}

impl NativeImageModel {
    pub async fn load(backend: &str) -> Result<NativeImageModel> {
        let path = vit_focus_path();
        let read = || std::fs::read(&path).map_err(|e| HostError::Invalid(format!("{}: {e} (run `cargo xtask setup`)", path.display())));
        match backend {
            "ours-cpu" | "ours-wgpu" => {
                let device = if backend == "ours-wgpu" { Device::gpu().await? } else { Device::Cpu };
                let model = VitFocus::from_onnx(&read()?, &device).await?;
                Ok(NativeImageModel::Ours(Box::new(model), device.summary()))
            }
            "ort-cpu" => {
                read()?; // the same clear error as ours when the fixture is missing
                Ok(NativeImageModel::Ort(OrtImageModel::load(&path)?))
            }
            other => Err(HostError::Invalid(format!("unknown backend {other:?} for {VIT_FOCUS}; known: {}", IMAGE_BACKENDS.join(", ")))),
        }
    }

    pub fn adapter(&self) -> AdapterSummary {
        match self {
            NativeImageModel::Ours(_, summary) => summary.clone(),
            NativeImageModel::Ort(o) => o.adapter(),
        }
    }

    pub async fn run(&mut self, images: &[RgbImage]) -> Result<Vec<ImageOutput>> {
        match self {
            NativeImageModel::Ours(model, _) => {
                Ok(model.run(images).await?.into_iter().map(|r| ImageOutput { heatmap: r.heatmap, embedding: Some(r.embedding) }).collect())
            }
            NativeImageModel::Ort(o) => {
                let inputs = fitted(images)?;
                Ok(o.run(&inputs)?.into_iter().map(|heatmap| ImageOutput { heatmap, embedding: None }).collect())
            }
        }
    }
}

fn fitted(images: &[RgbImage]) -> Result<Vec<ModelInput>> {
    Ok(images.iter().map(|i| fit::fit_to_square(i, INPUT_SIZE, fit::IMAGENET)).collect::<ipfs_accelerate::Result<Vec<_>>>()?)
}

/// A PNG or JPEG file as RGB pixels.
pub fn read_image(path: &std::path::Path) -> Result<RgbImage> {
    let decoded = image::open(path).map_err(|e| HostError::Invalid(format!("{}: cannot read the image: {e}", path.display())))?;
    let rgb = decoded.to_rgb8();
    Ok(RgbImage::from_rgb(rgb.width() as usize, rgb.height() as usize, rgb.into_raw())?)
}
