//! Models that load one weight file (a language model's GGUF, an image model's ONNX): their
//! load options, which file to read (`file`, else the manifest's only file of the model's
//! kind), and fetching it through `model_files`.

use super::model_files::{base_url, options_json, FileRequest, ModelFiles};
use super::weight_cache::Cache;
use crate::error::{Error, Result};
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

/// The fetched file: its bytes, its path under `base`, and the load so far.
pub(super) struct SingleFile {
    pub base: String,
    pub path: String,
    pub bytes: Vec<u8>,
    pub loaded: ModelFiles,
}

/// What a model kind reads: files ending in `extension`; `preferred` among several.
pub(super) struct FileKind<'a> {
    pub extension: &'a str,
    pub preferred: Option<&'a str>,
}

pub(super) async fn fetch_single_file(
    url: &str,
    options: &SingleFileOptions,
    kind: FileKind<'_>,
    cache: &Cache,
    in_use: &[String],
    on_progress: Option<&js_sys::Function>,
    signal: Option<web_sys::AbortSignal>,
) -> Result<SingleFile> {
    let base = base_url(url);
    let request = FileRequest { base: &base, manifest: options.manifest.clone(), gateway: options.gateway.clone(), on_progress, signal };
    let manifest = request.manifest().await?;
    let path = pick_file(manifest.as_ref(), options.file.as_deref(), &base, kind.extension, kind.preferred)?;
    let mut loaded = request.fetch(manifest, &[path.as_str()], cache, in_use).await?;
    let bytes = loaded.take(&path)?;
    Ok(SingleFile { base, path, bytes, loaded })
}
