//! candle's BERT (candle-transformers) on the CPU, over the same safetensors file.

use super::PaddedBatch;
use crate::error::{HostError, Result};
use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use ipfs_accelerate::models::bert::BertConfig;
use ipfs_accelerate::text::Encoding;
use ipfs_accelerate::weights::SafeTensors;
use ipfs_accelerate::AdapterSummary;
use std::path::Path;

fn err(message: impl std::fmt::Display) -> HostError {
    HostError::Backend { backend: "candle", message: message.to_string() }
}

pub fn adapter() -> AdapterSummary {
    AdapterSummary {
        name: format!("candle CPU, {} threads", candle_core::utils::get_num_threads()),
        backend: "candle-cpu".into(),
        device_type: "Cpu".into(),
        ..AdapterSummary::default()
    }
}

pub struct CandleEmbedder {
    model: BertModel,
    hidden: usize,
}

impl CandleEmbedder {
    pub fn load(dir: &Path, weights: &str) -> Result<CandleEmbedder> {
        let config_path = dir.join("config.json");
        let text = std::fs::read_to_string(&config_path).map_err(|e| err(format!("{}: {e}", config_path.display())))?;
        // Our checks first: candle trusts the config (0 heads panics inside it) and allocates
        // what it implies; ours bound every dimension and hold it against the file's table.
        let ours = BertConfig::from_json(&text).map_err(|e| err(format!("{}: {e}", config_path.display())))?;
        let config: Config = serde_json::from_str(&text).map_err(|e| err(format!("{}: {e}", config_path.display())))?;
        let file = dir.join(weights);
        let bytes = std::fs::read(&file).map_err(|e| err(format!("{}: {e}", file.display())))?;
        ours.check_weights(&SafeTensors::parse(&bytes)?).map_err(|e| err(format!("{}: {e}", file.display())))?;
        let vb = VarBuilder::from_buffered_safetensors(bytes, DType::F32, &Device::Cpu).map_err(err)?;
        let model = BertModel::load(vb, &config).map_err(err)?;
        Ok(CandleEmbedder { model, hidden: config.hidden_size })
    }

    pub fn embed(&mut self, batch: &[Encoding]) -> Result<Vec<Vec<f32>>> {
        let p = PaddedBatch::new(batch)?;
        let to_tensor = |v: &[i64]| Tensor::from_slice(v, (p.batch, p.seq), &Device::Cpu).map_err(err);
        let ids = to_tensor(&p.ids)?;
        let mask = to_tensor(&p.mask)?;
        let types = ids.zeros_like().map_err(err)?;
        let hidden = self.model.forward(&ids, &types, Some(&mask)).map_err(err)?;
        let flat: Vec<f32> = hidden.flatten_all().and_then(|t| t.to_vec1()).map_err(err)?;
        Ok(p.pool(&flat, self.hidden))
    }
}
