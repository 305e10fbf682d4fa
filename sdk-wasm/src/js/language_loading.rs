//! Loading a text-generation model in the page: one GGUF file through `model_files` (the
//! manifest's only `.gguf` file unless `file` names one), then the decoder on the device.

use super::model_files::{base_url, options_json, FileRequest};
use super::weight_cache::Cache;
use crate::device::Device;
use crate::error::{Error, Result};
use crate::models::language_model::LanguageModel;
use crate::store::ModelManifest;
use serde::Deserialize;
use wasm_bindgen::JsValue;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawOptions {
    file: Option<String>,
    gateway: Option<String>,
    manifest: Option<serde_json::Value>,
}

pub(super) struct LanguageLoadOptions {
    file: Option<String>,
    gateway: Option<String>,
    manifest: Option<ModelManifest>,
}

impl LanguageLoadOptions {
    pub(super) fn from_js(value: &JsValue) -> Result<LanguageLoadOptions> {
        let raw: RawOptions = serde_json::from_str(&options_json(value)).map_err(|e| Error::Model(format!("load options: {e}")))?;
        let manifest = raw.manifest.map(|m| ModelManifest::from_json(&m.to_string())).transpose()?;
        Ok(LanguageLoadOptions { file: raw.file, gateway: raw.gateway.as_deref().map(base_url), manifest })
    }
}

pub(super) struct LoadedLanguage {
    pub model: LanguageModel,
    pub name: String,
    pub report: String,
}

/// The GGUF file to read: the one named, else the manifest's only `.gguf` file.
fn gguf_path(manifest: Option<&ModelManifest>, file: Option<&str>, base: &str) -> Result<String> {
    if let Some(f) = file {
        return Ok(f.to_string());
    }
    let Some(m) = manifest else {
        return Err(Error::Model(format!("{base} has no manifest.json; pass {{ file: \"<name>.gguf\" }} to name the weights")));
    };
    let ggufs: Vec<&str> = m.files.iter().map(|f| f.path.as_str()).filter(|p| p.ends_with(".gguf")).collect();
    match ggufs.as_slice() {
        [one] => Ok(one.to_string()),
        [] => Err(Error::Model(format!("model {} lists no .gguf file", m.name))),
        many => Err(Error::Model(format!("model {} lists several .gguf files ({}); pass {{ file }} to pick one", m.name, many.join(", ")))),
    }
}

pub(super) async fn load_language_model(
    url: &str,
    options: &LanguageLoadOptions,
    device: &Device,
    cache: &Cache,
    in_use: &[String],
    on_progress: Option<&js_sys::Function>,
    signal: Option<web_sys::AbortSignal>,
) -> Result<LoadedLanguage> {
    let base = base_url(url);
    let request = FileRequest { base: &base, manifest: options.manifest.clone(), gateway: options.gateway.clone(), on_progress, signal };
    let manifest = request.manifest().await?;
    let path = gguf_path(manifest.as_ref(), options.file.as_deref(), &base)?;
    let mut loaded = request.fetch(manifest, &[path.as_str()], cache, in_use).await?;
    let bytes = loaded.take(&path)?;
    let start = crate::clock::now_ms();
    let model = LanguageModel::from_gguf_bytes(&bytes, device).map_err(|e| Error::Model(format!("loading {base}{path}: {e}")))?;
    drop(bytes);
    let mut report = loaded.report;
    report.build_ms = Some(crate::clock::now_ms() - start);
    report.finite_scan_ms = Some(model.model().finite_scan_ms());
    report.file = Some(path);
    Ok(LoadedLanguage { model, name: loaded.name, report: report.to_json() })
}
