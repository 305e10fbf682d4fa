//! The `#[wasm_bindgen]` surface. Every entry point returns a Promise that rejects with a
//! readable message; nothing here panics across the wasm boundary.

mod embedding_model;
mod image_model;
mod language_model;
mod loading;
mod model_files;
mod part_loading;
mod runtime;
mod single_file;
mod speech_recognizer;
mod voice_detector;
mod weight_cache;

use crate::bench::{run_case, KernelCase};
use crate::device::Device;
use base64::Engine;
use std::cell::RefCell;
use wasm_bindgen::prelude::*;

thread_local! {
    /// One GPU context per page/worker, so the pipeline cache and buffer pool persist.
    static GPU: RefCell<Option<Device>> = const { RefCell::new(None) };
    /// One WebNN context per page/worker, so compiled graphs and weight tensors persist.
    static WEBNN: RefCell<Option<Device>> = const { RefCell::new(None) };
}

#[wasm_bindgen(start)]
fn start() {
    std::panic::set_hook(Box::new(|info| web_sys::console::error_1(&format!("ipfs-accelerate panicked: {info}").into())));
}

pub(crate) fn js_error(e: impl std::fmt::Display) -> JsValue {
    js_sys::Error::new(&e.to_string()).into()
}

pub(crate) async fn device_named(name: &str) -> Result<Device, JsValue> {
    match name {
        "cpu" => Ok(Device::Cpu),
        "webgpu" | "gpu" => {
            if let Some(d) = GPU.with(|g| g.borrow().clone()) {
                return Ok(d);
            }
            let d = Device::gpu().await.map_err(js_error)?;
            GPU.with(|g| *g.borrow_mut() = Some(d.clone()));
            Ok(d)
        }
        "webnn" => {
            if let Some(d) = WEBNN.with(|g| g.borrow().clone()) {
                return Ok(d);
            }
            let d = Device::webnn("cpu").await.map_err(js_error)?;
            WEBNN.with(|g| *g.borrow_mut() = Some(d.clone()));
            Ok(d)
        }
        other => Err(js_error(format!("unknown device {other:?}; expected \"cpu\", \"webgpu\" or \"webnn\""))),
    }
}

/// The SDK version.
#[wasm_bindgen(js_name = version)]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

/// Which CPU kernels this build runs ("wasm-simd128" when SIMD is compiled in).
#[wasm_bindgen(js_name = cpuFlavour)]
pub fn cpu_flavour() -> String {
    crate::device::cpu::flavour().to_string()
}

/// `initThreadPool(n)`: starts the threaded build's pool of n Web Workers (engine.js calls it).
/// Nothing in Rust calls it; the re-export links the crate, so its wasm-bindgen export is kept.
#[cfg(feature = "threads")]
#[allow(unused_imports)]
pub use wasm_bindgen_rayon::init_thread_pool;

/// Threads the CPU kernels split work over (the pool's size in the threaded build, else 1).
#[wasm_bindgen(js_name = cpuThreads)]
pub fn cpu_threads() -> usize {
    crate::backend::cpu::threads()
}

/// Start timing every CPU op (see `backend::cpu::profile`).
#[wasm_bindgen(js_name = profileBegin)]
pub fn profile_begin() {
    crate::backend::cpu::profile::begin();
}

/// Stop timing; JSON `{op: {calls, ms}}` since `profileBegin`.
#[wasm_bindgen(js_name = profileTake)]
pub fn profile_take() -> Result<String, JsValue> {
    serde_json::to_string(&crate::backend::cpu::profile::take()).map_err(js_error)
}

/// JSON description of a device's adapter (opens the WebGPU device for "webgpu").
#[wasm_bindgen(js_name = deviceInfo)]
pub async fn device_info(device: String) -> Result<String, JsValue> {
    let d = device_named(&device).await?;
    serde_json::to_string(&d.summary()).map_err(js_error)
}

/// Run one benchmark case (JSON, see `bench::KernelCase`) on "cpu" or "webgpu".
/// Resolves to JSON: timings, adapter, and the output as base64 little-endian f32.
#[wasm_bindgen(js_name = runKernelCase)]
pub async fn run_kernel_case(case_json: String, device: String) -> Result<String, JsValue> {
    let case: KernelCase = serde_json::from_str(&case_json).map_err(|e| js_error(format!("invalid case JSON: {e}")))?;
    let d = device_named(&device).await?;
    let outcome = run_case(&d, &case).await.map_err(js_error)?;
    let bytes: Vec<u8> = outcome.output.iter().flat_map(|v| v.to_le_bytes()).collect();
    let mut value = serde_json::to_value(&outcome).map_err(js_error)?;
    value["outputF32Base64"] = base64::engine::general_purpose::STANDARD.encode(bytes).into();
    Ok(value.to_string())
}

/// Bytes of the wasm linear memory: it only grows, so this is the page's peak heap so far.
#[wasm_bindgen(js_name = wasmMemoryBytes)]
pub fn wasm_memory_bytes() -> f64 {
    wasm_bindgen::memory().unchecked_into::<js_sys::WebAssembly::Memory>().buffer().unchecked_into::<js_sys::ArrayBuffer>().byte_length()
        as f64
}
