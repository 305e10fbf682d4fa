//! Weight file formats. Parsers never trust the file: every offset, size and shape is checked
//! and a bad file is an error naming the tensor and what was wrong.

mod safetensors;

pub use safetensors::{SafeTensors, TensorInfo};
