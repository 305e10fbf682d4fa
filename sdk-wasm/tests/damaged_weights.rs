//! Weight files damaged in place (a NaN written over one value, a block scale turned into an
//! f16 NaN) are refused at load with the tensor's name: never a model that outputs NaN.

use ipfs_accelerate::models::embedder::{EmbedderOptions, SentenceEmbedder, WeightsFormat};
use ipfs_accelerate::models::llama::Llama;
use ipfs_accelerate::weights::{model_cache_dir, Gguf, SafeTensors};
use ipfs_accelerate::Device;

fn read(path: &std::path::Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}; run `cargo xtask setup`", path.display()))
}

#[test]
fn a_nan_in_a_safetensors_weight_is_named_at_load() {
    let dir = model_cache_dir().join("all-minilm-l6-v2");
    let mut bytes = read(&dir.join("model.safetensors"));
    let name = "encoder.layer.3.intermediate.dense.weight";
    let (header, start) = {
        let st = SafeTensors::parse(&bytes).unwrap();
        let info = st.info(name).unwrap();
        (8 + u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize, info.start)
    };
    let at = header + start + 4 * 1000;
    bytes[at..at + 4].copy_from_slice(&f32::NAN.to_le_bytes());
    let config = std::fs::read_to_string(dir.join("config.json")).unwrap();
    let tokenizer = read(&dir.join("tokenizer.json"));
    let options = EmbedderOptions::default();
    let load = SentenceEmbedder::from_bytes(&config, &tokenizer, &bytes, WeightsFormat::SafeTensors, &Device::Cpu, &options);
    let err = pollster::block_on(load).err().expect("a NaN weight must be refused").to_string();
    assert!(err.contains(name) && err.contains("element 1000") && err.contains("non-finite"), "{err}");
}

#[test]
fn a_nan_block_scale_in_a_gguf_weight_is_named_at_load() {
    let path = model_cache_dir().join("smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf");
    let mut bytes = read(&path);
    let name = "blk.7.ffn_up.weight";
    let at = {
        let g = Gguf::parse(&bytes).unwrap();
        let (_, data) = g.tensor(name).unwrap();
        // Block 5's scale d (an f16 at the block's start) becomes NaN.
        data.as_ptr() as usize - bytes.as_ptr() as usize + 5 * ipfs_accelerate::DType::Q4_1.block_bytes()
    };
    bytes[at..at + 2].copy_from_slice(&0x7e00u16.to_le_bytes());
    let g = Gguf::parse(&bytes).unwrap();
    let err = Llama::from_gguf(&g, &Device::Cpu).err().expect("a NaN scale must be refused").to_string();
    assert!(err.contains(name) && err.contains("block 5"), "{err}");
}

/// Natively as in the browser: with a manifest.json beside the files, each file read must
/// match its content id; without one, files load as they are.
#[test]
fn native_loads_verify_files_against_a_manifest_beside_them() {
    use ipfs_accelerate::store::ModelManifest;
    let real = model_cache_dir().join("paraphrase-minilm-l3-v2");
    let dir = std::env::temp_dir().join(format!("ipfs-accelerate-manifest-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for f in ["config.json", "tokenizer.json", "paraphrase-MiniLM-L3-v2.onnx"] {
        std::os::unix::fs::symlink(real.join(f), dir.join(f)).unwrap();
    }
    let load = |dir: &std::path::Path| {
        let options = EmbedderOptions { max_tokens: Some(128), ..EmbedderOptions::default() };
        pollster::block_on(SentenceEmbedder::from_dir(dir, "paraphrase-MiniLM-L3-v2.onnx", &Device::Cpu, &options)).map(|_| ())
    };
    load(&dir).unwrap_or_else(|e| panic!("no manifest: {e}"));
    let mut manifest = ModelManifest::for_dir("l3", &dir).unwrap();
    std::fs::write(dir.join("manifest.json"), serde_json::to_string(&manifest).unwrap()).unwrap();
    load(&dir).unwrap_or_else(|e| panic!("a matching manifest: {e}"));
    // The manifest now says the weights are other bytes (the config's id and size).
    let config = manifest.files.iter().find(|f| f.path == "config.json").unwrap().clone();
    let weights = manifest.files.iter_mut().find(|f| f.path.ends_with(".onnx")).unwrap();
    (weights.cid, weights.size) = (config.cid, config.size);
    std::fs::write(dir.join("manifest.json"), serde_json::to_string(&manifest).unwrap()).unwrap();
    let err = load(&dir).expect_err("a file that does not match its id must be refused").to_string();
    assert!(err.contains("paraphrase-MiniLM-L3-v2.onnx") && err.contains("does not match its id"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
