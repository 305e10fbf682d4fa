//! Storage buffers recycled by size class, so steady-state inference allocates nothing.

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
    state: Mutex<PoolState>,
}

#[derive(Default)]
struct PoolState {
    idle: HashMap<u64, Vec<(u64, wgpu::Buffer)>>,
    next_id: u64,
    stats: PoolStats,
}

impl BufferPool {
    pub(crate) fn new(device: wgpu::Device) -> Self {
        BufferPool { device, state: Mutex::new(PoolState::default()) }
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
        let (id, buffer) = match reused {
            Some(found) => {
                state.stats.reuses += 1;
                found
            }
            None => {
                state.stats.allocations += 1;
                state.stats.allocated_bytes += bucket;
                state.next_id += 1;
                (
                    state.next_id,
                    self.device.create_buffer(&wgpu::BufferDescriptor {
                        label: Some("ipfs-accelerate tensor"),
                        size: bucket,
                        usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST,
                        mapped_at_creation: false,
                    }),
                )
            }
        };
        state.stats.in_use_bytes += bucket;
        GpuBuffer { buffer: Some(buffer), id, bucket, len_bytes: bytes, pool: Arc::clone(self) }
    }

    fn release(&self, id: u64, buffer: wgpu::Buffer, bucket: u64) {
        let mut state = self.lock();
        state.stats.in_use_bytes -= bucket;
        state.idle.entry(bucket).or_default().push((id, buffer));
    }

    pub(crate) fn stats(&self) -> PoolStats {
        self.lock().stats
    }

    /// Destroy idle buffers (memory pressure, or shutting down).
    pub(crate) fn trim(&self) {
        let mut state = self.lock();
        let idle = std::mem::take(&mut state.idle);
        for (bucket, buffers) in idle {
            for (_, buffer) in buffers {
                buffer.destroy();
                state.stats.allocated_bytes -= bucket;
            }
        }
    }
}

/// A pooled storage buffer holding `len_bytes` of tensor data; returns to the pool on drop.
pub struct GpuBuffer {
    buffer: Option<wgpu::Buffer>,
    id: u64,
    bucket: u64,
    len_bytes: u64,
    pool: Arc<BufferPool>,
}

impl GpuBuffer {
    /// Identity for bind-group caching (unique per created buffer, kept across reuse).
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    pub(crate) fn raw(&self) -> &wgpu::Buffer {
        // Only `drop` takes the buffer out.
        self.buffer.as_ref().unwrap_or_else(|| unreachable!("GpuBuffer used after drop"))
    }

    /// The bytes this tensor uses (the buffer itself may be larger).
    pub fn len_bytes(&self) -> u64 {
        self.len_bytes
    }
}

impl Drop for GpuBuffer {
    fn drop(&mut self) {
        if let Some(buffer) = self.buffer.take() {
            self.pool.release(self.id, buffer, self.bucket);
        }
    }
}
