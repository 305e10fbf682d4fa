//! ipfs-accelerate: ML inference kernels and models that run in the browser (WebGPU, wasm SIMD)
//! and natively (wgpu on Vulkan/Metal/DX12, CPU) from one code base.
//!
//! Model code is written against [`ops`]; [`device`]s implement the ops. Every public op is
//! `async` because GPU readback in the browser cannot block.

// Natively the GPU handles are Send + Sync and shared across threads through Arc. In wasm,
// wgpu's WebGPU handles are neither (a JS object lives in one worker); the same Arc-based code
// is still correct there because each worker has its own module instance.
#![cfg_attr(target_arch = "wasm32", allow(clippy::arc_with_non_send_sync))]

pub mod audio;
pub mod backend;
pub mod bench;
pub mod clock;
pub mod core;
pub mod device;
pub mod models;
pub mod ops;
pub mod reference;
pub mod share;
pub mod store;
pub mod tensor;
pub mod text;
pub mod vision;
pub mod weights;

#[cfg(target_arch = "wasm32")]
mod js;

pub use crate::core::error;
pub use crate::core::{Error, Result};
pub use backend::wgpu::shaders;
pub use device::{AdapterSummary, Device};
pub use tensor::{DType, Shape, Tensor};
