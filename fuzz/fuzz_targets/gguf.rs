//! GGUF: parse, every tensor's bytes, and the LLaMA config read from the metadata.
#![no_main]
use ipfs_accelerate::models::llama::LlamaConfig;
use ipfs_accelerate::weights::Gguf;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(g) = Gguf::parse(data) {
        let names: Vec<String> = g.tensors().iter().map(|t| t.name.clone()).collect();
        for name in names {
            let _ = g.tensor(&name);
        }
        let _ = LlamaConfig::from_gguf(&g);
    }
});
