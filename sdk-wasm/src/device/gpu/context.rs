//! `GpuContext`: an opened adapter with its device, queue, buffer pool and pipeline cache.

use super::buffer_pool::BufferPool;
use super::pipeline_cache::{PipelineCache, PipelineKey};
use super::{await_callback, Binding, GpuBuffer, Launch, PoolStats};
use crate::device::{is_software_adapter, AdapterSummary};
use crate::error::{Error, Result};
use std::sync::{Arc, Mutex};
use wgpu::util::DeviceExt;

pub struct GpuContext {
    device: wgpu::Device,
    queue: wgpu::Queue,
    adapter: AdapterSummary,
    pool: Arc<BufferPool>,
    pipelines: PipelineCache,
    /// Errors wgpu reported outside an error scope (e.g. from a dispatch); surfaced on sync.
    uncaptured: Arc<Mutex<Vec<String>>>,
}

impl GpuContext {
    /// Open the default high-performance adapter (WebGPU in browsers).
    pub async fn new() -> Result<GpuContext> {
        let instance = instance();
        let adapter = instance
            .request_adapter(&wgpu::RequestAdapterOptions {
                power_preference: wgpu::PowerPreference::HighPerformance,
                force_fallback_adapter: false,
                compatible_surface: None,
                ..Default::default()
            })
            .await
            .map_err(|e| Error::NoAdapter(e.to_string()))?;
        Self::from_adapter(adapter).await
    }

    /// Every adapter wgpu can see natively (Vulkan, GL, …), for `doctor` and per-adapter benches.
    #[cfg(not(target_arch = "wasm32"))]
    pub async fn enumerate() -> Vec<wgpu::Adapter> {
        instance().enumerate_adapters(wgpu::Backends::all()).await
    }

