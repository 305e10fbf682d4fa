//! Weights shared across models through one registry: the real all-MiniLM-L6-v2 loaded twice
//! (two poolings) holds its weights once, on the CPU and on native wgpu; dropping the last
//! model frees them (GPU buffers return to our allocator, and trim destroys them).

use ipfs_accelerate::models::bert::Pooling;
use ipfs_accelerate::models::embedder::{EmbedderOptions, SentenceEmbedder, WeightsFormat};
use ipfs_accelerate::share::TensorRegistry;
use ipfs_accelerate::Device;
use pollster::block_on;
use std::sync::Arc;

struct Files {
    config: String,
    tokenizer: Vec<u8>,
    weights: Vec<u8>,
}

fn files() -> Files {
    let dir = ipfs_accelerate::weights::model_cache_dir().join("all-minilm-l6-v2");
    let read = |f: &str| std::fs::read(dir.join(f)).unwrap_or_else(|e| panic!("{f}: {e}; run `cargo xtask setup`"));
    Files {
        config: String::from_utf8(read("config.json")).unwrap_or_default(),
        tokenizer: read("tokenizer.json"),
        weights: read("model.safetensors"),
    }
}

fn load(f: &Files, device: &Device, pooling: Pooling, registry: &Arc<TensorRegistry>) -> SentenceEmbedder {
    let options = EmbedderOptions { pooling, registry: Some(registry.clone()), ..EmbedderOptions::default() };
    block_on(SentenceEmbedder::from_bytes(&f.config, &f.tokenizer, &f.weights, WeightsFormat::SafeTensors, device, &options))
        .unwrap_or_else(|e| panic!("{e}"))
}

fn reference_first() -> (String, Vec<f32>) {
    let r: serde_json::Value = serde_json::from_str(include_str!("data/minilm_embeddings.json")).unwrap_or_default();
    let s = &r["sentences"][0];
    let v = s["embedding"].as_array().map(|a| a.iter().filter_map(|x| x.as_f64()).map(|x| x as f32).collect()).unwrap_or_default();
    (s["text"].as_str().unwrap_or_default().to_string(), v)
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn shares_weights_and_frees_them(device: Device) {
    let f = files();
    let (text, want) = reference_first();
    assert!(!want.is_empty(), "reference data missing");
    let alone = TensorRegistry::new();
    let single = load(&f, &device, Pooling::Mean, &alone);
    block_on(single.embed(&[text.as_str()])).unwrap_or_else(|e| panic!("{e}"));
    let one_model: u64 = alone.usage().by_device.values().sum();

    let registry = TensorRegistry::new();
    let mean = load(&f, &device, Pooling::Mean, &registry);
    let cls = load(&f, &device, Pooling::Cls, &registry);
    let m = block_on(mean.embed(&[text.as_str()])).unwrap_or_else(|e| panic!("{e}")).remove(0);
    let c = block_on(cls.embed(&[text.as_str()])).unwrap_or_else(|e| panic!("{e}")).remove(0);
    assert!(dot(&m, &want) >= 0.9999, "mean pooling still matches the reference");
    assert!((dot(&c, &c) - 1.0).abs() < 1e-4 && dot(&c, &m) < 0.999, "CLS pooling is its own unit vector");
    let two_models: u64 = registry.usage().by_device.values().sum();
    let ratio = two_models as f64 / one_model as f64;
    assert!(ratio <= 1.1, "two models sharing an encoder use {ratio:.3}× one model's memory ({two_models} vs {one_model} bytes)");
    let (bytes, shared) = cls.weight_bytes();
    assert_eq!(bytes, shared, "every CLS-model weight is shared with the mean model");
    assert!(bytes > 80_000_000, "MiniLM-L6 holds ~90 MB of f32 weights, got {bytes}");

    drop(mean);
    assert_eq!(cls.weight_bytes().1, 0, "nothing is shared once the other model is gone");
    let again = block_on(cls.embed(&["still works"])).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(again[0].len(), 384);
    drop(cls);
    assert_eq!(registry.usage().tensors, 0, "the last holder's drop releases every tensor");
    drop((single, alone));
    if let Device::Gpu(ctx) = &device {
        assert_eq!(ctx.pool_stats().in_use_bytes, 0, "every weight buffer went back to the allocator");
        ctx.trim();
        assert_eq!(ctx.pool_stats().allocated_bytes, 0, "and trim destroyed them");
    }
}

#[test]
fn one_model_loaded_twice_holds_its_weights_once_on_cpu() {
    shares_weights_and_frees_them(Device::Cpu);
}

#[test]
fn one_model_loaded_twice_holds_its_weights_once_on_native_wgpu() {
    shares_weights_and_frees_them(block_on(Device::gpu()).unwrap_or_else(|e| panic!("a wgpu adapter (lavapipe on CI): {e}")));
}

#[test]
fn remembered_tensor_ids_give_the_same_sharing_as_hashing() {
    let f = files();
    let registry = TensorRegistry::new();
    let computed = ipfs_accelerate::share::TensorIds::default();
    let options = EmbedderOptions { registry: Some(registry.clone()), tensor_ids: computed.clone(), ..EmbedderOptions::default() };
    let first =
        block_on(SentenceEmbedder::from_bytes(&f.config, &f.tokenizer, &f.weights, WeightsFormat::SafeTensors, &Device::Cpu, &options))
            .unwrap_or_else(|e| panic!("{e}"));
    let table = computed.lock().map(|t| t.clone()).unwrap_or_default();
    assert!(table.len() >= 100, "every tensor got an id: {}", table.len());
    // A second load given the remembered table hashes nothing and still shares every weight.
    let remembered = std::sync::Arc::new(std::sync::Mutex::new(table.clone()));
    let options = EmbedderOptions { registry: Some(registry.clone()), tensor_ids: remembered.clone(), ..EmbedderOptions::default() };
    let second =
        block_on(SentenceEmbedder::from_bytes(&f.config, &f.tokenizer, &f.weights, WeightsFormat::SafeTensors, &Device::Cpu, &options))
            .unwrap_or_else(|e| panic!("{e}"));
    let (bytes, shared) = second.weight_bytes();
    assert_eq!(bytes, shared);
    assert_eq!(remembered.lock().map(|t| t.len()).unwrap_or(0), table.len());
    drop(first);
}

#[test]
fn repeated_texts_come_from_the_embedding_cache() {
    let f = files();
    let options = EmbedderOptions { cache_entries: 2, ..EmbedderOptions::default() };
    let model =
        block_on(SentenceEmbedder::from_bytes(&f.config, &f.tokenizer, &f.weights, WeightsFormat::SafeTensors, &Device::Cpu, &options))
            .unwrap_or_else(|e| panic!("{e}"));
    let first = block_on(model.embed(&["a cat", "a dog"])).unwrap_or_else(|e| panic!("{e}"));
    let second = block_on(model.embed(&["a dog", "a bird", "a cat"])).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(second[0], first[1], "a cached embedding is the one computed before");
    assert_eq!(second[2], first[0]);
    let stats = model.cache_stats();
    assert_eq!((stats.hits, stats.misses, stats.entries, stats.capacity), (2, 3, 2, 2));
}
