//! Native text-generation backends for `accelerate run --model smollm2` and
//! `accelerate bench --suite llm`: ours (the SDK's LLaMA decoder on the CPU or wgpu) and
//! candle's quantized LLaMA. Both read the same GGUF file, take the same token ids from our
//! tokenizer and choose tokens with the same sampler, so differences are the models' own.

use super::candle_llama::CandleLlama;
use crate::error::{HostError, Result};
use ipfs_accelerate::backend::Activations;
use ipfs_accelerate::models::generation::{Generation, Generator, Prompt, Sampler};
use ipfs_accelerate::models::language_model::LanguageModel;
use ipfs_accelerate::models::llama::LlamaConfig;
use ipfs_accelerate::store::ModelManifest;
use ipfs_accelerate::text::GgufTokenizer;
use ipfs_accelerate::weights::model_cache_dir;
use ipfs_accelerate::weights::Gguf;
use ipfs_accelerate::{AdapterSummary, Device};
use std::path::PathBuf;
use std::time::Instant;

pub const GGUF_FILE: &str = "smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf";

/// The backends that generate text, by the name `--backend` takes.
/// `ours-cpu-int8` is ours on the CPU with 8-bit activations (integer dot products).
pub const TEXT_BACKENDS: [&str; 4] = ["ours-cpu", "ours-cpu-int8", "ours-wgpu", "candle-cpu"];

pub fn gguf_path() -> PathBuf {
    model_cache_dir().join(GGUF_FILE)
}

/// What one generation gave and how long each phase took.
#[derive(Debug, Clone, Default)]
pub struct TextRun {
    pub prompt_tokens: usize,
    pub ids: Vec<u32>,
    pub text: String,
    pub prefill_ms: f64,
    pub first_token_ms: f64,
    /// First token chosen to last.
    pub decode_ms: f64,
    pub kv_cache_bytes: Option<u64>,
}

impl TextRun {
    pub fn prefill_tokens_per_s(&self) -> f64 {
        self.prompt_tokens as f64 / (self.prefill_ms / 1e3).max(1e-9)
    }
    pub fn decode_tokens_per_s(&self) -> f64 {
        self.ids.len().saturating_sub(1) as f64 / (self.decode_ms / 1e3).max(1e-9)
    }
}

enum Engine {
    Ours {
        model: Box<LanguageModel>,
        activations: Activations,
    },
    /// candle's model, with our tokenizer from the same file (only its metadata is read).
    Candle {
        model: Box<CandleLlama>,
        tokenizer: Box<GgufTokenizer>,
        context: usize,
    },
}

pub struct TextGenerator {
    engine: Engine,
    pub chat_template: Option<String>,
    pub adapter: AdapterSummary,
    /// Weights held at their quantized size; None for candle, which keeps its own layout
    /// (its token embeddings expanded to f32) — its resident growth tells its memory.
    pub weight_bytes: Option<u64>,
    pub load_ms: f64,
}

impl TextGenerator {
    pub async fn load(backend: &str) -> Result<TextGenerator> {
        let path = gguf_path();
        let t0 = Instant::now();
        // Verified against a manifest.json beside it, when there is one (as in the browser).
        let (dir, file) =
            (path.parent().unwrap_or(std::path::Path::new(".")), path.file_name().and_then(|n| n.to_str()).unwrap_or_default());
        let bytes = ModelManifest::read_verified(dir, file).map_err(|e| HostError::Invalid(format!("{e} (run `cargo xtask setup`)")))?;
        let device = match backend {
            "ours-cpu" | "ours-cpu-int8" | "candle-cpu" => Device::Cpu,
            "ours-wgpu" => Device::gpu().await?,
            other => return Err(HostError::Invalid(format!("--backend {other:?} does not generate text ({})", TEXT_BACKENDS.join(", ")))),
        };
        let (engine, chat_template, adapter, weight_bytes) = if backend == "candle-cpu" {
            let gguf = Gguf::parse(&bytes)?;
            let (tokenizer, context) = (Box::new(GgufTokenizer::from_gguf(&gguf)?), LlamaConfig::from_gguf(&gguf)?.context);
            let template = gguf.string("tokenizer.chat_template").ok().map(str::to_string);
            let model = Box::new(CandleLlama::load(&path)?);
            (Engine::Candle { model, tokenizer, context }, template, super::candle::adapter(), None)
        } else {
            let ours = LanguageModel::from_gguf_bytes(&bytes, &device)?;
            let (template, weights) = (ours.chat_template().map(str::to_string), ours.model().weight_bytes());
            let activations = if backend == "ours-cpu-int8" { Activations::Int8 } else { Activations::F32 };
            (Engine::Ours { model: Box::new(ours), activations }, template, device.summary(), Some(weights))
        };
        Ok(TextGenerator { engine, chat_template, adapter, weight_bytes, load_ms: t0.elapsed().as_secs_f64() * 1e3 })
    }

