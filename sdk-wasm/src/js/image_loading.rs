//! Loading an image model in the page: one ONNX file (the manifest's only `.onnx` file unless
//! `file` names one), its weights read onto the device.

use super::single_file::{fetch_single_file, FileKind, SingleFileOptions};
use super::weight_cache::Cache;
use crate::device::Device;
use crate::error::{Error, Result};
use crate::models::vit::VitFocus;

pub(super) struct LoadedImageModel {
    pub model: VitFocus,
    pub name: String,
    pub report: String,
}

pub(super) async fn load_image_model(
    url: &str,
    options: &SingleFileOptions,
    device: &Device,
    cache: &Cache,
    in_use: &[String],
    on_progress: Option<&js_sys::Function>,
    signal: Option<web_sys::AbortSignal>,
) -> Result<LoadedImageModel> {
    let file =
        fetch_single_file(url, options, FileKind { extension: ".onnx", preferred: None }, cache, in_use, on_progress, signal).await?;
    let start = crate::clock::now_ms();
    let model =
        VitFocus::from_onnx(&file.bytes, device).await.map_err(|e| Error::Model(format!("loading {}{}: {e}", file.base, file.path)))?;
    drop(file.bytes);
    let mut report = file.loaded.report;
    report.build_ms = Some(crate::clock::now_ms() - start);
    report.file = Some(file.path);
    Ok(LoadedImageModel { model, name: file.loaded.name, report: report.to_json() })
}
