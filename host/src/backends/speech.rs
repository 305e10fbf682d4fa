//! The speech models natively, from the model cache: Silero VAD and Whisper tiny.en (ours).

use crate::error::{HostError, Result};
use ipfs_accelerate::models::vad::SileroVad;
use ipfs_accelerate::models::whisper::Whisper;
use std::path::PathBuf;

/// The models' names on the command line.
pub const SILERO_VAD: &str = "silero-vad";
pub const WHISPER: &str = "whisper-tiny.en";

fn read(path: PathBuf) -> Result<Vec<u8>> {
    std::fs::read(&path).map_err(|e| HostError::Invalid(format!("{}: {e} (run `cargo xtask setup`)", path.display())))
}

pub fn silero_vad_path() -> PathBuf {
    ipfs_accelerate::weights::model_cache_dir().join("silero-vad/silero_vad_16k_op15.onnx")
}

pub async fn load_vad() -> Result<SileroVad> {
    Ok(SileroVad::from_onnx(&read(silero_vad_path())?).await?)
}

/// Whisper on `backend`: ours-cpu or ours-wgpu.
pub async fn load_whisper(backend: &str) -> Result<Whisper> {
    let dir = ipfs_accelerate::weights::model_cache_dir().join("whisper-tiny-en");
    let device = match backend {
        "ours-cpu" => ipfs_accelerate::Device::Cpu,
        "ours-wgpu" => ipfs_accelerate::Device::gpu().await?,
        other => return Err(HostError::Invalid(format!("unknown backend {other:?} for {WHISPER}; known: ours-cpu, ours-wgpu"))),
    };
    let (model, config, tokenizer) = (read(dir.join("model.bin"))?, read(dir.join("config.json"))?, read(dir.join("tokenizer.json"))?);
    Ok(Whisper::from_files(&model, &config, &tokenizer, &device).await?)
}
