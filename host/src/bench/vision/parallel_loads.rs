//! The product's parallel-loading promise ("parallel loading cuts multimodal load time by
//! 30–45%"), measured in a real browser: the ViT and a text model (MiniLM-L6) loaded through
//! one Accelerator one after another and both at once, from an emptied IndexedDB cache (the
//! files over the network, verified and stored) and from the cache. The two orders alternate
//! from sample to sample.

use crate::bench::record::{CaseRecord, CaseStatus};
use crate::browser::BrowserSession;
use serde_json::{json, Value};

const KERNEL: &str = "vit-focus + all-minilm-l6-v2";
const IMAGE_URL: &str = "/models/vit-focus/";
const TEXT_URL: &str = "/models/all-minilm-l6-v2/";

fn shape(parallel: bool, cold: bool) -> String {
    format!("load {}, {}", if parallel { "in parallel" } else { "one after another" }, if cold { "cold" } else { "IndexedDB" })
}

/// The four cases (sequential/parallel × cold/IndexedDB) in one browser session.
pub async fn cases(session: &BrowserSession, samples: u32) -> Vec<CaseRecord> {
    let mut records = Vec::new();
    for cold in [true, false] {
        let mut ms = [Vec::new(), Vec::new()];
        let mut network = [0.0, 0.0];
        let mut error = None;
        // One untimed pair first: the cache then holds both models for the warm rounds.
        for k in 0..=samples {
            for parallel in if k % 2 == 0 { [false, true] } else { [true, false] } {
                let spec = json!({ "parallel": parallel, "cold": cold });
                match session.call("parallelLoads", vec![IMAGE_URL.into(), TEXT_URL.into(), spec]).await {
                    Ok(r) if k > 0 => {
                        ms[usize::from(parallel)].push(r["ms"].as_f64().unwrap_or(f64::NAN));
                        network[usize::from(parallel)] = r["networkBytes"].as_array().into_iter().flatten().filter_map(Value::as_f64).sum();
                    }
                    Ok(_) => {}
                    Err(e) => error = Some(e.to_string()),
                }
            }
        }
        for parallel in [false, true] {
            let shape = shape(parallel, cold);
            records.push(match &error {
                Some(e) => CaseRecord::failed(KERNEL, &shape, CaseStatus::Error, e),
                None => {
                    let i = usize::from(parallel);
                    let params = json!({ "models": ["vit-focus", "all-minilm-l6-v2"], "parallel": parallel, "cold": cold, "network_bytes": network[i] });
                    CaseRecord::timed(KERNEL, &shape, params, 1, std::mem::take(&mut ms[i]), 0.0)
                }
            });
        }
    }
    records
}
