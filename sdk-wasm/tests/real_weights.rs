//! The safetensors reader on the real all-MiniLM-L6-v2 weights (installed by
//! `cargo xtask setup`), checked against values computed independently by
//! scripts/reference/minilm_tensor_checksums.py (Python standard library only).

use ipfs_accelerate::weights::SafeTensors;
use std::path::PathBuf;

fn model_dir() -> PathBuf {
    ipfs_accelerate::weights::model_cache_dir().join("all-minilm-l6-v2")
}

#[test]
fn minilm_safetensors_match_independent_reference() {
    let path = model_dir().join("model.safetensors");
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}; run `cargo xtask setup`", path.display()));
    let st = SafeTensors::parse(&bytes).unwrap();
    let reference: serde_json::Value = serde_json::from_str(include_str!("data/minilm_tensor_checksums.json")).unwrap();
    assert_eq!(st.names().count() as u64, reference["tensor_count"].as_u64().unwrap());
    for (name, want) in reference["tensors"].as_object().unwrap() {
        let info = st.info(name).unwrap_or_else(|| panic!("{name} missing"));
        assert_eq!(info.dtype, want["dtype"].as_str().unwrap(), "{name}");
        let shape: Vec<usize> = want["shape"].as_array().unwrap().iter().map(|d| d.as_u64().unwrap() as usize).collect();
        assert_eq!(info.shape, shape, "{name}");
        let values = pollster::block_on(st.tensor(name).unwrap().to_vec()).unwrap();
        let sum: f64 = values.iter().map(|&v| v as f64).sum();
        let want_sum = want["sum"].as_f64().unwrap();
        assert!((sum - want_sum).abs() <= 1e-6 * want_sum.abs().max(1.0), "{name}: sum {sum} vs {want_sum}");
        for (got, w) in values.iter().zip(want["first"].as_array().unwrap()) {
            // Compared as f32: serde_json parses decimals to the nearest f64 only approximately.
            assert_eq!(*got, w.as_f64().unwrap() as f32, "{name}");
        }
    }
    // One byte missing from the end of the real file: refused, naming the tensor it cuts.
    let err = SafeTensors::parse(&bytes[..bytes.len() - 1]).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(err.contains("truncated") && err.contains("tensor"), "{err}");
    // Shapes agree with the model's own config.json.
    let config: serde_json::Value = serde_json::from_slice(&std::fs::read(model_dir().join("config.json")).unwrap()).unwrap();
    let hidden = config["hidden_size"].as_u64().unwrap() as usize;
    let layers = config["num_hidden_layers"].as_u64().unwrap() as usize;
    for layer in 0..layers {
        let q = st.info(&format!("encoder.layer.{layer}.attention.self.query.weight")).unwrap();
        assert_eq!(q.shape, [hidden, hidden]);
    }
}
