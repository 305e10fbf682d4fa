//! all-MiniLM-L6-v2 sentence embeddings from our BERT (over `ops`) on the CPU and on native
//! wgpu (lavapipe on CI), against scripts/reference/minilm_embeddings.py (numpy f64 forward
//! pass + the Python HF tokenizers). Our Rust tokenisation must give the reference's ids.
//! Padding to 128 tokens and truncation at 256 exercise the attention mask.

use ipfs_accelerate::models::bert::{Bert, BertConfig};
use ipfs_accelerate::models::embedder::{EmbedderOptions, SentenceEmbedder};
use ipfs_accelerate::text::TextTokenizer;
use ipfs_accelerate::weights::SafeTensors;
use ipfs_accelerate::Device;
use std::path::PathBuf;

fn model_dir() -> PathBuf {
    ipfs_accelerate::weights::model_cache_dir().join("all-minilm-l6-v2")
}

fn cosine(a: &[f32], b: &[f64]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(&x, &y)| x as f64 * y).sum();
    let na = a.iter().map(|&x| (x as f64).powi(2)).sum::<f64>().sqrt();
    let nb = b.iter().map(|y| y * y).sum::<f64>().sqrt();
    dot / (na * nb)
}

fn check(device: Device) {
    let dir = model_dir();
    let bytes = std::fs::read(dir.join("model.safetensors")).unwrap_or_else(|e| panic!("{e}; run `cargo xtask setup`"));
    let st = SafeTensors::parse(&bytes).unwrap();
    let config = BertConfig::from_json(&std::fs::read_to_string(dir.join("config.json")).unwrap()).unwrap();
    let model = pollster::block_on(Bert::load(config, &st, &device)).unwrap();
    let reference: serde_json::Value = serde_json::from_str(include_str!("data/minilm_embeddings.json")).unwrap();
    let mut worst = f64::INFINITY;
    for s in reference["sentences"].as_array().unwrap() {
        let ids: Vec<u32> = s["ids"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as u32).collect();
        let mask: Vec<u32> = s["mask"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as u32).collect();
        let want: Vec<f64> = s["embedding"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
        let got = pollster::block_on(model.embed(&ids, &mask)).unwrap();
        let c = cosine(&got, &want);
        assert!(c >= 0.9999, "{} on {}: cosine {c} for {:?}", ids.len(), device.name(), s["text"]);
        worst = worst.min(c);
        if s["text"] == "short" {
            // Sensitivity check: ignoring the mask (attending to 125 pads) must be caught.
            let unmasked = pollster::block_on(model.embed(&ids, &vec![1; ids.len()])).unwrap();
            assert!(cosine(&unmasked, &want) < 0.99, "the comparison cannot tell masked from unmasked");
        }
    }
    eprintln!("{}: worst 1 - cosine to reference = {:.1e}", device.name(), 1.0 - worst);
}

/// All sentences in one call: sorted, padded per group to the longest, masked.
fn check_batched(device: Device, count: usize) {
    let reference: serde_json::Value = serde_json::from_str(include_str!("data/minilm_embeddings.json")).unwrap();
    let sentences: Vec<&serde_json::Value> = reference["sentences"].as_array().unwrap().iter().take(count).collect();
    let texts: Vec<&str> = sentences.iter().map(|s| s["text"].as_str().unwrap()).collect();
    let max = reference["max_tokens"].as_u64().map(|m| m as usize);
    let embedder = pollster::block_on(SentenceEmbedder::from_dir(
        &model_dir(),
        "model.safetensors",
        &device,
        &EmbedderOptions { max_tokens: max, ..EmbedderOptions::default() },
    ))
    .unwrap();
    let got = pollster::block_on(embedder.embed(&texts)).unwrap();
    assert_eq!(got.len(), texts.len());
    for (g, s) in got.iter().zip(&sentences) {
        let want: Vec<f64> = s["embedding"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
        let c = cosine(g, &want);
        assert!(c >= 0.9999, "batched on {}: cosine {c} for {:?}", device.name(), s["text"]);
    }
}

#[test]
fn batched_mixed_length_embeddings_match_reference_on_cpu() {
    check_batched(Device::Cpu, usize::MAX);
}

#[test]
fn batched_mixed_length_embeddings_match_reference_on_native_wgpu() {
    check_batched(pollster::block_on(Device::gpu()).expect("a wgpu adapter (lavapipe on CI)"), 5);
}

#[test]
fn minilm_embeddings_match_reference_on_cpu() {
    check(Device::Cpu);
}

#[test]
fn minilm_embeddings_match_reference_on_native_wgpu() {
    check(pollster::block_on(Device::gpu()).expect("a wgpu adapter (lavapipe on CI)"));
}

#[test]
fn wrong_architecture_and_bad_inputs_are_named() {
    let err = BertConfig::from_json(r#"{"model_type":"llama","hidden_size":8,"num_attention_heads":2,"num_hidden_layers":1,"intermediate_size":8,"max_position_embeddings":8,"vocab_size":8}"#)
        .unwrap_err()
        .to_string();
    assert!(err.contains("unknown architecture") && err.contains("llama"), "{err}");
    let err = BertConfig::from_json("{not json").unwrap_err().to_string();
    assert!(err.contains("config.json"), "{err}");
}

#[test]
fn rust_tokenizer_gives_the_reference_ids_and_masks() {
    let json = std::fs::read(model_dir().join("tokenizer.json")).unwrap_or_else(|e| panic!("{e}; run `cargo xtask setup`"));
    let reference: serde_json::Value = serde_json::from_str(include_str!("data/minilm_embeddings.json")).unwrap();
    let max = reference["max_tokens"].as_u64().unwrap() as usize;
    let tokenizer = TextTokenizer::from_json(&json, max).unwrap();
    for s in reference["sentences"].as_array().unwrap() {
        let enc = tokenizer.encode(s["text"].as_str().unwrap()).unwrap();
        // The reference pads to the file's 128 tokens; ours leaves padding to the batch.
        let mask: Vec<u32> = s["mask"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as u32).collect();
        let real = mask.iter().filter(|&&m| m == 1).count();
        let ids: Vec<u32> = s["ids"].as_array().unwrap().iter().take(real).map(|v| v.as_u64().unwrap() as u32).collect();
        assert_eq!(enc.ids, ids, "{:?}", s["text"]);
        assert_eq!(enc.mask, vec![1; real], "{:?}", s["text"]);
    }
    assert!(TextTokenizer::from_json(b"{broken", 8).err().unwrap().to_string().contains("tokenizer.json"));
}
