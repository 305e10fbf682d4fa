//! `Device`: which backend a tensor is created on — the handle users pass around. Tensors
//! carry their backend in their storage; a device only names where new ones go.

pub use crate::backend::cpu;
pub use crate::backend::wgpu as gpu;
pub use crate::backend::{is_software_adapter, AdapterSummary};

use std::sync::Arc;

/// A place where tensors live and ops run. Cloning is cheap.
#[derive(Clone)]
pub enum Device {
    Cpu,
    Gpu(Arc<gpu::GpuContext>),
    /// A WebNN `MLContext` (browsers only).
    #[cfg(target_arch = "wasm32")]
    WebNn(Arc<crate::backend::webnn::WebNnContext>),
}

impl Device {
    /// Open the best GPU adapter wgpu can find (WebGPU in a browser).
    pub async fn gpu() -> crate::core::Result<Device> {
        Ok(Device::Gpu(Arc::new(gpu::GpuContext::new().await?)))
    }

    /// Open a WebNN context (`deviceType` "cpu", "gpu" or "npu"); errors give the browser's reason.
    #[cfg(target_arch = "wasm32")]
    pub async fn webnn(device_type: &str) -> crate::core::Result<Device> {
        Ok(Device::WebNn(Arc::new(crate::backend::webnn::WebNnContext::new(device_type).await?)))
    }

    pub fn name(&self) -> String {
        match self {
            Device::Cpu => "cpu".into(),
            Device::Gpu(ctx) => format!("gpu:{}", ctx.adapter().name),
            #[cfg(target_arch = "wasm32")]
            Device::WebNn(ctx) => format!("webnn:{}", ctx.device_type()),
        }
    }

    /// Wait until everything recorded on this device has run (GPUs submit their recording).
    pub async fn sync(&self) -> crate::core::Result<()> {
        match self {
            Device::Cpu => Ok(()),
            Device::Gpu(ctx) => ctx.sync().await,
            // WebNN runs when a tensor is read; nothing is pending in between.
            #[cfg(target_arch = "wasm32")]
            Device::WebNn(_) => Ok(()),
        }
    }

    /// Shader precompilation: compile every GPU pipeline any op can dispatch now, not at its
    /// first use. Returns how many pipelines the device holds (0 off the GPU: nothing to compile).
    pub async fn precompile_shaders(&self) -> crate::core::Result<usize> {
        match self {
            Device::Gpu(ctx) => ctx.precompile().await,
            _ => Ok(0),
        }
    }

    /// GPU pipelines compiled so far (0 off the GPU).
    pub fn compiled_pipelines(&self) -> usize {
        match self {
            Device::Gpu(ctx) => ctx.cached_pipelines(),
            _ => 0,
        }
    }

    pub fn same_as(&self, other: &Device) -> bool {
        match (self, other) {
            (Device::Cpu, Device::Cpu) => true,
            (Device::Gpu(a), Device::Gpu(b)) => Arc::ptr_eq(a, b),
            #[cfg(target_arch = "wasm32")]
            (Device::WebNn(a), Device::WebNn(b)) => Arc::ptr_eq(a, b),
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
            #[cfg(target_arch = "wasm32")]
            Device::WebNn(ctx) => AdapterSummary {
                name: format!("WebNN ({})", ctx.device_type()),
                backend: "webnn".into(),
                device_type: ctx.device_type().into(),
                ..AdapterSummary::default()
            },
        }
    }
}
