//! `accelerate run --model smollm2 --prompt …`: text generation with our LLaMA decoder (CPU or
//! wgpu) or candle's, streaming tokens to stdout, then prefill/decode speed.

use super::software_flag;
use crate::backends::text_generation::TextGenerator;
use crate::error::Result;
use ipfs_accelerate::models::generation::{chat_prompt, Generation, Prompt, Sampling};
use ipfs_accelerate::DType;
use std::io::Write;

pub async fn run(backend: &str, prompt: &str, chat: bool, max_tokens: usize, sampling: Sampling, kv_cache: DType) -> Result<String> {
    let mut generator = TextGenerator::load(backend).await?;
    let prompt = if chat { chat_prompt(generator.chat_template.as_deref(), prompt)? } else { Prompt::raw(prompt) };
    let opts = Generation { max_tokens, sampling, kv_cache, ..Generation::default() };
    let mut stdout = std::io::stdout();
    let out = generator
        .generate(&prompt, &opts, |piece| {
            let _ = write!(stdout, "{piece}");
            let _ = stdout.flush();
            true
        })
        .await?;
    let adapter = &generator.adapter;
    let flag = software_flag(adapter);
    let kv = out.kv_cache_bytes.map(|b| format!("; KV cache {:.2} MB", b as f64 / 1e6)).unwrap_or_default();
    let weights = generator.weight_bytes.map(|b| format!(", weights {:.1} MB", b as f64 / 1e6)).unwrap_or_default();
    Ok(format!(
        "\n---\nSmolLM2-135M-Instruct Q4_1 on {backend} ({}{flag}): load {:.0} ms{weights}\n\
         prompt {} tokens: prefill {:.1} ms ({:.1} tok/s), first token {:.1} ms; {} tokens decoded at {:.1} tok/s{kv}\n",
        adapter.name,
        generator.load_ms,
        out.prompt_tokens,
        out.prefill_ms,
        out.prefill_tokens_per_s(),
        out.first_token_ms,
        out.ids.len(),
        out.decode_tokens_per_s(),
    ))
}
