//! The vision suite on native backends: ours (CPU, wgpu) and ONNX Runtime on the same file.

use super::inputs::{flops_per_image, references, workloads, worst_error};
use super::{case, Options};
use crate::backends::image_model::NativeImageModel;
use crate::bench::progress;
use crate::bench::record::{CaseRecord, CaseStatus, EnvRecord};
use crate::bench::software::skipped_by_quick;
use std::time::Instant;

const KERNEL: &str = "vit-focus";

fn ms_since(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}

pub async fn run(backend: &str, label: &str, opts: &Options) -> EnvRecord {
    let failed = |shape: &str, e: String| EnvRecord::new(label, Default::default(), vec![CaseRecord::failed(KERNEL, shape, CaseStatus::Error, &e)]);
    let refs = match references() {
        Ok(r) => r,
        Err(e) => return failed("inputs", e.to_string()),
    };
    let t = Instant::now();
    let mut model = match NativeImageModel::load(backend).await {
        Ok(m) => m,
        Err(e) => return failed("load", e.to_string()),
    };
    let load_ms = ms_since(t);
    let adapter = model.adapter();
    if adapter.software && opts.quick {
        return skipped_by_quick(label, adapter, KERNEL, "one image takes seconds");
    }
    progress(format!("{label}: {KERNEL} on {}", adapter.name));
    let work = workloads(&refs);
    let mut records = vec![case("load", 0, 0, vec![load_ms])];
    let t = Instant::now();
    records.push(match model.run(&work[0].images).await {
        Ok(_) => case("first call b1", 1, 0, vec![ms_since(t)]),
        Err(e) => CaseRecord::failed(KERNEL, "first call b1", CaseStatus::Error, &e.to_string()),
    });
    for (i, w) in work.iter().enumerate() {
        if adapter.software && i > 0 {
            let why = "software adapter (CPU-emulated GPU): only b1 is run";
            records.push(CaseRecord::failed(KERNEL, w.label, CaseStatus::Unavailable, why));
            continue;
        }
        let samples = if adapter.software { opts.samples.min(3) } else { opts.samples };
        let mut ms = Vec::new();
        let mut failure = None;
        for k in 0..opts.warmup + samples {
            let t = Instant::now();
            if let Err(e) = model.run(&w.images).await {
                failure = Some(e.to_string());
                break;
            }
            if k >= opts.warmup {
                ms.push(ms_since(t));
            }
        }
        records.push(match failure {
            None => {
                let mut rec = case(w.label, w.images.len(), opts.warmup, ms);
                rec.gflops = rec.stats.filter(|s| s.median > 0.0).map(|s| flops_per_image() * w.images.len() as f64 / (s.median * 1e6));
                rec
            }
            Some(e) => CaseRecord::failed(KERNEL, w.label, CaseStatus::Error, &e),
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
