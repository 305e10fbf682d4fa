//! The CPU backend: portable Rust kernels over contiguous f32 slices, one file per op family.
//! In browsers the crate is built with `+simd128` and the hot kernels use wasm SIMD.

mod activations;
mod attention;
mod block_dot;
mod elementwise;
mod exp;
mod int8_kernels;
mod int8_matmul;
mod lanes;
mod layout;
mod matmul;
mod matmul_ops;
mod norms;
mod parallel;
pub mod profile;
mod q8_dot;
mod q8_rows;
mod qdot;
mod quant_matmul;
mod rotary;
#[cfg(any(test, all(target_arch = "wasm32", feature = "threads")))]
mod spin_region;
mod storage;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod wasm_madd;

pub use activations::erf;
pub use elementwise::binary;
pub use int8_matmul::{int8_matmul, PackedInt8, MAX_K as INT8_MAX_K};
pub use matmul::{matmul, matmul_packed, Addends, PackedB};
pub use norms::{layernorm, softmax};
pub use parallel::threads;
pub use q8_rows::BLOCK as INT8_ACTIVATION_BLOCK;
pub use quant_matmul::qmatmul;
pub use storage::CpuStorage;

use super::Backend;

/// The CPU as a backend (stateless: kernels size their own thread use).
#[derive(Debug, Clone, Copy, Default)]
pub struct CpuBackend;

impl Backend for CpuBackend {
    type Storage = CpuStorage;
}

/// The matmul micro-kernels this CPU runs: (f32, int8), e.g. ("avx512", "avx512-vnni").
pub fn matmul_kernels() -> (&'static str, &'static str) {
    (matmul::select_micro_kernel().0, int8_kernels::select_kernel().0)
}

/// Which CPU code path this build runs (recorded with results).
pub fn flavour() -> &'static str {
    let relaxed = cfg!(target_feature = "relaxed-simd");
    if cfg!(all(target_arch = "wasm32", target_feature = "simd128", feature = "threads")) {
        if relaxed {
            "wasm-simd128-relaxed-threads"
        } else {
            "wasm-simd128-threads"
        }
    } else if cfg!(all(target_arch = "wasm32", target_feature = "simd128")) && relaxed {
        "wasm-simd128-relaxed"
    } else if cfg!(all(target_arch = "wasm32", target_feature = "simd128")) {
        "wasm-simd128"
    } else if cfg!(target_arch = "wasm32") {
        "wasm-scalar"
    } else {
        "native"
    }
}
