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

    /// Wait until everything recorded on this device has run (GPUs submit their recording).
    pub async fn sync(&self) -> crate::Result<()> {
        match self {
            Device::Cpu => Ok(()),
            Device::Gpu(ctx) => ctx.sync().await,
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

