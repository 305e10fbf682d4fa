//! Storage buffers recycled by size class, so steady-state inference allocates nothing.

use super::await_callback;
use crate::error::{Error, Result};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Smallest buffer handed out; also keeps tiny tensors from fragmenting the pool.
const MIN_BUCKET_BYTES: u64 = 256;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    /// Bytes of GPU buffers created and not destroyed (in use + idle in the pool).
    pub allocated_bytes: u64,
    /// Bytes currently held by live tensors.
    pub in_use_bytes: u64,
    pub allocations: u64,
    pub reuses: u64,
}

pub(crate) struct BufferPool {
    device: wgpu::Device,
    queue: wgpu::Queue,
    state: Mutex<PoolState>,
}

#[derive(Default)]
struct PoolState {
    idle: HashMap<u64, Vec<wgpu::Buffer>>,
    stats: PoolStats,
}

impl BufferPool {
    pub(crate) fn new(device: wgpu::Device, queue: wgpu::Queue) -> Self {
        BufferPool { device, queue, state: Mutex::new(PoolState::default()) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, PoolState> {
        // A panic while holding the lock cannot leave the maps inconsistent; keep going.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A storage buffer of at least `bytes`, reused when one of its size class is idle.
    pub(crate) fn acquire(self: &Arc<Self>, bytes: u64) -> GpuBuffer {
        let bucket = bytes.max(MIN_BUCKET_BYTES).next_power_of_two();
        let mut state = self.lock();
        let reused = state.idle.get_mut(&bucket).and_then(Vec::pop);
        let buffer = match reused {
            Some(buffer) => {
                state.stats.reuses += 1;
                buffer
            }
            None => {
                state.stats.allocations += 1;
                state.stats.allocated_bytes += bucket;
                self.device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some("ipfs-accelerate tensor"),
                    size: bucket,
                    usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST,
                    mapped_at_creation: false,
                })
            }
        };
        state.stats.in_use_bytes += bucket;
        GpuBuffer { buffer: Some(buffer), bucket, len_bytes: bytes, pool: Arc::clone(self) }
    }

    fn release(&self, buffer: wgpu::Buffer, bucket: u64) {
        let mut state = self.lock();
        state.stats.in_use_bytes -= bucket;
        state.idle.entry(bucket).or_default().push(buffer);
    }

    pub(crate) fn stats(&self) -> PoolStats {
        self.lock().stats
    }

    /// Destroy idle buffers (memory pressure, or shutting down).
    pub(crate) fn trim(&self) {
        let mut state = self.lock();
        let idle = std::mem::take(&mut state.idle);
        for (bucket, buffers) in idle {
            for buffer in buffers {
                buffer.destroy();
                state.stats.allocated_bytes -= bucket;
            }
        }
    }
}

/// A pooled storage buffer holding `len_bytes` of tensor data; returns to the pool on drop.
pub struct GpuBuffer {
    buffer: Option<wgpu::Buffer>,
    bucket: u64,
    len_bytes: u64,
    pool: Arc<BufferPool>,
}

impl GpuBuffer {
    pub(crate) fn raw(&self) -> &wgpu::Buffer {
        // Only `drop` takes the buffer out.
        self.buffer.as_ref().unwrap_or_else(|| unreachable!("GpuBuffer used after drop"))
    }

    /// The bytes this tensor uses (the buffer itself may be larger).
    pub fn len_bytes(&self) -> u64 {
        self.len_bytes
    }

    /// Copy the contents back to the host as f32s (asynchronous: WebGPU cannot block).
    pub async fn read(&self) -> Result<Vec<f32>> {
        let device = &self.pool.device;
        let size = self.len_bytes.div_ceil(4) * 4;
        if size == 0 {
            return Ok(Vec::new());
        }
        let staging = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("ipfs-accelerate readback"),
            size,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let mut encoder = device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("readback") });
        encoder.copy_buffer_to_buffer(self.raw(), 0, &staging, 0, size);
        self.pool.queue.submit([encoder.finish()]);
        let (tx, rx) = futures_channel::oneshot::channel();
        staging.map_async(wgpu::MapMode::Read, .., move |result| {
            let _ = tx.send(result);
        });
        await_callback(device, rx).await?.map_err(|e| Error::Gpu(format!("mapping readback buffer failed: {e}")))?;
        let data = {
            let view = staging.get_mapped_range(..).map_err(|e| Error::Gpu(format!("readback range: {e}")))?;
            // pod_collect copes with any alignment of the mapped range.
            bytemuck::pod_collect_to_vec::<u8, f32>(&view[..self.len_bytes as usize])
        };
        staging.unmap();
        staging.destroy();
        Ok(data)
    }
}

impl Drop for GpuBuffer {
    fn drop(&mut self) {
        if let Some(buffer) = self.buffer.take() {
            self.pool.release(buffer, self.bucket);
        }
    }
}