    /// Generate after `prompt` (raw, or templated); `on_text` gets each piece, false stops.
    pub async fn generate(&mut self, prompt: &Prompt, opts: &Generation, mut on_text: impl FnMut(&str) -> bool) -> Result<TextRun> {
        match &mut self.engine {
            Engine::Ours { model: ours, activations } => {
                let (model, tok) = (ours.model(), ours.tokenizer());
                let opts = Generation { activations: *activations, ..opts.clone() };
                let mut g = Generator::start(model, tok, prompt, &opts).await?;
                while let Some(piece) = g.step(model, tok).await? {
                    if !piece.is_empty() && !on_text(&piece) {
                        g.cancel();
                    }
                }
                let r = g.result();
                Ok(TextRun {
                    prompt_tokens: r.prompt_ids.len(),
                    ids: r.ids,
                    text: r.text,
                    prefill_ms: r.prefill_ms,
                    first_token_ms: r.first_token_ms,
                    decode_ms: r.decode_ms,
                    kv_cache_bytes: Some(r.kv_cache_bytes),
                })
            }
            Engine::Candle { model: candle, tokenizer: tok, context: model_context } => {
                if opts.kv_cache != ipfs_accelerate::DType::F32 {
                    return Err(HostError::Invalid(format!(
                        "candle keeps its own f32 KV cache; a {:?} KV cache is ours only",
                        opts.kv_cache
                    )));
                }
                let prompt_ids = tok.encode_prompt(prompt)?;
                if prompt_ids.is_empty() {
                    return Err(HostError::Invalid("the prompt is empty (no tokens to start from)".into()));
                }
                candle.reset();
                let mut sampler = Sampler::new(opts.sampling.clone());
                let mut context = prompt_ids.clone();
                let mut run = TextRun { prompt_tokens: prompt_ids.len(), ..TextRun::default() };
                let t0 = Instant::now();
                let mut logits = candle.forward(&prompt_ids)?;
                run.prefill_ms = t0.elapsed().as_secs_f64() * 1e3;
                let mut decode_start = None;
                let limit = opts.context.min(*model_context);
                while run.ids.len() < opts.max_tokens && context.len() < limit {
                    let id = sampler.next(&mut logits, &context);
                    let started = *decode_start.get_or_insert_with(Instant::now);
                    if run.ids.is_empty() {
                        run.first_token_ms = t0.elapsed().as_secs_f64() * 1e3;
                    }
                    run.decode_ms = started.elapsed().as_secs_f64() * 1e3;
                    if opts.stop_at_eos && id == tok.eos {
                        break;
                    }
                    run.ids.push(id);
                    context.push(id);
                    let piece = tok.decode(&[id])?;
                    run.text.push_str(&piece);
                    if !on_text(&piece) || run.ids.len() == opts.max_tokens {
                        break;
                    }
                    logits = candle.forward(&[id])?;
                }
                run.text = tok.decode(&run.ids)?;
                Ok(run)
            }
        }
    }
}
