//! The TypeScript declarations the npm package ships (npm/index.d.ts, npm/bench.d.ts) cannot
//! drift from the Rust types whose JSON crosses the wasm boundary: each Rust value is
//! serialised, and its keys must be exactly the interface's fields (an optional field may be
//! absent); each enum's variants must be exactly the string union that types it.

use ipfs_accelerate::backend::cpu::profile::OpTotal;
use ipfs_accelerate::backend::AdapterSummary;
use ipfs_accelerate::bench::CaseOutcome;
use ipfs_accelerate::models::generation::{FinishReason, GenerateResult, Generated};
use ipfs_accelerate::share::EmbeddingCacheStats;
use ipfs_accelerate::store::{
    CacheUsage, FileOrigin, LoadPhase, LoadProgress, LoadReport, LoadTimings, LoadedModel, ManifestFile, ManifestSlice, ModelManifest,
    PartLoadReport, StoredCheck, Trust,
};
use ipfs_accelerate::weights::Cid;
use serde::Serialize;
use std::collections::BTreeSet;

const INDEX_D_TS: &str = include_str!("../../npm/index.d.ts");
const BENCH_D_TS: &str = include_str!("../../npm/bench.d.ts");

/// The body of `export interface NAME {…}` (up to the first line that is just `}`).
fn interface<'a>(dts: &'a str, name: &str) -> &'a str {
    let head = format!("export interface {name} ");
    let start = dts.find(&head).unwrap_or_else(|| panic!("no interface {name}"));
    let body = &dts[start..];
    let end = body.find("\n}").unwrap_or_else(|| panic!("interface {name} never closes"));
    &body[..end]
}

/// Field names of an interface, with whether each is optional (top-level lines only: nested
/// object types sit on the same line as their field).
fn fields(dts: &str, name: &str) -> Vec<(String, bool)> {
    interface(dts, name)
        .lines()
        .skip(1)
        .filter(|line| {
            line.starts_with("  ")
                && !line.starts_with("   ")
                && !line.trim_start().starts_with("/*")
                && !line.trim_start().starts_with('*')
        })
        .filter_map(|line| {
            let line = line.trim();
            let (field, _) = line.split_once(':')?;
            let field = field.trim_start_matches("readonly ");
            let field = field.split('(').next()?;
            Some((field.trim_end_matches('?').to_string(), field.ends_with('?')))
        })
        .collect()
}

fn keys(value: &impl Serialize) -> BTreeSet<String> {
    match serde_json::to_value(value).unwrap() {
        serde_json::Value::Object(map) => map.keys().cloned().collect(),
        other => panic!("not an object: {other}"),
    }
}

/// The Rust value's keys are the interface's fields: none undeclared, none required missing.
fn assert_matches(dts: &str, name: &str, rust_keys: BTreeSet<String>) {
    let declared = fields(dts, name);
    let all: BTreeSet<String> = declared.iter().map(|(f, _)| f.clone()).collect();
    let required: BTreeSet<String> = declared.iter().filter(|(_, optional)| !optional).map(|(f, _)| f.clone()).collect();
    let undeclared: Vec<_> = rust_keys.difference(&all).collect();
    let missing: Vec<_> = required.difference(&rust_keys).collect();
    assert!(
        undeclared.is_empty() && missing.is_empty(),
        "{name}: sent but not declared {undeclared:?}; declared but never sent {missing:?}"
    );
}

