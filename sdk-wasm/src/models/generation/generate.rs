//! Prefill + decode as a step-by-step `Generator`, so callers stream: each step returns the
//! next piece of text as soon as it is whole UTF-8 (a character can span tokens). The JS API
//! awaits one step at a time (and yields to the page between them); `generate` loops natively.

use super::{CausalLm, KvCache, Sampler, Sampling};
use crate::backend::Activations;
use crate::clock::now_ms;
use crate::core::error::{Error, Result};
use crate::core::OptionStyle;
use crate::tensor::DType;
use crate::text::{GgufTokenizer, Prompt};

#[derive(Debug, Clone)]
pub struct Generation {
    pub max_tokens: usize,
    pub sampling: Sampling,
    /// KV cache positions (prompt + output), bounded by the model's context length.
    pub context: usize,
    pub stop_at_eos: bool,
    /// KV cache precision: F32 (dense, any device) or Q8_0 / Q4_1 / Q2 (CPU).
    pub kv_cache: DType,
    /// Inputs of the block-quantized linear layers: F32, or Int8 (CPU; faster, as ggml rounds).
    pub activations: Activations,
}

impl Default for Generation {
    fn default() -> Generation {
        Generation {
            max_tokens: 32,
            sampling: Sampling::default(),
            context: 2048,
            stop_at_eos: true,
            kv_cache: DType::F32,
            activations: Activations::F32,
        }
    }
}

/// Why generation ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FinishReason {
    /// The model chose its end-of-sequence token.
    Eos,
    /// `max_tokens` were generated.
    #[default]
    Length,
    /// The KV cache (bounded by the model's context length) is full.
    Context,
    /// The caller stopped it.
    Cancelled,
}

