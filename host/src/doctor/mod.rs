//! `accelerate doctor`: what this machine has — browsers and their WebGPU/WebNN/wasm/storage
//! capabilities, native GPU adapters, CPU features, ONNX Runtime.

mod native;
mod probe;
mod report;

pub use native::{native_adapters, onnxruntime_location};
pub use probe::{BrowserProbe, WebGpuProbe, WebNnDeviceProbe, WebNnProbe};
pub use report::{collect, DoctorReport};
