//! int8 linear layers on the CPU (int8 weights, activations quantized per row, i32 sums),
//! measured as 1 − cosine against independent references:
//! - the int8 ONNX export (all-MiniLM-L6-v2 with int8 weights) against ONNX Runtime running
//!   the same file (scripts/reference/onnx_minilm_embeddings.py): what int8 activations cost;
//! - both it and the f32 safetensors quantized at load against the f32 numpy forward pass
//!   (scripts/reference/minilm_embeddings.py): what int8 costs in all.
//!
//! Stated bounds: ≤ 3e-3 against ONNX Runtime on the same int8 weights; against f32 ≤ 1e-2 for
//! the export (whose own weight rounding costs 3.7e-3 in ONNX Runtime) and ≤ 6e-3 quantized at load.

use ipfs_accelerate::models::bert::LinearWeights;
use ipfs_accelerate::models::bert_onnx::bert_weights_from_onnx;
use ipfs_accelerate::models::embedder::{EmbedderOptions, SentenceEmbedder};
use ipfs_accelerate::weights::OnnxModel;
use ipfs_accelerate::Device;
use serde_json::Value;

const INT8_DIR: &str = "all-minilm-l6-v2-int8";

fn model_dir(name: &str) -> std::path::PathBuf {
    ipfs_accelerate::weights::model_cache_dir().join(name)
}

fn cosine(a: &[f32], b: &[f64]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(&x, &y)| x as f64 * y).sum();
    dot / (a.iter().map(|&x| (x as f64).powi(2)).sum::<f64>().sqrt() * b.iter().map(|y| y * y).sum::<f64>().sqrt())
}

fn onnx_runtime_reference() -> Value {
    let all: Value = serde_json::from_str(include_str!("data/onnx_minilm_embeddings.json")).unwrap();
    all["models"][INT8_DIR].clone()
}

fn f32_reference() -> Value {
    serde_json::from_str(include_str!("data/minilm_embeddings.json")).unwrap()
}

fn load(dir: &str, file: &str, linear: LinearWeights) -> SentenceEmbedder {
    let options = EmbedderOptions { max_tokens: Some(256), linear, ..EmbedderOptions::default() };
    pollster::block_on(SentenceEmbedder::from_dir(&model_dir(dir), file, &Device::Cpu, &options))
        .unwrap_or_else(|e| panic!("{e}; run `cargo xtask setup`"))
}

/// Worst 1 − cosine over the reference's sentences.
fn worst_gap(embedder: &SentenceEmbedder, reference: &Value) -> f64 {
    let sentences = reference["sentences"].as_array().unwrap();
    let texts: Vec<&str> = sentences.iter().map(|s| s["text"].as_str().unwrap()).collect();
    let got = pollster::block_on(embedder.embed(&texts)).unwrap();
    let gaps = got.iter().zip(sentences).map(|(g, s)| {
        let want: Vec<f64> = s["embedding"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
        1.0 - cosine(g, &want)
    });
    gaps.fold(0.0, f64::max)
}

#[test]
fn int8_export_runs_its_own_int8_weights() {
    let int8 = load(INT8_DIR, "model.onnx", LinearWeights::AsStored);
    let dequantized = load(INT8_DIR, "model.onnx", LinearWeights::F32);
    // The word embeddings stay f32 (46.9 MB); the 36 linear weights are int8, a quarter of f32.
    let (int8_bytes, f32_bytes) = (int8.weight_bytes().0, dequantized.weight_bytes().0);
    assert!(f32_bytes - int8_bytes > 30_000_000, "int8 {int8_bytes} vs f32 {f32_bytes} bytes");

    let (vs_ort, vs_f32) = (worst_gap(&int8, &onnx_runtime_reference()), worst_gap(&int8, &f32_reference()));
    // The same weights in f32 arithmetic are ONNX Runtime's computation: only rounding apart.
    let dequantized_vs_ort = worst_gap(&dequantized, &onnx_runtime_reference());
    eprintln!("int8 export, int8 kernels: 1 − cos {vs_ort:.1e} vs ONNX Runtime, {vs_f32:.1e} vs f32; dequantized: {dequantized_vs_ort:.1e} vs ONNX Runtime");
    assert!(dequantized_vs_ort < 1e-5, "dequantized weights differ from ONNX Runtime's: {dequantized_vs_ort}");
    assert!(vs_ort < 3e-3 && vs_f32 < 1e-2, "int8: {vs_ort} vs ONNX Runtime, {vs_f32} vs f32");
    assert!(vs_ort > dequantized_vs_ort, "int8 arithmetic exactly as close as f32's: the int8 kernels did not run");
}

#[test]
fn f32_weights_quantized_at_load_stay_close_to_f32() {
    let int8 = load("all-minilm-l6-v2", "model.safetensors", LinearWeights::Int8);
    let f32 = load("all-minilm-l6-v2", "model.safetensors", LinearWeights::AsStored);
    assert!(f32.weight_bytes().0 - int8.weight_bytes().0 > 30_000_000);
    let gap = worst_gap(&int8, &f32_reference());
    eprintln!("f32 safetensors quantized to int8 at load: 1 − cos {gap:.1e} vs f32");
    assert!(gap < 6e-3 && gap > 1e-6, "1 − cos {gap}");
}

#[test]
fn int8_export_weights_are_read_with_their_scales() {
    let bytes = std::fs::read(model_dir(INT8_DIR).join("model.onnx")).unwrap_or_else(|e| panic!("{e}; run `cargo xtask setup`"));
    let named = bert_weights_from_onnx(&OnnxModel::parse(&bytes).unwrap()).unwrap();
    assert_eq!(named.int8.len(), 36, "6 layers × 6 linear weights kept as int8");
    let q = &named.int8["encoder.layer.0.attention.self.query.weight"];
    assert_eq!((q.rows, q.cols), (384, 384));
    // What devices without int8 kernels read: the same values times their scales.
    let dense = pollster::block_on(named.tensors["encoder.layer.0.attention.self.query.weight"].to_vec()).unwrap();
    assert_eq!(dense, pollster::block_on(q.dequantize().unwrap().to_vec()).unwrap());
}

#[test]
fn unknown_quantize_names_are_refused() {
    let err = LinearWeights::from_name("int4").unwrap_err().to_string();
    assert!(err.contains("int4") && err.contains("int8"), "{err}");
}
