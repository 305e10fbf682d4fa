//! Prefill + decode loop with streaming: each new piece of text goes to `on_text` as soon as
//! it is whole UTF-8, and the callback can stop generation (cancellation).

use super::{Llama, Sampler, Sampling};
use crate::clock::now_ms;
use crate::error::{Error, Result};
use crate::text::GgufTokenizer;

#[derive(Debug, Clone)]
pub struct Generation {
    pub max_tokens: usize,
    pub sampling: Sampling,
    /// KV cache positions (prompt + output), bounded by the model's context length.
    pub context: usize,
    pub stop_at_eos: bool,
}

impl Default for Generation {
    fn default() -> Generation {
        Generation { max_tokens: 32, sampling: Sampling::default(), context: 2048, stop_at_eos: true }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Generated {
    pub prompt_ids: Vec<u32>,
    pub ids: Vec<u32>,
    pub text: String,
    pub prefill_ms: f64,
    pub decode_ms: f64,
    /// Prompt processed and first token chosen.
    pub first_token_ms: f64,
    pub cancelled: bool,
    pub kv_cache_bytes: u64,
}

impl Generated {
    pub fn prefill_tokens_per_s(&self) -> f64 {
        self.prompt_ids.len() as f64 / (self.prefill_ms / 1e3).max(1e-9)
    }
    /// Tokens after the first, over the time they took.
    pub fn decode_tokens_per_s(&self) -> f64 {
        (self.ids.len().saturating_sub(1)) as f64 / (self.decode_ms / 1e3).max(1e-9)
    }
}

/// Generate from `prompt` (already templated if it is a chat turn). `on_text` gets each new
/// text piece and returns false to stop.
pub async fn generate(
    model: &Llama,
    tok: &GgufTokenizer,
    prompt: &str,
    opts: &Generation,
    mut on_text: impl FnMut(&str) -> bool,
) -> Result<Generated> {
    let prompt_ids = tok.encode(prompt)?;
    if prompt_ids.is_empty() {
        return Err(Error::Model("the prompt is empty (no tokens to start from)".into()));
    }
    let mut cache = model.cache(opts.context.min(prompt_ids.len() + opts.max_tokens))?;
    let mut sampler = Sampler::new(opts.sampling.clone());
    let mut out = Generated { prompt_ids: prompt_ids.clone(), ..Generated::default() };
    let mut context = prompt_ids.clone();
    let started = now_ms();
    let mut logits = model.forward(&prompt_ids, &mut cache).await?;
    out.prefill_ms = now_ms() - started;
    let decode_start = now_ms();
    let mut emitted = 0usize;
    while out.ids.len() < opts.max_tokens {
        let id = sampler.next(&mut logits, &context);
        if out.ids.is_empty() {
            out.first_token_ms = now_ms() - started;
        }
        if opts.stop_at_eos && id == tok.eos {
            break;
        }
        out.ids.push(id);
        context.push(id);
        // Emit only whole characters: a multi-byte character can span tokens.
        let text = tok.decode(&out.ids)?;
        if !text.ends_with('\u{FFFD}') && text.len() > emitted {
            let keep_going = on_text(&text[emitted..]);
            emitted = text.len();
            if !keep_going {
                out.cancelled = true;
                break;
            }
        }
        if out.ids.len() == opts.max_tokens || cache.len >= cache.capacity {
            break;
        }
        logits = model.forward(&[id], &mut cache).await?;
    }
    out.decode_ms = now_ms() - decode_start;
    out.text = tok.decode(&out.ids)?;
    out.kv_cache_bytes = cache.bytes();
    Ok(out)
}
