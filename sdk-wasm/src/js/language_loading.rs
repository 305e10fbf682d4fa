//! Loading a text-generation model in the page: one GGUF file (the manifest's only `.gguf`
//! file unless `file` names one), then the decoder on the device.

use super::single_file::{fetch_single_file, FileKind, SingleFileOptions};
use super::weight_cache::Cache;
use crate::device::Device;
use crate::error::{Error, Result};
use crate::models::language_model::LanguageModel;

pub(super) struct LoadedLanguage {
    pub model: LanguageModel,
    pub name: String,
    pub report: String,
}

pub(super) async fn load_language_model(
    url: &str,
    options: &SingleFileOptions,
    device: &Device,
    cache: &Cache,
    in_use: &[String],
    on_progress: Option<&js_sys::Function>,
    signal: Option<web_sys::AbortSignal>,
) -> Result<LoadedLanguage> {
    let file =
        fetch_single_file(url, options, FileKind { extension: ".gguf", preferred: None }, cache, in_use, on_progress, signal).await?;
    let start = crate::clock::now_ms();
    let model = LanguageModel::from_gguf_bytes(&file.bytes, device)
        .map_err(|e| Error::Model(format!("loading {}{}: {e}", file.base, file.path)))?;
    drop(file.bytes);
    let mut report = file.loaded.report;
    report.build_ms = Some(crate::clock::now_ms() - start);
    report.finite_scan_ms = Some(model.model().finite_scan_ms());
    report.file = Some(file.path);
    Ok(LoadedLanguage { model, name: file.loaded.name, report: report.to_json() })
}