/// The string literals of a union type written after `prefix` on one line.
fn union_after(dts: &str, prefix: &str) -> BTreeSet<String> {
    let start = dts.find(prefix).unwrap_or_else(|| panic!("no {prefix}")) + prefix.len();
    let line = dts[start..].lines().next().unwrap_or_default();
    line.split('|')
        .map(|part| part.trim().trim_end_matches(';').trim_end_matches('>').trim_matches('"').to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

fn json_strings<T: Serialize>(values: &[T]) -> BTreeSet<String> {
    values.iter().map(|v| serde_json::to_value(v).unwrap().as_str().unwrap().to_string()).collect()
}

#[test]
fn adapter_summary_and_stats() {
    assert_matches(INDEX_D_TS, "AdapterSummary", keys(&AdapterSummary::default()));
    assert_matches(INDEX_D_TS, "EmbeddingCacheStats", keys(&EmbeddingCacheStats::default()));
    assert_matches(BENCH_D_TS, "OpTotal", keys(&OpTotal::default()));
}

#[test]
fn load_progress_timings_and_cache_usage() {
    let progress = LoadProgress { file: "f".into(), loaded: 1, total: 2, origin: FileOrigin::Network, phase: LoadPhase::Download };
    assert_matches(INDEX_D_TS, "LoadProgress", keys(&progress));
    assert_matches(INDEX_D_TS, "LoadTimings", keys(&LoadTimings::default()));
    let usage = CacheUsage { bytes: 1, partial_bytes: 0, models: 1, files: 1, budget: None, quota: None };
    assert_matches(INDEX_D_TS, "CacheUsage", keys(&usage));
}

#[test]
fn manifests() {
    let file = ManifestFile { path: "model.safetensors".into(), cid: Cid::of(b"x"), size: 1 };
    let slice = ManifestSlice { file: file.path.clone(), name: "__header__".into(), cid: Cid::of(b"y"), offset: 0, size: 1 };
    let manifest = ModelManifest { name: "m".into(), version: "v".into(), files: vec![file.clone()], slices: vec![slice.clone()] };
    assert_matches(INDEX_D_TS, "ManifestFile", keys(&file));
    assert_matches(INDEX_D_TS, "ManifestSlice", keys(&slice));
    assert_matches(INDEX_D_TS, "ModelManifest", keys(&manifest));
}

#[test]
fn load_reports() {
    let origins: std::collections::BTreeMap<String, FileOrigin> = [("model.safetensors".to_string(), FileOrigin::Cache)].into();
    // A first use sends only what every report has: the required fields.
    let first_use = LoadReport::first_use(origins.clone(), 1, "v1");
    assert_matches(INDEX_D_TS, "LoadReport", keys(&first_use));
    // Every optional field filled: each must be declared.
    let checks = [("model.safetensors".to_string(), StoredCheck::ChunkSums)].into();
    let loaded = LoadedModel { origins: origins.clone(), checks, store_error: Some("disk full".into()), ..LoadedModel::default() };
    let part = PartLoadReport { files: origins, network_bytes: 1, layers: [0, 3], weight_bytes: 2 };
    let full = LoadReport {
        build_ms: Some(1.0),
        finite_scan_ms: Some(0.5),
        tensor_ids_remembered: Some(true),
        file: Some("model.gguf".into()),
        part: Some(part.clone()),
        ..LoadReport::verified(&loaded, Trust::Manifest, "v1")
    };
    assert!(full.timings.is_some());
    assert_matches(INDEX_D_TS, "LoadReport", keys(&full));
    assert_matches(INDEX_D_TS, "PartLoadReport", keys(&part));
    let trusts = [Trust::Manifest, Trust::FirstUse];
    for t in trusts {
        match t {
            Trust::Manifest | Trust::FirstUse => {}
        }
    }
    assert_eq!(json_strings(&trusts), union_after(interface(INDEX_D_TS, "LoadReport"), "trust:"));
    let stored_checks = [StoredCheck::ChunkSums, StoredCheck::Cid];
    for c in stored_checks {
        match c {
            StoredCheck::ChunkSums | StoredCheck::Cid => {}
        }
    }
    assert_eq!(json_strings(&stored_checks), union_after(interface(INDEX_D_TS, "LoadReport"), "storedChecks?: Record<string, "));
}

#[test]
fn generate_results() {
    let generated =
        Generated { prompt_ids: vec![1, 2], ids: vec![3], text: "Paris".into(), finish: FinishReason::Eos, ..Generated::default() };
    assert_matches(INDEX_D_TS, "GenerateResult", keys(&GenerateResult::from(&generated)));
    let reasons = [FinishReason::Eos, FinishReason::Length, FinishReason::Context, FinishReason::Cancelled];
    for r in reasons {
        match r {
            FinishReason::Eos | FinishReason::Length | FinishReason::Context | FinishReason::Cancelled => {}
        }
    }
    assert_eq!(json_strings(&reasons), union_after(interface(INDEX_D_TS, "GenerateResult"), "finishReason:"));
}

#[test]
fn kernel_outcomes() {
    let outcome = CaseOutcome { samples_ms: vec![1.0], warmup: 1, adapter: AdapterSummary::default(), output: vec![] };
    let mut sent = keys(&outcome);
    // `runKernelCase` (sdk-wasm/src/js/mod.rs) adds the output, encoded, beside the struct's fields.
    sent.insert("outputF32Base64".into());
    assert_matches(BENCH_D_TS, "CaseOutcome", sent);
}

#[test]
fn enums_are_their_unions() {
    // Exhaustive matches: a new variant does not compile until it is listed here (and typed).
    let origins = [FileOrigin::Cache, FileOrigin::Network, FileOrigin::Resumed, FileOrigin::Refetched, FileOrigin::Uncached];
    for o in origins {
        match o {
            FileOrigin::Cache | FileOrigin::Network | FileOrigin::Resumed | FileOrigin::Refetched | FileOrigin::Uncached => {}
        }
    }
    assert_eq!(json_strings(&origins), union_after(INDEX_D_TS, "export type FileOrigin ="));
    let phases = [LoadPhase::Read, LoadPhase::Download, LoadPhase::Verify];
    for p in phases {
        match p {
            LoadPhase::Read | LoadPhase::Download | LoadPhase::Verify => {}
        }
    }
    assert_eq!(json_strings(&phases), union_after(interface(INDEX_D_TS, "LoadProgress"), "phase:"));
}
