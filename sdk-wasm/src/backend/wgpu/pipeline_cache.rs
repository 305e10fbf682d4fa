//! Compute pipelines cached by kernel file, entry point and override-constant values
//! (the specialisation), so each variant is compiled once per device.

use super::shaders::ShaderFile;
use crate::core::error::{Error, Result};
use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PipelineKey {
    pub file: &'static str,
    pub entry: &'static str,
    /// Override constants as (name, f64 bits), sorted by name.
    pub constants: Vec<(&'static str, u64)>,
}

impl PipelineKey {
    pub fn new(shader: ShaderFile, entry: &'static str, constants: &[(&'static str, f64)]) -> Self {
        let mut constants: Vec<_> = constants.iter().map(|&(name, v)| (name, v.to_bits())).collect();
        constants.sort_unstable();
        PipelineKey { file: shader.name, entry, constants }
    }
}

#[derive(Default)]
pub(crate) struct PipelineCache {
    modules: Mutex<HashMap<&'static str, wgpu::ShaderModule>>,
    pipelines: Mutex<HashMap<PipelineKey, wgpu::ComputePipeline>>,
}

impl PipelineCache {
    pub(crate) fn len(&self) -> usize {
        self.pipelines.lock().map(|p| p.len()).unwrap_or(0)
    }

    /// The pipeline for `key`, compiled on first use. Compilation errors are captured with an
    /// error scope and returned, never left to wgpu's default (panicking) handler.
    pub(crate) async fn get(&self, device: &wgpu::Device, shader: ShaderFile, key: &PipelineKey) -> Result<wgpu::ComputePipeline> {
        if let Some(p) = self.pipelines.lock().ok().and_then(|p| p.get(key).cloned()) {
            return Ok(p);
        }
        let scope = device.push_error_scope(wgpu::ErrorFilter::Validation);
        let module = self.module(device, shader);
        let constants: Vec<(&str, f64)> = key.constants.iter().map(|&(n, bits)| (n, f64::from_bits(bits))).collect();
        let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(key.entry),
            layout: None,
            module: &module,
            entry_point: Some(key.entry),
            compilation_options: wgpu::PipelineCompilationOptions { constants: &constants, zero_initialize_workgroup_memory: true },
            cache: None,
        });
        if let Some(err) = scope.pop().await {
            self.modules.lock().map(|mut m| m.remove(shader.name)).ok();
            return Err(Error::Shader { file: shader.name.into(), message: err.to_string() });
        }
        if let Ok(mut p) = self.pipelines.lock() {
            p.insert(key.clone(), pipeline.clone());
        }
        Ok(pipeline)
    }

    fn module(&self, device: &wgpu::Device, shader: ShaderFile) -> wgpu::ShaderModule {
        let mut modules = self.modules.lock().unwrap_or_else(|p| p.into_inner());
        modules
            .entry(shader.name)
            .or_insert_with(|| {
                device.create_shader_module(wgpu::ShaderModuleDescriptor {
                    label: Some(shader.name),
                    source: wgpu::ShaderSource::Wgsl(shader.source().into()),
                })
            })
            .clone()
    }
}
