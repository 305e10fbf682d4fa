//! Our BERT running on weights extracted from an ONNX export (paraphrase-MiniLM-L3-v2, f32),
//! against ONNX Runtime's own output on that file (scripts/reference/onnx_minilm_embeddings.py).
//! Same weights in both: the comparison isolates our forward pass from the exporter's graph.

use ipfs_accelerate::models::embedder::{EmbedderOptions, SentenceEmbedder};
use ipfs_accelerate::weights::OnnxModel;
use ipfs_accelerate::Device;
use serde_json::Value;

const L3: &str = "paraphrase-minilm-l3-v2";

fn cosine(a: &[f32], b: &[f64]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(&x, &y)| x as f64 * y).sum();
    dot / (a.iter().map(|&x| (x as f64).powi(2)).sum::<f64>().sqrt() * b.iter().map(|y| y * y).sum::<f64>().sqrt())
}

fn reference(model: &str) -> Value {
    let all: Value = serde_json::from_str(include_str!("data/onnx_minilm_embeddings.json")).unwrap();
    all["models"][model].clone()
}

fn model_dir(name: &str) -> std::path::PathBuf {
    ipfs_accelerate::weights::model_cache_dir().join(name)
}

#[test]
fn l3_from_onnx_initializers_matches_onnx_runtime_on_cpu() {
    let r = reference(L3);
    let max = r["max_tokens"].as_u64().map(|m| m as usize);
    let file = r["file"].as_str().unwrap();
    let embedder = pollster::block_on(SentenceEmbedder::from_dir(
        &model_dir(L3),
        file,
        &Device::Cpu,
        &EmbedderOptions { max_tokens: max, ..EmbedderOptions::default() },
    ))
    .unwrap_or_else(|e| panic!("{e}; run `cargo xtask setup`"));
    assert_eq!(embedder.config().num_hidden_layers, 3);
    let sentences = r["sentences"].as_array().unwrap();
    let texts: Vec<&str> = sentences.iter().map(|s| s["text"].as_str().unwrap()).collect();
    let got = pollster::block_on(embedder.embed(&texts)).unwrap();
    for (g, s) in got.iter().zip(sentences) {
        let want: Vec<f64> = s["embedding"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
        let c = cosine(g, &want);
        assert!(c >= 0.9999, "cosine {c} for {:?}", s["text"]);
    }
}

#[test]
fn truncated_onnx_file_is_a_named_error() {
    let bytes = std::fs::read(model_dir(L3).join("paraphrase-MiniLM-L3-v2.onnx")).unwrap();
    let err = OnnxModel::parse(&bytes[..bytes.len() / 2]).err().expect("a truncated file must not parse").to_string();
    assert!(err.contains("onnx") && err.contains("past the end"), "{err}");
    let err = OnnxModel::parse(b"definitely not protobuf").err().unwrap().to_string();
    assert!(err.contains("onnx"), "{err}");
}
