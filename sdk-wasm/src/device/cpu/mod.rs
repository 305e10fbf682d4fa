//! The CPU device: portable Rust kernels over contiguous f32 slices. In browsers the crate is
//! built with `+simd128` and the matmul micro-kernel uses wasm SIMD explicitly.

mod activation;
mod elementwise;
mod matmul;
mod normalize;
mod qdot;
mod qmatmul;

pub use activation::{erf, gelu};
pub(crate) use elementwise::broadcast_strides;
pub use elementwise::{binary, broadcast_shape, scale, BinaryOp};
pub use matmul::{matmul, matmul_packed, PackedB};
pub use normalize::{layernorm, softmax};
pub use qmatmul::qmatmul;

/// Which CPU code path this build runs (recorded with results).
pub fn flavour() -> &'static str {
    if cfg!(all(target_arch = "wasm32", target_feature = "simd128")) {
        "wasm-simd128"
    } else if cfg!(target_arch = "wasm32") {
        "wasm-scalar"
    } else {
        "native"
    }
}

/// Worker threads for large native kernels (browsers run single-threaded here).
pub(crate) fn threads() -> usize {
    #[cfg(not(target_arch = "wasm32"))]
    {
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
    }
    #[cfg(target_arch = "wasm32")]
    {
        1
    }
}
