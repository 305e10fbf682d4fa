//! Recorded execution on the GPU: a model forward is encoded into one command buffer and
//! submitted once, readback included (counted on the context, natively on lavapipe here).

use ipfs_accelerate::models::embedder::{EmbedderOptions, SentenceEmbedder};
use ipfs_accelerate::models::generation::CausalLm;
use ipfs_accelerate::models::llama::Llama;
use ipfs_accelerate::weights::{model_cache_dir, Gguf};
use ipfs_accelerate::Device;

fn gpu() -> (Device, std::sync::Arc<ipfs_accelerate::device::gpu::GpuContext>) {
    let device = pollster::block_on(Device::gpu()).unwrap_or_else(|e| panic!("no native GPU adapter ({e}); setup installs lavapipe"));
    let Device::Gpu(ctx) = &device else { unreachable!() };
    let ctx = ctx.clone();
    (device, ctx)
}

#[test]
fn a_bert_forward_is_one_submit() {
    let (device, ctx) = gpu();
    let dir = model_cache_dir().join("all-minilm-l6-v2");
    let embedder = pollster::block_on(SentenceEmbedder::from_dir(&dir, "model.safetensors", &device, &EmbedderOptions::default()))
        .unwrap_or_else(|e| panic!("{e}"));
    // The first call also uploads and compiles; count a warm one.
    pollster::block_on(embedder.embed(&["warm up"])).unwrap();
    let before = ctx.submits();
    let out = pollster::block_on(embedder.embed(&["one submit for the whole encoder and its readback"])).unwrap();
    assert_eq!(out.len(), 1);
    assert_eq!(ctx.submits() - before, 1, "a BERT forward must be one queue submit");
    assert_eq!(ctx.pending_dispatches(), 0);
}

#[test]
fn a_llama_decode_step_is_one_submit() {
    let (device, ctx) = gpu();
    let bytes =
        std::fs::read(model_cache_dir().join("smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf")).unwrap_or_else(|e| panic!("{e}"));
    let lm = Llama::from_gguf(&Gguf::parse(&bytes).unwrap_or_else(|e| panic!("{e}")), &device).unwrap_or_else(|e| panic!("{e}"));
    let mut cache = lm.cache(64).unwrap();
    pollster::block_on(lm.forward(&[1, 2, 3], &mut cache)).unwrap();
    let before = ctx.submits();
    pollster::block_on(lm.forward(&[4], &mut cache)).unwrap();
    assert_eq!(ctx.submits() - before, 1, "a decode step must be one queue submit");
}
