//! The vision suite on native backends: ours (CPU, wgpu) and ONNX Runtime on the same file.

use super::inputs::{references, worst_error, WORKLOADS};
use super::{case, failed, timed_batch, Options, KERNEL};
use crate::backends::image_model::NativeImageModel;
use crate::bench::ms_since;
use crate::bench::progress;
use crate::bench::record::{CaseRecord, CaseStatus, EnvRecord};
use crate::bench::software::skipped_by_quick;
use std::time::Instant;

pub async fn run(backend: &str, label: &str, opts: &Options) -> EnvRecord {
    let refs = match references() {
        Ok(r) => r,
        Err(e) => return failed(label, "inputs", e.to_string()),
    };
    let t = Instant::now();
    let mut model = match NativeImageModel::load(backend).await {
        Ok(m) => m,
        Err(e) => return failed(label, "load", e.to_string()),
    };
    let load_ms = ms_since(t);
    let adapter = model.adapter();
    if adapter.software && opts.quick {
        return skipped_by_quick(label, adapter, KERNEL, "one image takes seconds");
    }
    progress(format!("{label}: {KERNEL} on {}", adapter.name));
    let work: Vec<(&str, Vec<_>)> =
        WORKLOADS.iter().map(|w| (w.label, w.of(&refs).into_iter().map(|r| r.image.clone()).collect())).collect();
    let mut records = vec![case("load", 0, 0, vec![load_ms])];
    let t = Instant::now();
    records.push(match model.run(&work[0].1).await {
        Ok(_) => case("first call b1", 1, 0, vec![ms_since(t)]),
        Err(e) => CaseRecord::failed(KERNEL, "first call b1", CaseStatus::Error, &e.to_string()),
    });
    for (i, (label, images)) in work.iter().enumerate() {
        if adapter.software && i > 0 {
            let why = "software adapter (CPU-emulated GPU): only b1 is run";
            records.push(CaseRecord::failed(KERNEL, label, CaseStatus::Unavailable, why));
            continue;
        }
        let samples = if adapter.software { opts.samples.min(3) } else { opts.samples };
        let mut ms = Vec::new();
        let mut failure = None;
        for k in 0..opts.warmup + samples {
            let t = Instant::now();
            if let Err(e) = model.run(images).await {
                failure = Some(e.to_string());
                break;
            }
            if k >= opts.warmup {
                ms.push(ms_since(t));
            }
        }
        records.push(match failure {
            None => timed_batch(label, images.len(), opts.warmup, ms),
            Some(e) => CaseRecord::failed(KERNEL, label, CaseStatus::Error, &e),
        });
    }
    let pictures: Vec<_> = refs.iter().map(|r| r.image.clone()).collect();
    let worst = match model.run(&pictures).await {
        Ok(out) => worst_error(&refs, &out.into_iter().map(|o| o.heatmap).collect::<Vec<_>>()).map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    super::apply_accuracy(&mut records, worst);
    EnvRecord::new(label, adapter, records)
}
