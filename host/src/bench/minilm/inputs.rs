//! The MiniLM benchmark's inputs: batch 1 and 8 of short texts and of exactly-128-token texts,
//! and the reference sentences (with their committed reference embeddings) for accuracy.

use crate::backends::models::{ModelSpec, Reference};
use crate::error::{HostError, Result};
use ipfs_accelerate::text::TextTokenizer;
use serde::Serialize;
use serde_json::Value;

const SHORT: [&str; 8] = [
    "How do I run a model in the browser?",
    "Weights are cached by content hash.",
    "WebGPU compute shaders are written in WGSL.",
    "The cat sat on the mat.",
    "Sentence embeddings power semantic search.",
    "Benchmarks need medians, not single runs.",
    "IndexedDB stores large binary blobs.",
    "Quantized models use less memory.",
];

const PARAGRAPH: &str = "Machine learning in the browser has moved from toy demos to real applications. \
    Models download once, are cached locally, and run on whatever the device offers: a discrete GPU through WebGPU, \
    an integrated one, or the CPU through WebAssembly with SIMD instructions. Each path has its own costs. \
    Uploading weights to the GPU takes time, shader compilation happens on first use, and small batches leave most \
    of the hardware idle. On the CPU, matrix multiplication dominates, and the quality of the inner kernel decides \
    everything else. Measuring all of this honestly means warming up, repeating, and reporting the spread as well as \
    the median, on the same machine, in the same run, with the same inputs for every engine being compared.";

const TOKENS_LONG: usize = 128;

/// One timed input: a batch of texts and our tokenizer's ids for them.
#[derive(Debug, Clone, Serialize)]
pub struct Workload {
    pub label: String,
    pub batch: usize,
    pub tokens: String,
    pub texts: Vec<String>,
    pub ids: Vec<Vec<u32>>,
}

/// The longest prefix of PARAGRAPH (from word `start` on, wrapping) with exactly `target`
/// tokens including [CLS] and [SEP]; single-token words top it up if needed.
fn text_of_tokens(tokenizer: &TextTokenizer, start: usize, target: usize) -> Result<String> {
    let words: Vec<&str> = PARAGRAPH.split_whitespace().collect();
    let mut text = String::new();
    for i in 0..words.len() * 4 {
        let candidate = format!("{text} {}", words[(start + i) % words.len()]).trim().to_string();
        if tokenizer.encode(&candidate)?.ids.len() > target {
            break;
        }
        text = candidate;
    }
    for _ in 0..target {
        if tokenizer.encode(&text)?.ids.len() >= target {
            break;
        }
        text.push_str(" and");
    }
    let got = tokenizer.encode(&text)?.ids.len();
    if got != target {
        return Err(HostError::Invalid(format!("could not build a {target}-token text (got {got})")));
    }
    Ok(text)
}

fn workload(tokenizer: &TextTokenizer, label: &str, tokens: &str, texts: Vec<String>) -> Result<Workload> {
    let ids = texts.iter().map(|t| tokenizer.encode(t).map(|e| e.ids)).collect::<std::result::Result<_, _>>()?;
    Ok(Workload { label: label.into(), batch: texts.len(), tokens: tokens.into(), texts, ids })
}

/// The workloads' labels, in the order `workloads` returns them.
pub const WORKLOAD_LABELS: [&str; 4] = ["b1×short", "b1×128", "b8×short", "b8×128"];

/// b1×short first: it is the cold call and the only one run on software GPU adapters.
pub fn workloads(model: &ModelSpec) -> Result<Vec<Workload>> {
    // Counting needs a tokenizer that does not truncate at the target itself.
    let counting = model.tokenizer_truncating_at(4 * TOKENS_LONG)?;
    let long: Vec<String> = (0..8).map(|k| text_of_tokens(&counting, k * 7, TOKENS_LONG)).collect::<Result<_>>()?;
    let tokenizer = model.tokenizer()?;
    let short: Vec<String> = SHORT.iter().map(|s| s.to_string()).collect();
    let [b1_short, b1_long, b8_short, b8_long] = WORKLOAD_LABELS;
    Ok(vec![
        workload(&tokenizer, b1_short, "short", short[..1].to_vec())?,
        workload(&tokenizer, b1_long, "128", long[..1].to_vec())?,
        workload(&tokenizer, b8_short, "short", short)?,
        workload(&tokenizer, b8_long, "128", long)?,
    ])
}

/// The committed reference sentences and embeddings for a model.
pub struct ReferenceSet {
    pub workload: Workload,
    pub embeddings: Vec<Vec<f64>>,
}

const NUMPY_L6: &str = include_str!("../../../../sdk-wasm/tests/data/minilm_embeddings.json");
const ONNX_RUNTIME: &str = include_str!("../../../../sdk-wasm/tests/data/onnx_minilm_embeddings.json");

pub fn reference(model: &ModelSpec) -> Result<ReferenceSet> {
    let json: Value = match model.reference {
        Reference::NumpyL6 => serde_json::from_str(NUMPY_L6),
        Reference::OnnxRuntime(key) => serde_json::from_str::<Value>(ONNX_RUNTIME).map(|v| v["models"][key].clone()),
    }
    .map_err(|e| HostError::Invalid(format!("reference data: {e}")))?;
    let sentences = json["sentences"].as_array().ok_or_else(|| HostError::Invalid(format!("no reference sentences for {}", model.name)))?;
    let texts: Vec<String> = sentences.iter().filter_map(|s| s["text"].as_str().map(String::from)).collect();
    let embeddings = sentences
        .iter()
        .map(|s| s["embedding"].as_array().map(|a| a.iter().filter_map(Value::as_f64).collect()).unwrap_or_default())
        .collect();
    Ok(ReferenceSet { workload: workload(&model.tokenizer()?, "reference", "mixed", texts)?, embeddings })
}

impl ReferenceSet {
    /// Largest 1 − cosine between `got` and the reference, over all sentences.
    pub fn worst_error(&self, got: &[Vec<f32>]) -> Result<f64> {
        if got.len() != self.embeddings.len() {
            return Err(HostError::Invalid(format!("{} embeddings for {} reference sentences", got.len(), self.embeddings.len())));
        }
        Ok(got.iter().zip(&self.embeddings).map(|(g, w)| 1.0 - cosine(g, w)).fold(0.0, f64::max))
    }
}

fn cosine(a: &[f32], b: &[f64]) -> f64 {
    if a.len() != b.len() {
        return 0.0;
    }
    let dot: f64 = a.iter().zip(b).map(|(&x, y)| x as f64 * y).sum();
    let na = a.iter().map(|&x| (x as f64).powi(2)).sum::<f64>().sqrt();
    let nb = b.iter().map(|y| y * y).sum::<f64>().sqrt();
    dot / (na * nb).max(1e-30)
}