    pub async fn from_adapter(adapter: wgpu::Adapter) -> Result<GpuContext> {
        let summary = summarize(&adapter);
        let available = adapter.limits();
        let limits = wgpu::Limits {
            max_storage_buffer_binding_size: available.max_storage_buffer_binding_size,
            max_buffer_size: available.max_buffer_size,
            ..wgpu::Limits::default().using_resolution(available.clone())
        };
        let (device, queue) = adapter
            .request_device(&wgpu::DeviceDescriptor {
                label: Some("ipfs-accelerate"),
                required_features: adapter.features() & wgpu::Features::SHADER_F16,
                required_limits: limits,
                ..Default::default()
            })
            .await
            .map_err(|e| Error::NoAdapter(format!("{}: request_device failed: {e}", summary.name)))?;
        let uncaptured = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&uncaptured);
        device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
            if let Ok(mut errors) = sink.lock() {
                errors.push(e.to_string());
            }
        }));
        let pool = Arc::new(BufferPool::new(device.clone(), queue.clone()));
        Ok(GpuContext { device, queue, adapter: summary, pool, pipelines: PipelineCache::default(), uncaptured })
    }

    pub fn adapter(&self) -> &AdapterSummary {
        &self.adapter
    }

    pub fn pool_stats(&self) -> PoolStats {
        self.pool.stats()
    }

    pub fn cached_pipelines(&self) -> usize {
        self.pipelines.len()
    }

    /// Free idle pooled buffers.
    pub fn trim(&self) {
        self.pool.trim();
    }

    pub(crate) fn alloc(&self, bytes: u64) -> GpuBuffer {
        self.pool.acquire(bytes)
    }

    pub fn upload(&self, data: &[f32]) -> Result<GpuBuffer> {
        self.upload_bytes(bytemuck::cast_slice(data))
    }

    /// Raw little-endian bytes (e.g. u32 token ids) into a pooled storage buffer.
    pub fn upload_bytes(&self, data: &[u8]) -> Result<GpuBuffer> {
        let bytes = data.len() as u64;
        if bytes > self.device.limits().max_buffer_size {
            return Err(Error::Gpu(format!("{bytes} bytes exceed this adapter's max buffer size")));
        }
        let buffer = self.alloc(bytes);
        if data.len().is_multiple_of(4) {
            self.queue.write_buffer(buffer.raw(), 0, data);
        } else {
            // write_buffer takes whole 4-byte words; only odd-sized uploads pay for a copy.
            let mut padded = data.to_vec();
            padded.resize(data.len().div_ceil(4) * 4, 0);
            self.queue.write_buffer(buffer.raw(), 0, &padded);
        }
        Ok(buffer)
    }

    /// Wait until all submitted work has finished, and report any error it raised.
    pub async fn sync(&self) -> Result<()> {
        let (tx, rx) = futures_channel::oneshot::channel();
        self.queue.on_submitted_work_done(move || {
            let _ = tx.send(());
        });
        await_callback(&self.device, rx).await?;
        self.take_error()
    }

    fn take_error(&self) -> Result<()> {
        let errors = self.uncaptured.lock().map(|mut e| std::mem::take(&mut *e)).unwrap_or_default();
        match errors.is_empty() {
            true => Ok(()),
            false => Err(Error::Gpu(errors.join("\n"))),
        }
    }

    /// Compile a kernel variant ahead of its first use (so the first inference does not pay
    /// for it). Invalid WGSL comes back as `Error::Shader` naming the file.
    pub async fn prepare(&self, shader: crate::shaders::ShaderFile, entry: &'static str, constants: &[(&'static str, f64)]) -> Result<()> {
        let key = PipelineKey::new(shader, entry, constants);
        self.pipelines.get(&self.device, shader, &key).await.map(|_| ())
    }

    /// Encode and submit one dispatch.
    pub(crate) async fn launch(&self, launch: Launch<'_>) -> Result<()> {
        let key = PipelineKey::new(launch.shader, launch.entry, &launch.constants);
        let pipeline = self.pipelines.get(&self.device, launch.shader, &key).await?;
        let uniforms: Vec<Option<wgpu::Buffer>> = launch
            .bindings
            .iter()
            .map(|b| match b {
                Binding::Uniform(bytes) => Some(self.device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                    label: Some("params"),
                    contents: bytes,
                    usage: wgpu::BufferUsages::UNIFORM,
                })),
                Binding::Storage(_) => None,
            })
            .collect();
        let entries: Vec<wgpu::BindGroupEntry> = launch
            .bindings
            .iter()
            .zip(&uniforms)
            .enumerate()
            .map(|(i, (binding, uniform))| wgpu::BindGroupEntry {
                binding: i as u32,
                resource: match (binding, uniform) {
                    (Binding::Storage(buffer), _) => buffer.raw().as_entire_binding(),
                    (Binding::Uniform(_), Some(u)) => u.as_entire_binding(),
                    (Binding::Uniform(_), None) => unreachable!("uniform buffers were created above"),
                },
            })
            .collect();
        let bind_group = self.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some(launch.entry),
            layout: &pipeline.get_bind_group_layout(0),
            entries: &entries,
        });
        let mut encoder = self.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some(launch.entry) });
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor { label: Some(launch.entry), timestamp_writes: None });
            pass.set_pipeline(&pipeline);
            pass.set_bind_group(0, &bind_group, &[]);
            let [x, y, z] = launch.workgroups;
            pass.dispatch_workgroups(x, y, z);
        }
        self.queue.submit([encoder.finish()]);
        Ok(())
    }
}

fn instance() -> wgpu::Instance {
    #[allow(unused_mut)]
    let mut desc = wgpu::InstanceDescriptor::new_without_display_handle_from_env();
    #[cfg(target_arch = "wasm32")]
    {
        desc.backends = wgpu::Backends::BROWSER_WEBGPU;
    }
    wgpu::Instance::new(desc)
}

/// What we record about an adapter (also used by `accelerate doctor` to list every adapter).
pub fn summarize(adapter: &wgpu::Adapter) -> AdapterSummary {
    let info = adapter.get_info();
    let limits = adapter.limits();
    let device_type = format!("{:?}", info.device_type);
    let vendor = if info.vendor == 0 { String::new() } else { format!("0x{:04x}", info.vendor) };
    AdapterSummary {
        software: is_software_adapter(info.device_type == wgpu::DeviceType::Cpu, &[&info.name, &info.driver, &info.driver_info]),
        name: info.name,
        vendor,
        architecture: String::new(),
        backend: format!("{:?}", info.backend),
        device_type,
        driver: format!("{} {}", info.driver, info.driver_info).trim().to_string(),
        features: adapter.features().iter_names().map(|(name, _)| name.to_lowercase()).collect(),
        max_buffer_size: limits.max_buffer_size,
        max_workgroup_storage_bytes: limits.max_compute_workgroup_storage_size,
    }
}
