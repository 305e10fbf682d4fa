//! all-MiniLM-L6-v2 run in stages (embeddings, layer ranges, pooling) with the activations
//! passed as bytes between them — the way a sharded model runs — gives the same embeddings
//! as the whole model, and the numpy reference.

use ipfs_accelerate::models::bert::Activations;
use ipfs_accelerate::models::embedder::{EmbedderOptions, SentenceEmbedder};
use ipfs_accelerate::Device;
use pollster::block_on;
use serde_json::Value;

#[test]
fn three_stages_through_bytes_equal_the_whole_model() {
    let dir = ipfs_accelerate::weights::model_cache_dir().join("all-minilm-l6-v2");
    let embedder = block_on(SentenceEmbedder::from_dir(
        &dir,
        "model.safetensors",
        &Device::Cpu,
        &EmbedderOptions { max_tokens: Some(256), ..EmbedderOptions::default() },
    ))
    .unwrap_or_else(|e| panic!("{e}; run `cargo xtask setup`"));
    let reference: Value = serde_json::from_str(include_str!("data/minilm_embeddings.json")).unwrap_or_default();
    let sentences = reference["sentences"].as_array().cloned().unwrap_or_default();
    let texts: Vec<&str> = sentences.iter().filter_map(|s| s["text"].as_str()).collect();
    let whole = block_on(embedder.embed(&texts)).unwrap_or_else(|e| panic!("{e}"));

    let model = embedder.model();
    assert_eq!(model.layer_count(), 6);
    let encodings = embedder.tokenize(&texts).unwrap_or_else(|e| panic!("{e}"));
    let mut x = block_on(model.embed_stage(&encodings)).unwrap_or_else(|e| panic!("{e}"));
    for range in [0..2, 2..4, 4..6] {
        let bytes = x.to_bytes();
        let received = Activations::from_bytes(&bytes).unwrap_or_else(|e| panic!("{e}"));
        x = block_on(model.layers_stage(&received, range)).unwrap_or_else(|e| panic!("{e}"));
    }
    let staged = model.pool_stage(&x, embedder.pooling());
    assert_eq!(staged.len(), whole.len());
    for (i, (a, b)) in staged.iter().zip(&whole).enumerate() {
        let worst = a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0f32, f32::max);
        assert!(worst < 1e-5, "text {i}: staged differs from whole by {worst}");
        let want: Vec<f32> = sentences[i]["embedding"]
            .as_array()
            .map(|v| v.iter().filter_map(Value::as_f64).map(|x| x as f32).collect())
            .unwrap_or_default();
        let cos: f32 = a.iter().zip(&want).map(|(x, y)| x * y).sum();
        assert!(cos >= 0.9999, "text {i}: cosine {cos} to the reference");
    }
    // A stage given activations of another width, or layers out of range, is an error.
    let wrong = Activations { width: 8, hidden: vec![0.0; x.batch * x.seq * 8], ..x.clone() };
    assert!(block_on(model.layers_stage(&wrong, 0..1)).is_err());
    assert!(block_on(model.layers_stage(&x, 5..7)).is_err());
}
