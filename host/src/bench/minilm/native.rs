//! The MiniLM suite on native backends: ours (CPU, wgpu), ONNX Runtime, candle.

use super::cases::{apply_accuracy, for_workload, not_run, timed};
use super::inputs::{reference, workloads};
use super::Options;
use crate::backends::{NativeEmbedder, MODELS};
use crate::bench::ms_since;
use crate::bench::progress;
use crate::bench::record::{CaseRecord, CaseStatus, EnvRecord};
use crate::bench::software::skipped_by_quick;
use ipfs_accelerate::text::Encoding;
use ipfs_accelerate::AdapterSummary;
use std::time::Instant;

fn encodings(ids: &[Vec<u32>]) -> Vec<Encoding> {
    ids.iter().map(|i| Encoding { ids: i.clone(), mask: vec![1; i.len()] }).collect()
}

/// `backend` is one of crate::backends::NATIVE_BACKENDS; the record is labelled `label`.
pub async fn run(backend: &str, label: &str, opts: &Options) -> EnvRecord {
    let mut records: Vec<CaseRecord> = Vec::new();
    let mut adapter = AdapterSummary::default();
    for model in MODELS.iter().filter(|m| opts.only.model(m.name)) {
        let t = Instant::now();
        let mut embedder = match NativeEmbedder::load(backend, model).await {
            Ok(e) => e,
            Err(e) if e.to_string().contains("cannot run model") => continue,
            Err(e) => {
                records.push(not_run(model, "load", CaseStatus::Error, &e.to_string()));
                continue;
            }
        };
        let load_ms = ms_since(t);
        adapter = embedder.adapter();
        if adapter.software && opts.quick {
            return skipped_by_quick(label, adapter, "minilm", "one model takes tens of seconds");
        }
        progress(format!("{label}: {} on {}", model.name, adapter.name));
        let (work, refs) = match (workloads(model), reference(model)) {
            (Ok(w), Ok(r)) => (w.into_iter().filter(|w| opts.only.workload(&w.label)).collect::<Vec<_>>(), r),
            (Err(e), _) | (_, Err(e)) => {
                records.push(not_run(model, "inputs", CaseStatus::Error, &e.to_string()));
                continue;
            }
        };
        if work.is_empty() {
            continue;
        }
        // The cold call runs the first selected workload (b1×short unless a matrix chose others).
        let first_call = format!("first call {}", work[0].label);
        let start = records.len();
        records.push(timed(model, "load", "", 0, 0, vec![load_ms]));
        let t = Instant::now();
        let first = embedder.embed(&encodings(&work[0].ids)).await;
        records.push(match first {
            Ok(_) => timed(model, &first_call, &work[0].tokens, work[0].batch, 0, vec![ms_since(t)]),
            Err(e) => not_run(model, &first_call, CaseStatus::Error, &e.to_string()),
        });
        for (i, w) in work.iter().enumerate() {
            if adapter.software && i > 0 {
                records.push(not_run(
                    model,
                    &w.label,
                    CaseStatus::Unavailable,
                    "software adapter (CPU-emulated GPU): only b1×short is run",
                ));
                continue;
            }
            let batch = encodings(&w.ids);
            let samples = if adapter.software { opts.samples.min(3) } else { opts.samples };
            let mut ms = Vec::new();
            let mut failure = None;
            for k in 0..opts.warmup + samples {
                let t = Instant::now();
                if let Err(e) = embedder.embed(&batch).await {
                    failure = Some(e.to_string());
                    break;
                }
                if k >= opts.warmup {
                    ms.push(ms_since(t));
                }
            }
            records.push(match failure {
                None => for_workload(model, w, opts.warmup, ms),
                Some(e) => not_run(model, &w.label, CaseStatus::Error, &e),
            });
        }
        let worst = embedder
            .embed(&encodings(&refs.workload.ids))
            .await
            .map_err(|e| e.to_string())
            .and_then(|got| refs.worst_error(&got).map_err(|e| e.to_string()));
        apply_accuracy(&mut records[start..], model, label, worst);
    }
    EnvRecord::new(label, adapter, records)
}
