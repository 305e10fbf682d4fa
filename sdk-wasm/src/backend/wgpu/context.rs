//! `GpuContext`: an opened adapter with its device, queue, buffer pool and pipeline cache.

use super::buffer_pool::BufferPool;
use super::params::Params;
use super::pipeline_cache::{PipelineCache, PipelineKey};
use super::recorder::{Command, Dispatch, Recorder};
use super::shaders::ShaderFile;
use super::uniform_ring::UniformRing;
use super::variants::Variant;
use super::{await_callback, GpuBuffer, PoolStats};
use crate::backend::{is_software_adapter, AdapterSummary};
use crate::core::{Error, Result};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use wgpu::util::DeviceExt;

/// Recorded commands before a flush is forced (each holds its buffers until submitted).
const MAX_RECORDED: usize = 4096;
/// Cached bind groups before the cache starts over.
const MAX_BIND_GROUPS: usize = 8192;

#[derive(PartialEq, Eq, Hash)]
struct BindKey {
    pipeline: PipelineKey,
    buffers: Vec<u64>,
    offset: u64,
    generation: u64,
}

pub struct GpuContext {
    device: wgpu::Device,
    queue: wgpu::Queue,
    adapter: AdapterSummary,
    pool: Arc<BufferPool>,
    pipelines: PipelineCache,
    /// Errors wgpu reported outside an error scope (e.g. from a dispatch); surfaced on sync.
    uncaptured: Arc<Mutex<Vec<String>>>,
    recorder: Mutex<Recorder>,
    uniforms: UniformRing,
    bind_groups: Mutex<HashMap<BindKey, wgpu::BindGroup>>,
    submits: AtomicU64,
    submit_lock: futures_util::lock::Mutex<()>,
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
        let pool = Arc::new(BufferPool::new(device.clone()));
        let uniforms = UniformRing::new(&device);
        Ok(GpuContext {
            device,
            queue,
            adapter: summary,
            pool,
            pipelines: PipelineCache::default(),
            uncaptured,
            recorder: Mutex::default(),
            uniforms,
            bind_groups: Mutex::default(),
            submits: AtomicU64::new(0),
            submit_lock: futures_util::lock::Mutex::new(()),
        })
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
        self.bind_groups.lock().unwrap_or_else(|p| p.into_inner()).clear();
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
        // Whole 4-byte words; only odd-sized uploads pay for a copy.
        let words: std::borrow::Cow<[u8]> = if data.len().is_multiple_of(4) {
            data.into()
        } else {
            let mut padded = data.to_vec();
            padded.resize(data.len().div_ceil(4) * 4, 0);
            padded.into()
        };
        let mut recorder = self.lock_recorder();
        if recorder.is_idle() {
            // Nothing pending: a queue write lands before the next submit, in order.
            self.queue.write_buffer(buffer.raw(), 0, &words);
        } else {
            // Pending commands may still read an earlier use of this pooled buffer: the copy
            // takes its place in the recorded stream instead.
            let staging = self.device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some("upload"),
                contents: &words,
                usage: wgpu::BufferUsages::COPY_SRC,
            });
            recorder.commands.push(Command::Upload { staging, dst: buffer.raw().clone(), bytes: words.len() as u64 });
        }
        Ok(buffer)
    }

    /// Wait until all recorded and submitted work has finished, and report any error it raised.
    pub async fn sync(&self) -> Result<()> {
        self.flush(None).await?;
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
    pub async fn prepare(&self, shader: ShaderFile, entry: &'static str, constants: &[(&'static str, f64)]) -> Result<()> {
        let key = PipelineKey::new(shader, entry, constants);
        self.pipelines.get(&self.device, shader, &key).await.map(|_| ())
    }

    /// Compile every pipeline any op can dispatch (shader precompilation): afterwards no
    /// inference waits for a compiler. Returns how many pipelines the device then holds.
    pub async fn precompile(&self) -> Result<usize> {
        for v in Variant::all() {
            self.prepare(v.shader, v.entry, &v.constants).await?;
        }
        Ok(self.cached_pipelines())
    }

    /// Queue submissions so far (a test counts them: one per model forward).
    pub fn submits(&self) -> u64 {
        self.submits.load(Ordering::Relaxed)
    }

    /// Dispatches recorded and not yet submitted.
    pub fn pending_dispatches(&self) -> usize {
        self.lock_recorder().dispatches()
    }

    fn lock_recorder(&self) -> std::sync::MutexGuard<'_, Recorder> {
        self.recorder.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Append one kernel dispatch to the recording (nothing runs until a flush).
    pub(crate) fn record<P: Params>(&self, variant: Variant, buffers: &[&GpuBuffer], params: &P, workgroups: [u32; 3]) {
        let Variant { shader, entry, constants } = variant;
        let buffers = buffers.iter().map(|b| (b.id(), b.raw().clone())).collect();
        let dispatch = Dispatch { shader, entry, constants, buffers, params: params.bytes(), workgroups };
        self.lock_recorder().commands.push(Command::Dispatch(dispatch));
    }

    /// Submit when a recording grows long (it holds its buffers until then).
    pub(crate) async fn flush_if_long(&self) -> Result<()> {
        if self.lock_recorder().commands.len() >= MAX_RECORDED {
            self.flush(None).await?;
        }
        Ok(())
    }

    /// Encode everything recorded into one command buffer, plus a copy of `readback` into a
    /// mappable buffer if asked, and submit it once. Returns that mappable buffer.
    pub(crate) async fn flush(&self, readback: Option<(&GpuBuffer, u64)>) -> Result<Option<wgpu::Buffer>> {
        // One flush at a time, awaited rather than blocked on (in a browser a second flush is
        // another task on the same thread): the params ring is written and submitted as one
        // step, and what is recorded meanwhile goes to the next submit, in order.
        let _submitting = self.submit_lock.lock().await;
        let commands = {
            let mut recorder = self.lock_recorder();
            if recorder.commands.is_empty() && readback.is_none() {
                return Ok(None);
            }
            recorder.encoding = true;
            std::mem::take(&mut recorder.commands)
        };
        let result = self.encode_and_submit(commands, readback).await;
        self.lock_recorder().encoding = false;
        result
    }

    async fn encode_and_submit(&self, commands: Vec<Command>, readback: Option<(&GpuBuffer, u64)>) -> Result<Option<wgpu::Buffer>> {
        let mut pipelines = Vec::new();
        for command in &commands {
            if let Command::Dispatch(d) = command {
                let key = PipelineKey::new(d.shader, d.entry, &d.constants);
                let pipeline = self.pipelines.get(&self.device, d.shader, &key).await?;
                pipelines.push((key, pipeline));
            }
        }
        let offsets = self.uniforms.write(
            &self.device,
            &self.queue,
            commands.iter().filter_map(|c| match c {
                Command::Dispatch(d) => Some(d.params.as_slice()),
                Command::Upload { .. } => None,
            }),
        );
        let mut encoder = self.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("forward") });
        let mut pass: Option<wgpu::ComputePass<'static>> = None;
        let mut dispatch_index = 0;
        for command in &commands {
            match command {
                Command::Dispatch(d) => {
                    let (key, pipeline) = &pipelines[dispatch_index];
                    let (offset, size) = offsets[dispatch_index];
                    dispatch_index += 1;
                    let bind_group = self.bind_group(key, pipeline, d, offset, size);
                    let pass = pass.get_or_insert_with(|| {
                        encoder
                            .begin_compute_pass(&wgpu::ComputePassDescriptor { label: Some("ops"), timestamp_writes: None })
                            .forget_lifetime()
                    });
                    pass.set_pipeline(pipeline);
                    pass.set_bind_group(0, &bind_group, &[]);
                    let [x, y, z] = d.workgroups;
                    pass.dispatch_workgroups(x, y, z);
                }
                Command::Upload { staging, dst, bytes } => {
                    drop(pass.take());
                    encoder.copy_buffer_to_buffer(staging, 0, dst, 0, *bytes);
                }
            }
        }
        drop(pass.take());
        let target = readback.filter(|(_, bytes)| *bytes > 0).map(|(src, bytes)| {
            let size = bytes.div_ceil(4) * 4;
            let staging = self.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("ipfs-accelerate readback"),
                size,
                usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            });
            encoder.copy_buffer_to_buffer(src.raw(), 0, &staging, 0, size);
            staging
        });
        self.queue.submit([encoder.finish()]);
        self.submits.fetch_add(1, Ordering::Relaxed);
        Ok(target)
    }

    /// The bind group for a dispatch: its storage buffers and its slice of the uniform ring,
    /// reused when the same kernel sees the same buffers at the same slice again.
    fn bind_group(&self, key: &PipelineKey, pipeline: &wgpu::ComputePipeline, d: &Dispatch, offset: u64, size: u64) -> wgpu::BindGroup {
        let cache_key = BindKey {
            pipeline: key.clone(),
            buffers: d.buffers.iter().map(|b| b.0).collect(),
            offset,
            generation: self.uniforms.generation(),
        };
        let mut cache = self.bind_groups.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(group) = cache.get(&cache_key) {
            return group.clone();
        }
        let ring = self.uniforms.buffer();
        let mut entries: Vec<wgpu::BindGroupEntry> = d
            .buffers
            .iter()
            .enumerate()
            .map(|(i, (_, b))| wgpu::BindGroupEntry { binding: i as u32, resource: b.as_entire_binding() })
            .collect();
        entries.push(wgpu::BindGroupEntry {
            binding: d.buffers.len() as u32,
            resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding { buffer: &ring, offset, size: wgpu::BufferSize::new(size) }),
        });
        let group = self.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some(d.entry),
            layout: &pipeline.get_bind_group_layout(0),
            entries: &entries,
        });
        if cache.len() >= MAX_BIND_GROUPS {
            cache.clear();
        }
        cache.insert(cache_key, group.clone());
        group
    }

    /// The bytes of `buffer` (its first `bytes`), after everything recorded before: one submit.
    pub(crate) async fn read(&self, buffer: &GpuBuffer, bytes: u64) -> Result<Vec<u8>> {
        let Some(staging) = self.flush(Some((buffer, bytes))).await? else {
            return Ok(Vec::new());
        };
        let (tx, rx) = futures_channel::oneshot::channel();
        staging.map_async(wgpu::MapMode::Read, .., move |result| {
            let _ = tx.send(result);
        });
        await_callback(&self.device, rx).await?.map_err(|e| Error::Gpu(format!("mapping readback buffer failed: {e}")))?;
        let data = {
            let view = staging.get_mapped_range(..).map_err(|e| Error::Gpu(format!("readback range: {e}")))?;
            view[..bytes as usize].to_vec()
        };
        staging.unmap();
        staging.destroy();
        self.take_error()?;
        Ok(data)
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
