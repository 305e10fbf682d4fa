//! Tensors shared across models: a registry keyed by content id + device holds each weight
//! once; models hold counted claims on it; the last release frees the memory. Plus a bounded
//! cache of embeddings by input text.

mod embedding_cache;
mod ids_ahead;
mod registry;

pub use embedding_cache::{EmbeddingCache, EmbeddingCacheStats};
pub use ids_ahead::hash_f32_tensors_ahead;
pub use registry::{DeviceBytes, ModelTensors, TensorIds, TensorKey, TensorRegistry, Transform};
