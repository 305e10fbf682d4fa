//! One uniform buffer holding every recorded dispatch's params, written once per flush: each
//! dispatch binds its slice, so a forward creates no uniform buffers, and bind groups that
//! point at the same slice can be reused. It grows (a new generation) when a flush needs more.

use std::sync::Mutex;

const INITIAL_BYTES: u64 = 64 * 1024;

pub(crate) struct UniformRing {
    state: Mutex<State>,
}

struct State {
    buffer: wgpu::Buffer,
    generation: u64,
}

impl UniformRing {
    pub fn new(device: &wgpu::Device) -> UniformRing {
        UniformRing { state: Mutex::new(State { buffer: create(device, INITIAL_BYTES), generation: 0 }) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn buffer(&self) -> wgpu::Buffer {
        self.lock().buffer.clone()
    }

    /// Changes whenever the buffer is replaced (bind groups of an older one are stale).
    pub fn generation(&self) -> u64 {
        self.lock().generation
    }

    /// Lay the blocks out at the device's uniform alignment, write them with one queue write
    /// (it lands before the next submit, after earlier ones), and return (offset, size) of each.
    pub fn write<'a>(&self, device: &wgpu::Device, queue: &wgpu::Queue, blocks: impl Iterator<Item = &'a [u8]>) -> Vec<(u64, u64)> {
        let align = device.limits().min_uniform_buffer_offset_alignment.max(16) as usize;
        let mut bytes = Vec::new();
        let mut offsets = Vec::new();
        for block in blocks {
            let at = bytes.len().next_multiple_of(align);
            bytes.resize(at, 0);
            bytes.extend_from_slice(block);
            offsets.push((at as u64, block.len() as u64));
        }
        if bytes.is_empty() {
            return offsets;
        }
        let mut state = self.lock();
        if bytes.len() as u64 > state.buffer.size() {
            state.buffer = create(device, (bytes.len() as u64).next_power_of_two());
            state.generation += 1;
        }
        queue.write_buffer(&state.buffer, 0, &bytes);
        offsets
    }
}

fn create(device: &wgpu::Device, size: u64) -> wgpu::Buffer {
    device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("ipfs-accelerate params"),
        size,
        usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    })
}
