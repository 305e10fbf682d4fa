//! Devices implement the ops: the CPU (portable Rust, wasm SIMD in browsers) and GPUs through
//! wgpu (WebGPU in browsers; Vulkan/Metal/DX12 natively).

pub mod cpu;
pub mod gpu;
mod software;

pub use software::is_software_adapter;

use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// A place where tensors live and ops run. Cloning is cheap.
#[derive(Clone)]
pub enum Device {
    Cpu,
    Gpu(Arc<gpu::GpuContext>),
}

impl Device {
    /// Open the best GPU adapter wgpu can find (WebGPU in a browser).
    pub async fn gpu() -> crate::Result<Device> {
        Ok(Device::Gpu(Arc::new(gpu::GpuContext::new().await?)))
    }

    pub fn name(&self) -> String {
        match self {
            Device::Cpu => "cpu".into(),
            Device::Gpu(ctx) => format!("gpu:{}", ctx.adapter().name),
        }
    }

    pub fn same_as(&self, other: &Device) -> bool {
        match (self, other) {
            (Device::Cpu, Device::Cpu) => true,
            (Device::Gpu(a), Device::Gpu(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }

    /// What ran the work: adapter details for GPUs, the CPU flavour otherwise.
    pub fn summary(&self) -> AdapterSummary {
        match self {
            Device::Cpu => AdapterSummary {
                name: cpu::flavour().into(),
                backend: "cpu".into(),
                device_type: "cpu".into(),
                software: false,
                ..AdapterSummary::default()
            },
            Device::Gpu(ctx) => ctx.adapter().clone(),
        }
    }
}

/// Adapter facts recorded with every result, so a simulated GPU is never mistaken for a real one.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct AdapterSummary {
    pub name: String,
    pub vendor: String,
    pub architecture: String,
    pub backend: String,
    pub device_type: String,
    pub driver: String,
    /// True for CPU emulations of a GPU (SwiftShader, lavapipe/llvmpipe, WARP).
    pub software: bool,
    pub features: Vec<String>,
    pub max_buffer_size: u64,
    pub max_workgroup_storage_bytes: u32,
}
