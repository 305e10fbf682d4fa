//! Models that load a known set of files — one weight file (a language model's GGUF, an image
//! model's or the voice detector's ONNX: `file`, else the manifest's only file of the model's
//! kind, else its preferred one) or fixed names (Whisper's model.bin, config.json,
//! tokenizer.json): their load options, fetching the files through `model_files`, and building
//! the model from their bytes.

use super::model_files::{base_url, options_json, FileRequest, ModelFiles};
use super::weight_cache::Cache;
use crate::device::Device;
use crate::error::{Error, Result};
use crate::store::ModelManifest;
use futures_util::future::LocalBoxFuture;
use serde::Deserialize;
use wasm_bindgen::JsValue;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawOptions {
    file: Option<String>,
    gateway: Option<String>,
    manifest: Option<serde_json::Value>,
}

pub(super) struct SingleFileOptions {
    file: Option<String>,
    gateway: Option<String>,
    manifest: Option<ModelManifest>,
}

impl SingleFileOptions {
    pub(super) fn from_js(value: &JsValue) -> Result<SingleFileOptions> {
        let raw: RawOptions = serde_json::from_str(&options_json(value)).map_err(|e| Error::Model(format!("load options: {e}")))?;
        let manifest = raw.manifest.map(|m| ModelManifest::from_json(&m.to_string())).transpose()?;
        Ok(SingleFileOptions { file: raw.file, gateway: raw.gateway.as_deref().map(base_url), manifest })
    }
}

/// The file to read: the one named, else the manifest's only file ending in `extension`, else
/// (several) `preferred` when the manifest lists it.
fn pick_file(manifest: Option<&ModelManifest>, file: Option<&str>, base: &str, extension: &str, preferred: Option<&str>) -> Result<String> {
    if let Some(f) = file {
        return Ok(f.to_string());
    }
    let Some(m) = manifest else {
        return Err(Error::Model(format!("{base} has no manifest.json; pass {{ file: \"<name>{extension}\" }} to name the weights")));
    };
    let found: Vec<&str> = m.files.iter().map(|f| f.path.as_str()).filter(|p| p.ends_with(extension)).collect();
    match (found.as_slice(), preferred) {
        ([one], _) => Ok(one.to_string()),
        (many, Some(p)) if many.contains(&p) => Ok(p.to_string()),
        ([], _) => Err(Error::Model(format!("model {} lists no {extension} file", m.name))),
        (many, _) => Err(Error::Model(format!(
            "model {} lists several {extension} files ({}); pass {{ file }} to pick one",
            m.name,
            many.join(", ")
        ))),
    }
}

/// What a model kind reads.
pub(super) enum FileKind<'a> {
    /// One file ending in `extension`; `preferred` among several.
    One { extension: &'a str, preferred: Option<&'a str> },
    /// These files (the `file` option does not apply).
    Set(&'a [&'a str]),
}

/// A model built from its files' bytes (in the order of its `FileKind`) on a device: the model,
/// and the milliseconds the build spent scanning weights for NaN and infinity where it does.
pub(super) type Build<M> = fn(Vec<Vec<u8>>, Device) -> LocalBoxFuture<'static, Result<(M, Option<f64>)>>;

/// The one file a `FileKind::One` build is given.
pub(super) fn only(mut files: Vec<Vec<u8>>) -> Result<Vec<u8>> {
    files.pop().ok_or_else(|| Error::Model("no file was fetched".into()))
}

pub(super) struct LoadedFile<M> {
    pub model: M,
    pub name: String,
    /// JSON for the model's `loadReport`.
    pub report: String,
}

/// Where the model's requests go and what they are for.
pub(super) struct Request<'a> {
    pub device: &'a Device,
    pub cache: &'a Cache,
    pub in_use: &'a [String],
    pub on_progress: Option<&'a js_sys::Function>,
    pub signal: Option<web_sys::AbortSignal>,
}

/// Fetch the model's files (verified, through the cache) and build the model from them.
pub(super) async fn load_single_file<M>(
    url: &str,
    options: &SingleFileOptions,
    kind: FileKind<'_>,
    r: Request<'_>,
    build: Build<M>,
) -> Result<LoadedFile<M>> {
    let base = base_url(url);
    let (manifest, gateway) = (options.manifest.clone(), options.gateway.clone());
    let request = FileRequest { base: &base, manifest, gateway, on_progress: r.on_progress, signal: r.signal };
    let manifest = request.manifest().await?;
    let paths: Vec<String> = match kind {
        FileKind::One { extension, preferred } => vec![pick_file(manifest.as_ref(), options.file.as_deref(), &base, extension, preferred)?],
        FileKind::Set(paths) => paths.iter().map(|p| p.to_string()).collect(),
    };
    let wanted: Vec<&str> = paths.iter().map(String::as_str).collect();
    let mut loaded: ModelFiles = request.fetch(manifest, &wanted, r.cache, r.in_use).await?;
    let bytes = paths.iter().map(|p| loaded.take(p)).collect::<Result<Vec<_>>>()?;
    let start = crate::clock::now_ms();
    let what = paths.join(", ");
    let (model, finite_scan_ms) =
        build(bytes, r.device.clone()).await.map_err(|e| Error::Model(format!("loading {base} ({what}): {e}")))?;
    let mut report = loaded.report;
    report.build_ms = Some(crate::clock::now_ms() - start);
    report.finite_scan_ms = finite_scan_ms;
    report.file = (paths.len() == 1).then_some(what);
    Ok(LoadedFile { model, name: loaded.name, report: report.to_json() })
}
