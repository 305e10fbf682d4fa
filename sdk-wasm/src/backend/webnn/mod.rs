//! The WebNN backend (browsers only): ops are recorded as a graph of nodes; reading a tensor
//! builds that graph with `MLGraphBuilder` (once per graph shape: compiled graphs are cached
//! by a signature), binds every leaf as an `MLTensor` (a weight's tensor is written once and
//! reused), and runs it with `MLContext.dispatch`. Ops WebNN cannot express here (rotary,
//! block-quantized weights, in-place KV writes, broadcast or offset views) return
//! `Error::Unsupported` with the reason, never a silent fallback.

mod builder;
mod context;
mod families;
mod graph;

pub use context::WebNnContext;
pub use graph::WebNnStorage;

use super::{AttentionOps, Backend};

impl Backend for WebNnContext {
    type Storage = WebNnStorage;
}

/// No fused kernel: `ops::attention` builds the matmul, add and softmax nodes.
impl AttentionOps for WebNnContext {}
