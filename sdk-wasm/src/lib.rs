//! ipfs-accelerate: ML inference kernels and models that run in the browser (WebGPU, wasm SIMD)
//! and natively (wgpu on Vulkan/Metal/DX12, CPU) from one code base.
//!
//! Model code is written against [`ops`]; [`device`]s implement the ops. Every public op is
//! `async` because GPU readback in the browser cannot block.

pub mod bench;
pub mod clock;
pub mod device;
pub mod error;
pub mod ops;
pub mod reference;
pub mod shaders;
pub mod tensor;

#[cfg(target_arch = "wasm32")]
mod js;

pub use device::{AdapterSummary, Device};
pub use error::{Error, Result};
pub use tensor::{DType, Shape, Tensor};
