//! Native facts: wgpu adapters and ONNX Runtime.

use ipfs_accelerate::device::gpu::{summarize, GpuContext};
use ipfs_accelerate::AdapterSummary;
use std::path::PathBuf;

pub async fn native_adapters() -> Vec<AdapterSummary> {
    GpuContext::enumerate().await.iter().map(summarize).collect()
}

/// `ORT_DYLIB_PATH` if it points at a file, else the copy the project's setup may have fetched.
pub fn onnxruntime_location() -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os("ORT_DYLIB_PATH").map(PathBuf::from) {
        return if path.is_file() { Ok(path) } else { Err(format!("ORT_DYLIB_PATH={} does not exist", path.display())) };
    }
    let dirs = ["/usr/lib", "/usr/local/lib", "/usr/lib/x86_64-linux-gnu"];
    dirs.iter()
        .filter_map(|d| std::fs::read_dir(d).ok())
        .flat_map(|entries| entries.filter_map(|e| e.ok()).map(|e| e.path()))
        .find(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("libonnxruntime.so")))
        .ok_or_else(|| "not found (set ORT_DYLIB_PATH to libonnxruntime.so from the PyPI onnxruntime wheel)".into())
}
