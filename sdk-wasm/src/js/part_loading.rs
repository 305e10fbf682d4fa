//! One shard stage's part of a BERT model in the page: the slices `PartSlices` names, each
//! fetched as a byte range of the weight file, verified against its own CID and cached under
//! it. Nothing else of the file is read.

use super::model_files::FileRequest;
use super::weight_cache::Cache;
use crate::core::error::{Error, Result};
use crate::models::bert::{BertConfig, PartSlices};
use crate::store::{slice_path, ModelManifest, PartLoadReport, SliceFetcher};
use crate::weights::{Cid, TensorSlices};
use std::collections::BTreeMap;
use std::ops::Range;

pub(super) struct Part {
    pub weights: TensorSlices,
    pub report: PartLoadReport,
    pub tensor_ids: BTreeMap<String, Cid>,
}

/// `bytes` as MiB with one decimal, for messages.
fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1u64 << 20) as f64)
}

/// Refuse weights over `budget` before anything is fetched.
pub(super) fn check_budget(what: &str, bytes: u64, budget: Option<u64>) -> Result<()> {
    match budget {
        Some(budget) if bytes > budget => {
            Err(Error::Model(format!("{what} need {} of weights; the weight budget is {}", mib(bytes), mib(budget))))
        }
        _ => Ok(()),
    }
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn fetch_part(
    request: &FileRequest<'_>,
    manifest: &ModelManifest,
    weights: &str,
    config: &BertConfig,
    layers: &Range<usize>,
    budget: Option<u64>,
    cache: &Cache,
    in_use: &[String],
) -> Result<Part> {
    let part = PartSlices::of(manifest, weights, config, layers)?;
    check_budget(&format!("layers {layers:?} of {}", manifest.name), part.bytes, budget)?;
    let wanted = part.all();
    let http = request.http();
    let name = format!("{} layers {}..{}", manifest.name, layers.start, layers.end);
    let (derived, fetcher) = SliceFetcher::over(&http, manifest, &wanted, name)?;
    let paths: Vec<String> = wanted.iter().map(|s| slice_path(s)).collect();
    let paths: Vec<&str> = paths.iter().map(String::as_str).collect();
    let mut files = request.fetch_verified(&derived, &paths, &fetcher, cache, in_use).await?;
    let (weights, tensor_ids) = part.weights(manifest, &mut files.files)?;
    let report = PartLoadReport {
        files: files.report.files,
        network_bytes: files.report.network_bytes,
        layers: [layers.start, layers.end],
        weight_bytes: part.bytes,
    };
    Ok(Part { weights, report, tensor_ids })
}
