//! `accelerate run --model smollm2 --prompt …`: text generation with our LLaMA decoder on
//! the CPU or wgpu, streaming tokens to stdout, then prefill/decode speed.

use crate::error::{HostError, Result};
use ipfs_accelerate::models::llama::{chat_prompt, generate, Generation, Llama, Sampling};
use ipfs_accelerate::text::GgufTokenizer;
use ipfs_accelerate::weights::{model_cache_dir, Gguf};
use ipfs_accelerate::Device;
use std::io::Write;
use std::time::Instant;

pub const GGUF_FILE: &str = "smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf";

pub async fn run(backend: &str, prompt: &str, chat: bool, max_tokens: usize, sampling: Sampling) -> Result<String> {
    let device = match backend {
        "ours-cpu" => Device::Cpu,
        "ours-wgpu" => Device::gpu().await?,
        other => return Err(HostError::Invalid(format!("--backend {other:?} does not generate text (ours-cpu, ours-wgpu)"))),
    };
    let path = model_cache_dir().join(GGUF_FILE);
    let bytes = std::fs::read(&path).map_err(|e| HostError::Invalid(format!("{}: {e} (run `cargo xtask setup`)", path.display())))?;
    let t0 = Instant::now();
    let gguf = Gguf::parse(&bytes)?;
    let tokenizer = GgufTokenizer::from_gguf(&gguf)?;
    let model = Llama::from_gguf(&gguf, &device)?;
    let load_ms = t0.elapsed().as_secs_f64() * 1e3;
    let text = if chat { chat_prompt(gguf.string("tokenizer.chat_template").ok(), prompt)? } else { prompt.to_string() };
    let opts = Generation { max_tokens, sampling, ..Generation::default() };
    let mut stdout = std::io::stdout();
    let out = generate(&model, &tokenizer, &text, &opts, |piece| {
        let _ = write!(stdout, "{piece}");
        let _ = stdout.flush();
        true
    })
    .await?;
    let adapter = device.summary();
    let flag = if adapter.software { " [software adapter: CPU-emulated GPU, not a GPU figure]" } else { "" };
    Ok(format!(
        "\n---\nSmolLM2-135M-Instruct Q4_1 on {backend} ({}{flag}): load {load_ms:.0} ms, weights {:.1} MB\n\
         prompt {} tokens: prefill {:.1} ms ({:.1} tok/s), first token {:.1} ms; {} tokens decoded at {:.1} tok/s; KV cache {:.2} MB\n",
        adapter.name,
        model.weight_bytes() as f64 / 1e6,
        out.prompt_ids.len(),
        out.prefill_ms,
        out.prefill_tokens_per_s(),
        out.first_token_ms,
        out.ids.len(),
        out.decode_tokens_per_s(),
        out.kv_cache_bytes as f64 / 1e6,
    ))
}
