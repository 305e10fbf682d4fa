//! Models, each one file written against `ops` only: no model knows which device it runs on.
//! `generation/` holds what every causal language model shares (the `CausalLm` trait, KV
//! cache, generator, sampling, chat templates); `language_model.rs` picks a family by the
//! file's architecture.

pub mod bert;
pub mod bert_onnx;
pub mod embedder;
pub mod generation;
pub mod language_model;
pub(crate) mod layers;
pub mod llama;
pub mod vad;
pub mod vit;
pub mod whisper;
