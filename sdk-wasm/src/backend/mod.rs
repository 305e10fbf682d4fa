//! Backends: where tensors live and ops run. Each implements the op-family traits of
//! `families.rs`, one file per family: `cpu/` (portable Rust, wasm SIMD in browsers), `wgpu/`
//! (WebGPU in browsers; Vulkan/Metal/DX12 natively; ops recorded and submitted once per
//! readback) and `webnn/` (browsers only: ops recorded into a graph that `MLGraphBuilder`
//! compiles). Backends import only `core`.

pub mod cpu;
mod families;
mod software;
mod summary;
#[cfg(target_arch = "wasm32")]
pub mod webnn;
pub mod wgpu;

pub use families::{
    ActivationOps, Activations, AllOps, AttentionOps, AttentionPlan, Backend, ElementwiseOps, LayoutOps, MatmulOps, MatmulPlan, NormOps,
    Operand, QuantMatmulOps, QuantShape, RotaryOps,
};
pub use software::is_software_adapter;
pub use summary::AdapterSummary;
