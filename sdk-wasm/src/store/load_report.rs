//! A loaded model's `loadReport` (the npm package's `LoadReport`): where each file came from,
//! how its bytes were trusted, where the time went. Built as this type and serialised as is,
//! so sdk-wasm/tests/js_types.rs can hold the declarations to it.

use super::{FileOrigin, LoadTimings, LoadedModel, StoredCheck};
use serde::Serialize;
use std::collections::BTreeMap;

/// How the files' ids were known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Trust {
    /// From the model's manifest.json.
    Manifest,
    /// Computed on the first download of a URL without a manifest, and pinned for later loads.
    FirstUse,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoadReport {
    pub files: BTreeMap<String, FileOrigin>,
    pub network_bytes: u64,
    /// Whether the bytes were checked against ids known before this load.
    pub verified: bool,
    pub trust: Trust,
    pub version: String,
    /// How each file read from the store was checked.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub stored_checks: BTreeMap<String, StoredCheck>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timings: Option<LoadTimings>,
    /// Building the model from its files.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub build_ms: Option<f64>,
    /// Of `build_ms`, scanning the weights for NaN and infinity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finite_scan_ms: Option<f64>,
    /// Whether the weight file's tensor ids were remembered from an earlier load.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tensor_ids_remembered: Option<bool>,
    /// The weight file read (language models: the GGUF file).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub part: Option<PartLoadReport>,
    /// Why the files were not stored: the store failed during the load (a full disk, say).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub store_error: Option<String>,
}

/// With `layers`: how the part's tensors were loaded.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PartLoadReport {
    /// By `file#tensor`.
    pub files: BTreeMap<String, FileOrigin>,
    pub network_bytes: u64,
    pub layers: [usize; 2],
    pub weight_bytes: u64,
}

impl LoadReport {
    /// The report of files the cache loaded and verified (`loaded`), their ids trusted by `trust`.
    pub fn verified(loaded: &LoadedModel, trust: Trust, version: &str) -> LoadReport {
        LoadReport {
            verified: true,
            trust,
            timings: Some(loaded.timings),
            stored_checks: loaded.checks.clone(),
            store_error: loaded.store_error.clone(),
            ..LoadReport::first_use(loaded.origins.clone(), loaded.network_bytes, version)
        }
    }

    /// The report of files downloaded and trusted on this first use: nothing to verify them against.
    pub fn first_use(files: BTreeMap<String, FileOrigin>, network_bytes: u64, version: &str) -> LoadReport {
        LoadReport {
            files,
            network_bytes,
            verified: false,
            trust: Trust::FirstUse,
            version: version.to_string(),
            stored_checks: BTreeMap::new(),
            timings: None,
            build_ms: None,
            finite_scan_ms: None,
            tensor_ids_remembered: None,
            file: None,
            part: None,
            store_error: None,
        }
    }

    /// As JSON text (what `loadReport` parses).
    pub fn to_json(&self) -> String {
        // Only string keys and plain values: serialising cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}
