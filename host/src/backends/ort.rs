//! ONNX Runtime (CPU execution provider) through `ort`, loading the shared library at run time:
//! `ORT_DYLIB_PATH` from the environment, else the one `cargo xtask setup` unpacked from the
//! PyPI wheel (the path .cargo/config.toml set at build time).

use super::PaddedBatch;
use crate::error::{HostError, Result};
use ipfs_accelerate::text::Encoding;
use ipfs_accelerate::AdapterSummary;
use ort::session::Session;
use ort::value::Tensor;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

pub(super) fn err(message: impl std::fmt::Display) -> HostError {
    HostError::Backend { backend: "onnxruntime", message: message.to_string() }
}

pub fn library_path() -> Option<PathBuf> {
    std::env::var_os("ORT_DYLIB_PATH").map(PathBuf::from).or_else(|| option_env!("ORT_DYLIB_PATH").map(PathBuf::from))
}

/// One ONNX Runtime environment per process (the library allows no more).
pub(super) fn environment() -> Result<&'static ort::environment::Environment> {
    static ENV: OnceLock<std::result::Result<ort::environment::Environment, String>> = OnceLock::new();
    ENV.get_or_init(|| {
        let path = library_path().ok_or("ORT_DYLIB_PATH is not set and no library was configured at build time")?;
        if !path.is_file() {
            return Err(format!("{} does not exist (run `cargo xtask setup`, or set ORT_DYLIB_PATH)", path.display()));
        }
        let builder = ort::init_from(&path).map_err(|e| format!("loading {}: {e}", path.display()))?;
        builder.with_name("ipfs-accelerate").build().map_err(|e| e.to_string())
    })
    .as_ref()
    .map_err(err)
}

/// A CPU session builder on every core, as our CPU kernels use, and that thread count.
fn cpu_builder() -> Result<(ort::session::builder::SessionBuilder, usize)> {
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    Ok((Session::builder(environment()?).map_err(err)?.with_intra_threads(threads).map_err(err)?, threads))
}

/// A CPU session of the ONNX file at `model`.
pub(super) fn cpu_session(model: &Path) -> Result<(Session, usize)> {
    let (mut builder, threads) = cpu_builder()?;
    Ok((builder.commit_from_file(model).map_err(|e| err(format!("{}: {e}", model.display())))?, threads))
}

/// A CPU session of an ONNX model held in memory.
pub(super) fn cpu_session_from_memory(model: &[u8]) -> Result<(Session, usize)> {
    let (mut builder, threads) = cpu_builder()?;
    Ok((builder.commit_from_memory(model).map_err(err)?, threads))
}

pub(super) fn adapter(threads: usize) -> AdapterSummary {
    AdapterSummary {
        name: format!("ONNX Runtime CPU EP, {threads} threads ({})", library_path().map(|p| p.display().to_string()).unwrap_or_default()),
        backend: "onnxruntime-cpu".into(),
        device_type: "Cpu".into(),
        ..AdapterSummary::default()
    }
}

pub struct OrtEmbedder {
    session: Session,
    inputs: Vec<String>,
    /// The float output of rank 3: token embeddings.
    hidden_output: String,
    threads: usize,
}

impl OrtEmbedder {
    pub fn load(model: &Path) -> Result<OrtEmbedder> {
        let (session, threads) = cpu_session(model)?;
        let inputs: Vec<String> = session.inputs().iter().map(|i| i.name().to_string()).collect();
        let hidden_output = session
            .outputs()
            .iter()
            .find(|o| {
                o.dtype().tensor_shape().is_some_and(|s| s.len() == 3)
                    && o.dtype().tensor_type() == Some(ort::value::TensorElementType::Float32)
            })
            .map(|o| o.name().to_string())
            .ok_or_else(|| err(format!("{}: no float output of rank 3 (token embeddings)", model.display())))?;
        Ok(OrtEmbedder { session, inputs, hidden_output, threads })
    }

    pub fn adapter(&self) -> AdapterSummary {
        adapter(self.threads)
    }

    pub fn embed(&mut self, batch: &[Encoding]) -> Result<Vec<Vec<f32>>> {
        let p = PaddedBatch::new(batch)?;
        let shape = [p.batch, p.seq];
        let mut feeds = Vec::new();
        for name in &self.inputs {
            let data = match name.as_str() {
                "input_ids" => p.ids.clone(),
                "attention_mask" => p.mask.clone(),
                "token_type_ids" => vec![0; p.ids.len()],
                other => return Err(err(format!("the model wants an input {other:?} this backend does not know"))),
            };
            feeds.push((name.clone(), Tensor::from_array((shape, data)).map_err(err)?));
        }
        let outputs = self.session.run(feeds).map_err(err)?;
        let (dims, hidden) = outputs[self.hidden_output.as_str()].try_extract_tensor::<f32>().map_err(err)?;
        let width = *dims.last().ok_or_else(|| err("empty output shape"))? as usize;
        if hidden.len() != p.batch * p.seq * width {
            return Err(err(format!(
                "output {:?} has {} values for batch {} × {} tokens",
                self.hidden_output,
                hidden.len(),
                p.batch,
                p.seq
            )));
        }
        Ok(p.pool(hidden, width))
    }
}