impl FinishReason {
    pub fn name(self) -> &'static str {
        match self {
            FinishReason::Eos => "eos",
            FinishReason::Length => "length",
            FinishReason::Context => "context",
            FinishReason::Cancelled => "cancelled",
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Generated {
    pub prompt_ids: Vec<u32>,
    pub ids: Vec<u32>,
    pub text: String,
    pub prefill_ms: f64,
    /// From the first token chosen to the last.
    pub decode_ms: f64,
    /// Prompt processed and first token chosen.
    pub first_token_ms: f64,
    pub finish: FinishReason,
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
    pub fn cancelled(&self) -> bool {
        self.finish == FinishReason::Cancelled
    }
}

/// One generation in progress: the KV cache, the sampler, and the text emitted so far.
pub struct Generator {
    opts: Generation,
    cache: KvCache,
    sampler: Sampler,
    context: Vec<u32>,
    logits: Vec<f32>,
    /// The last token chosen, not yet run through the model.
    pending: Option<u32>,
    out: Generated,
    /// `out.ids[flushed..]` have not been emitted as text yet.
    flushed: usize,
    started: f64,
    decode_start: f64,
    done: bool,
}

/// Logits holding NaN or infinity would sample garbage: an error instead.
fn finite_logits(logits: Vec<f32>) -> Result<Vec<f32>> {
    match crate::core::finite::first_non_finite(&logits) {
        Some(i) => Err(Error::Model(format!("the model produced a non-finite logit (token {i}): NaN or overflowing activations"))),
        None => Ok(logits),
    }
}

impl Generator {
    /// Tokenise `prompt` (`Prompt::raw`, or a chat turn through its template) and run it
    /// through the model.
    pub async fn start(model: &dyn CausalLm, tok: &GgufTokenizer, prompt: &Prompt, opts: &Generation) -> Result<Generator> {
        opts.sampling.check(OptionStyle::Rust)?;
        let prompt_ids = tok.encode_prompt(prompt)?;
        if prompt_ids.is_empty() {
            return Err(Error::Model("the prompt is empty (no tokens to start from)".into()));
        }
        if prompt_ids.len() >= opts.context.min(model.context()) {
            return Err(Error::Model(format!(
                "the prompt has {} tokens; the context holds {} (prompt + output)",
                prompt_ids.len(),
                opts.context.min(model.context())
            )));
        }
        let mut cache = model.cache_in(opts.context.min(prompt_ids.len().saturating_add(opts.max_tokens)), opts.kv_cache)?;
        cache.activations = opts.activations;
        let started = now_ms();
        let logits = finite_logits(model.forward(&prompt_ids, &mut cache).await?)?;
        let out = Generated { prompt_ids: prompt_ids.clone(), prefill_ms: now_ms() - started, ..Generated::default() };
        Ok(Generator {
            opts: opts.clone(),
            cache,
            sampler: Sampler::new(opts.sampling.clone()),
            context: prompt_ids,
            logits,
            pending: None,
            out,
            flushed: 0,
            started,
            decode_start: 0.0,
            done: opts.max_tokens == 0,
        })
    }

    /// Choose the next token; its text (empty while a character is incomplete), or None
    /// when generation has ended.
    pub async fn step(&mut self, model: &dyn CausalLm, tok: &GgufTokenizer) -> Result<Option<String>> {
        if self.done {
            return Ok(None);
        }
        if let Some(id) = self.pending.take() {
            self.logits = finite_logits(model.forward(&[id], &mut self.cache).await?)?;
        }
        let id = self.sampler.next(&mut self.logits, &self.context);
        if self.out.ids.is_empty() {
            self.decode_start = now_ms();
            self.out.first_token_ms = self.decode_start - self.started;
        }
        self.out.decode_ms = now_ms() - self.decode_start;
        if self.opts.stop_at_eos && id == tok.eos {
            self.done_with(FinishReason::Eos);
            return self.flush_rest(tok);
        }
        self.out.ids.push(id);
        self.context.push(id);
        if self.out.ids.len() >= self.opts.max_tokens {
            self.done_with(FinishReason::Length);
        } else if self.cache.len >= self.cache.capacity {
            self.done_with(FinishReason::Context);
        } else {
            self.pending = Some(id);
        }
        // Byte-level tokens concatenate: decode only what has not been emitted.
        let text = tok.decode(&self.out.ids[self.flushed..])?;
        if text.ends_with('\u{FFFD}') && !self.done {
            return Ok(Some(String::new()));
        }
        self.flushed = self.out.ids.len();
        self.out.text.push_str(&text);
        Ok(Some(text))
    }

    /// Stop early; the next step returns None.
    pub fn cancel(&mut self) {
        if !self.done {
            self.done_with(FinishReason::Cancelled);
        }
    }

    fn done_with(&mut self, reason: FinishReason) {
        self.done = true;
        self.pending = None;
        self.out.finish = reason;
    }

    /// At the end: text still held back for an incomplete character, if any.
    fn flush_rest(&mut self, tok: &GgufTokenizer) -> Result<Option<String>> {
        let rest = tok.decode(&self.out.ids[self.flushed..])?;
        self.flushed = self.out.ids.len();
        self.out.text.push_str(&rest);
        Ok(if rest.is_empty() { None } else { Some(rest) })
    }

    pub fn is_done(&self) -> bool {
        self.done
    }

    /// What was generated so far, with timings.
    pub fn result(&self) -> Generated {
        let mut out = self.out.clone();
        out.kv_cache_bytes = self.cache.bytes();
        out
    }
}

/// Generate from `prompt` (`Prompt::raw`, or a chat turn through its template). `on_text`
/// gets each new text piece and returns false to stop.
pub async fn generate(
    model: &dyn CausalLm,
    tok: &GgufTokenizer,
    prompt: &Prompt,
    opts: &Generation,
    mut on_text: impl FnMut(&str) -> bool,
) -> Result<Generated> {
    let mut generator = Generator::start(model, tok, prompt, opts).await?;
    while let Some(piece) = generator.step(model, tok).await? {
        if !piece.is_empty() && !on_text(&piece) {
            generator.cancel();
        }
    }
    Ok(generator.result())
}
