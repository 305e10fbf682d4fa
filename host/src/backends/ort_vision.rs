//! The ViT saliency model's ONNX file run by ONNX Runtime's CPU EP, fed the same fitted and
//! normalised input as ours, so the two differ only in the model's arithmetic.

use super::ort::{adapter, cpu_session, err};
use crate::error::Result;
use ipfs_accelerate::vision::{heatmap, Heatmap, ModelInput};
use ipfs_accelerate::AdapterSummary;
use ort::session::Session;
use ort::value::Tensor;
use std::path::Path;

pub struct OrtImageModel {
    session: Session,
    threads: usize,
}

impl OrtImageModel {
    pub fn load(model: &Path) -> Result<OrtImageModel> {
        let (session, threads) = cpu_session(model)?;
        Ok(OrtImageModel { session, threads })
    }

    pub fn adapter(&self) -> AdapterSummary {
        adapter(self.threads)
    }

    /// The model's own sigmoid output [batch, 1, size, size], cropped to each image's content.
    pub fn run(&mut self, inputs: &[ModelInput]) -> Result<Vec<Heatmap>> {
        let size = inputs.first().map_or(0, |i| i.size);
        let data: Vec<f32> = inputs.iter().flat_map(|i| i.chw.iter().copied()).collect();
        let feed = Tensor::from_array(([inputs.len(), 3, size, size], data)).map_err(err)?;
        let outputs = self.session.run(vec![("input_image".to_string(), feed)]).map_err(err)?;
        let (_, scores) = outputs["output_importance"].try_extract_tensor::<f32>().map_err(err)?;
        if scores.len() != inputs.len() * size * size {
            return Err(err(format!("output_importance has {} values for {} images of {size}²", scores.len(), inputs.len())));
        }
        Ok(inputs.iter().zip(scores.chunks_exact(size * size)).map(|(input, s)| heatmap::crop(s, size, input.content)).collect())
    }
}
