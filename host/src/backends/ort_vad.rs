//! Silero VAD's ONNX file run by ONNX Runtime's CPU EP the way silero's own Python wrapper runs
//! it: one session call per 512-sample chunk with the previous 64 samples before it and the
//! LSTM state carried — what a user of the incumbent gets.

use super::ort::{adapter, cpu_session, err};
use crate::error::Result;
use ipfs_accelerate::models::vad::{CHUNK, CONTEXT};
use ipfs_accelerate::AdapterSummary;
use ort::session::Session;
use ort::value::Tensor;
use std::path::Path;

pub struct OrtVad {
    session: Session,
    threads: usize,
}

impl OrtVad {
    pub fn load(model: &Path) -> Result<OrtVad> {
        let (session, threads) = cpu_session(model)?;
        Ok(OrtVad { session, threads })
    }

    pub fn adapter(&self) -> AdapterSummary {
        adapter(self.threads)
    }

    /// The speech probability of each chunk of 16 kHz `samples` (the last padded with zeros).
    pub fn probabilities(&mut self, samples: &[f32]) -> Result<Vec<f32>> {
        let mut state = vec![0.0f32; 2 * 128];
        let mut window = vec![0.0f32; CONTEXT + CHUNK];
        let mut out = Vec::with_capacity(samples.len().div_ceil(CHUNK));
        for chunk in samples.chunks(CHUNK) {
            window.copy_within(CHUNK.., 0);
            window[CONTEXT..].fill(0.0);
            window[CONTEXT..CONTEXT + chunk.len()].copy_from_slice(chunk);
            let feeds = vec![
                ("input".to_string(), Tensor::from_array(([1, CONTEXT + CHUNK], window.clone())).map_err(err)?.into_dyn()),
                ("state".to_string(), Tensor::from_array(([2, 1, 128], state.clone())).map_err(err)?.into_dyn()),
                ("sr".to_string(), Tensor::from_array((Vec::<usize>::new(), vec![16_000i64])).map_err(err)?.into_dyn()),
            ];
            let outputs = self.session.run(feeds).map_err(err)?;
            let (_, p) = outputs["output"].try_extract_tensor::<f32>().map_err(err)?;
            out.push(*p.first().ok_or_else(|| err("an empty output"))?);
            let (_, s) = outputs["stateN"].try_extract_tensor::<f32>().map_err(err)?;
            state.copy_from_slice(s.get(..2 * 128).ok_or_else(|| err("a short state"))?);
        }
        Ok(out)
    }
}
