//! The GPU device on wgpu: one context per adapter with a buffer pool, a pipeline cache,
//! kernel launches and asynchronous readback.

mod buffer_pool;
mod context;
mod launch;
mod pipeline_cache;

pub use buffer_pool::{GpuBuffer, PoolStats};
pub use context::{summarize, GpuContext};
pub(crate) use launch::{Binding, Launch};
pub use pipeline_cache::PipelineKey;

/// Wait for a wgpu callback; natively the device must be polled for callbacks to fire,
/// in browsers the event loop does it.
pub(crate) async fn await_callback<T>(device: &wgpu::Device, rx: futures_channel::oneshot::Receiver<T>) -> crate::Result<T> {
    #[cfg(not(target_arch = "wasm32"))]
    device.poll(wgpu::PollType::wait_indefinitely()).map_err(|e| crate::Error::Gpu(format!("device poll failed: {e}")))?;
    #[cfg(target_arch = "wasm32")]
    let _ = device;
    rx.await.map_err(|_| crate::Error::Gpu("GPU callback dropped (device lost?)".into()))
}
