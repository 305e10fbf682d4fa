//! Weight file formats. Parsers never trust the file: every offset, size and shape is checked
//! and a bad file is an error naming the tensor and what was wrong.

mod budget;
mod cid;
mod ctranslate2;
mod gguf;
mod int8;
mod onnx;
mod protobuf;
mod safetensors;
mod source;
mod tensor_slices;
#[cfg(target_arch = "wasm32")]
mod web_digest;

pub use crate::core::f16::{f16_to_f32, f32_to_f16};
pub use cid::{Cid, CidHasher};
pub use ctranslate2::{Ct2Model, Ct2Type, Variable};
pub use gguf::{Gguf, GgufTensor, MetaValue};
pub use int8::Int8Weights;
pub use onnx::{Initializer, Node, OnnxModel};
pub use safetensors::{decode_f32, SafeTensors, SafeTensorsHeader, TensorInfo};
pub use source::{NamedTensors, WeightSource};
pub use tensor_slices::TensorSlices;

/// Where model fixtures and downloaded weights live natively: `$IPFS_ACCELERATE_MODELS`, else
/// `~/.cache/ipfs-accelerate/models` (xtask, std-only, keeps its own copy of this rule).
#[cfg(not(target_arch = "wasm32"))]
pub fn model_cache_dir() -> std::path::PathBuf {
    if let Some(dir) = std::env::var_os("IPFS_ACCELERATE_MODELS") {
        return dir.into();
    }
    std::path::PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/ipfs-accelerate/models")
}
