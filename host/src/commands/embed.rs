//! `accelerate run` (embedding models): embed texts with one model on one native backend,
//! print the head of each embedding and where the time went.

use super::software_flag;
use crate::backends::{ModelSpec, NativeEmbedder};
use crate::error::Result;
use std::time::Instant;

pub async fn run(model: &str, backend: &str, texts: &[String], head: usize) -> Result<String> {
    let spec = ModelSpec::find(model)?;
    let tokenizer = spec.tokenizer()?;
    let t0 = Instant::now();
    let encodings = texts.iter().map(|t| tokenizer.encode(t)).collect::<std::result::Result<Vec<_>, _>>()?;
    let tokenize_ms = t0.elapsed().as_secs_f64() * 1e3;
    let t1 = Instant::now();
    let mut embedder = NativeEmbedder::load(backend, spec).await?;
    let load_ms = t1.elapsed().as_secs_f64() * 1e3;
    let t2 = Instant::now();
    let embeddings = embedder.embed(&encodings).await?;
    let embed_ms = t2.elapsed().as_secs_f64() * 1e3;
    let adapter = embedder.adapter();
    let mut out = format!("model {} ({}) on {backend}: {}{}\n", spec.name, spec.description, adapter.name, software_flag(&adapter));
    for ((text, enc), e) in texts.iter().zip(&encodings).zip(&embeddings) {
        let shown: Vec<String> = e.iter().take(head).map(|v| format!("{v:+.5}")).collect();
        out += &format!(
            "{:?} ({} tokens) → [{}{}] ({} dims)\n",
            text,
            enc.ids.len(),
            shown.join(", "),
            if e.len() > head { ", …" } else { "" },
            e.len()
        );
    }
    out += &format!("tokenize {tokenize_ms:.1} ms, load {load_ms:.1} ms, embed {embed_ms:.1} ms (first call, {} texts)\n", texts.len());
    Ok(out)
}
