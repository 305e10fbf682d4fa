//! Models, each one file written against `ops` only: no model knows which device it runs on.

pub mod bert;
pub mod bert_onnx;
pub mod embedder;
pub mod llama;
