//! The wgpu backend (WebGPU in browsers; Vulkan/Metal/DX12 natively): one context per
//! adapter with a buffer pool, a pipeline cache, a recording of pending dispatches (one
//! submit per readback), a uniform ring and cached bind groups; one file per op family.

mod activations;
mod buffer_pool;
mod context;
mod elementwise;
mod layout;
mod matmul;
mod norms;
pub mod params;
mod pipeline_cache;
mod quant_matmul;
mod recorder;
mod rotary;
pub mod shaders;
mod storage;
mod uniform_ring;
mod variants;

pub use buffer_pool::{GpuBuffer, PoolStats};
pub use context::{summarize, GpuContext};
pub use pipeline_cache::PipelineKey;
pub use storage::WgpuStorage;

use super::{AttentionOps, Backend};
use crate::core::{Error, Layout, Result};
use std::sync::Arc;

impl Backend for GpuContext {
    type Storage = WgpuStorage;
}

/// No fused kernel: `ops::attention` records the matmul, scale, add and softmax kernels.
impl AttentionOps for GpuContext {}

/// Wait for a wgpu callback; natively the device must be polled for callbacks to fire,
/// in browsers the event loop does it.
pub(crate) async fn await_callback<T>(device: &wgpu::Device, rx: futures_channel::oneshot::Receiver<T>) -> Result<T> {
    #[cfg(not(target_arch = "wasm32"))]
    device.poll(wgpu::PollType::wait_indefinitely()).map_err(|e| Error::Gpu(format!("device poll failed: {e}")))?;
    #[cfg(target_arch = "wasm32")]
    let _ = device;
    rx.await.map_err(|_| Error::Gpu("GPU callback dropped (device lost?)".into()))
}

/// Spread `groups` workgroups over a 2-D grid (each dimension is capped at 65535).
fn grid(groups: usize) -> Result<[u32; 3]> {
    let groups = u32_of("workgroups", groups)?;
    let x = groups.clamp(1, 65535);
    Ok([x, groups.div_ceil(x).max(1), 1])
}

/// Workgroups of the prelude's `WORKGROUP` size covering `len` elements.
fn elementwise_grid(len: usize) -> Result<[u32; 3]> {
    grid(len.div_ceil(WORKGROUP as usize))
}

/// Invocations per workgroup of the element-wise kernels (the prelude's `WORKGROUP`).
const WORKGROUP: u32 = 256;

fn u32_of(what: &str, v: usize) -> Result<u32> {
    u32::try_from(v).map_err(|_| Error::shape("wgpu", format!("{what} = {v} exceeds the GPU's 32-bit indexing")))
}

/// Kernels other than matmul and copy read plain contiguous buffers.
fn dense<'a>(op: &'static str, x: &super::Operand<'a, WgpuStorage>) -> Result<&'a GpuBuffer> {
    if x.layout.is_contiguous() && x.layout.offset == 0 {
        Ok(&x.storage.buffer)
    } else {
        Err(Error::shape(op, "GPU input is a strided view; this op needs a contiguous tensor"))
    }
}

/// A new output of `elements` f32 values on this context.
fn output(ctx: &Arc<GpuContext>, elements: usize) -> WgpuStorage {
    WgpuStorage { buffer: ctx.alloc((elements * 4) as u64), ctx: Arc::clone(ctx) }
}

fn elements(layout: &Layout) -> usize {
    layout.shape.elements()
}
