//! `Storage`: a tensor's elements on exactly one backend, carrying that backend's handle, so
//! "a GPU tensor with CPU data" cannot be expressed. The one place that matches on backends:
//! `dispatch!` runs an op on the backend its inputs share (or names the mismatch).

use crate::backend::cpu::CpuStorage;
#[cfg(target_arch = "wasm32")]
use crate::backend::webnn::WebNnStorage;
use crate::backend::wgpu::WgpuStorage;
use crate::core::{Error, Result};
use crate::device::Device;
use std::sync::Arc;

pub enum Storage {
    Cpu(CpuStorage),
    Gpu(WgpuStorage),
    #[cfg(target_arch = "wasm32")]
    WebNn(WebNnStorage),
}

impl Storage {
    /// The device this storage lives on.
    pub fn device(&self) -> Device {
        match self {
            Storage::Cpu(_) => Device::Cpu,
            Storage::Gpu(s) => Device::Gpu(Arc::clone(&s.ctx)),
            #[cfg(target_arch = "wasm32")]
            Storage::WebNn(s) => Device::WebNn(s.context()),
        }
    }

    /// f32 data onto `device` (a GPU upload needs no await; only readback does).
    pub fn from_f32(data: Vec<f32>, device: &Device) -> Result<Storage> {
        Ok(match device {
            Device::Cpu => Storage::Cpu(CpuStorage::f32(data)),
            Device::Gpu(ctx) => Storage::Gpu(WgpuStorage { buffer: ctx.upload(&data)?, ctx: Arc::clone(ctx) }),
            #[cfg(target_arch = "wasm32")]
            Device::WebNn(ctx) => Storage::WebNn(WebNnStorage::leaf(ctx, data)),
        })
    }

    /// Block-format bytes (a quantized weight) onto `device`.
    pub fn from_bytes(bytes: Vec<u8>, device: &Device) -> Result<Storage> {
        Ok(match device {
            Device::Cpu => Storage::Cpu(CpuStorage::Bytes(bytes)),
            Device::Gpu(ctx) => Storage::Gpu(WgpuStorage { buffer: ctx.upload_bytes(&bytes)?, ctx: Arc::clone(ctx) }),
            #[cfg(target_arch = "wasm32")]
            Device::WebNn(_) => return Err(unsupported_on_webnn("block-format weights")),
        })
    }

    /// Bytes held (the buffer's used part on a GPU; packed panels included on the CPU).
    pub fn bytes(&self) -> u64 {
        match self {
            Storage::Cpu(s) => s.bytes() + s.packed_bytes(),
            Storage::Gpu(s) => s.buffer.len_bytes(),
            #[cfg(target_arch = "wasm32")]
            Storage::WebNn(s) => s.bytes(),
        }
    }

    /// f32 elements the storage holds (0 for block bytes), for bounds checks of views.
    pub fn elements(&self) -> usize {
        match self {
            Storage::Cpu(s) => s.len(),
            Storage::Gpu(s) => (s.buffer.len_bytes() / 4) as usize,
            #[cfg(target_arch = "wasm32")]
            Storage::WebNn(s) => s.elements(),
        }
    }

    /// All f32 elements in storage order (a GPU readback: one submit of everything recorded).
    pub async fn read_f32(&self) -> Result<Vec<f32>> {
        match self {
            Storage::Cpu(s) => Ok(s.dense(&crate::core::Layout::contiguous(crate::core::Shape::new([s.len()])))?.into_owned()),
            Storage::Gpu(s) => {
                let bytes = s.ctx.read(&s.buffer, s.buffer.len_bytes()).await?;
                Ok(bytemuck::pod_collect_to_vec::<u8, f32>(&bytes))
            }
            #[cfg(target_arch = "wasm32")]
            Storage::WebNn(s) => s.read().await,
        }
    }

    /// Submit what a GPU recorded if the recording grew long (ops call this after recording).
    pub async fn settle(&self) -> Result<()> {
        match self {
            Storage::Gpu(s) => s.ctx.flush_if_long().await,
            _ => Ok(()),
        }
    }
}

#[cfg(target_arch = "wasm32")]
pub(crate) fn unsupported_on_webnn(what: &str) -> Error {
    Error::Unsupported { backend: "webnn", op: "upload", reason: format!("{what} are not supported on WebNN") }
}

pub(crate) fn mismatch(op: &'static str, a: &Storage, b: &Storage) -> Error {
    Error::DeviceMismatch(format!("{op}: {} and {}", a.device().name(), b.device().name()))
}

/// Run `$body` on the backend the storages share, binding each storage as its backend's type
/// and `$backend` as the backend; wraps the result back into a `Storage`.
/// `dispatch!("op", [a, b] => |backend, a, b| backend.op(...))`.
///
/// `dispatch!(optional "op", …)` is for a method that may decline (`Result<Option<_>>`, e.g.
/// a fused kernel only some backends have): it gives `Option<Storage>`.
macro_rules! dispatch {
    (optional $op:expr, [$first:expr $(, $rest:expr)*] => |$b:ident, $s0:ident $(, $s:ident)*| $body:expr) => {
        $crate::tensor::storage::dispatch!(@wrap $op, [$first $(, $rest)*] => |$b, $s0 $(, $s)*| $body, |out, variant| out?.map(variant))
    };
    ($op:expr, [$first:expr $(, $rest:expr)*] => |$b:ident, $s0:ident $(, $s:ident)*| $body:expr) => {
        $crate::tensor::storage::dispatch!(@wrap $op, [$first $(, $rest)*] => |$b, $s0 $(, $s)*| $body, |out, variant| variant(out?))
    };
    (@wrap $op:expr, [$first:expr $(, $rest:expr)*] => |$b:ident, $s0:ident $(, $s:ident)*| $body:expr, |$out:ident, $variant:ident| $wrap:expr) => {{
        use $crate::tensor::Storage;
        let first: &Storage = $first;
        match first {
            Storage::Cpu($s0) => {
                $(let Storage::Cpu($s) = $rest else { return Err($crate::tensor::storage::mismatch($op, first, $rest)) };)*
                let $b = &$crate::backend::cpu::CpuBackend;
                let started = $crate::backend::cpu::profile::start();
                let ($out, $variant) = ($body, Storage::Cpu);
                $crate::backend::cpu::profile::record($op, started);
                $wrap
            }
            Storage::Gpu($s0) => {
                $(let Storage::Gpu($s) = $rest else { return Err($crate::tensor::storage::mismatch($op, first, $rest)) };)*
                let $b = &*$s0.ctx;
                let ($out, $variant) = ($body, Storage::Gpu);
                $wrap
            }
            #[cfg(target_arch = "wasm32")]
            Storage::WebNn($s0) => {
                $(let Storage::WebNn($s) = $rest else { return Err($crate::tensor::storage::mismatch($op, first, $rest)) };)*
                let $b = &*$s0.context();
                let ($out, $variant) = ($body, Storage::WebNn);
                $wrap
            }
        }
    }};
}
pub(crate) use dispatch;
