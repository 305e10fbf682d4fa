//! The `ImageModel` class the npm package wraps: RGBA pixels in (the package decodes Blobs
//! and bitmaps with the browser's own decoder), a saliency heatmap and a CLS vector out.

use super::js_error;
use super::single_file::FileKind;
use crate::device::Device;
use crate::models::vit::{VitFocus, INPUT_SIZE};
use crate::vision::RgbImage;
use futures_util::future::LocalBoxFuture;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

pub(super) const FILE_KIND: FileKind<'static> = FileKind::One { extension: ".onnx", preferred: None };

/// The model from its ONNX bytes, on `device`.
pub(super) fn build(files: Vec<Vec<u8>>, device: Device) -> LocalBoxFuture<'static, crate::error::Result<(VitFocus, Option<f64>)>> {
    Box::pin(async move { Ok((VitFocus::from_onnx(&super::single_file::only(files)?, &device).await?, None)) })
}

/// An image model (ViT saliency, from an ONNX file) in the page.
#[wasm_bindgen]
pub struct ImageModel {
    inner: Rc<VitFocus>,
    name: String,
    load_report: String,
}

impl ImageModel {
    pub(super) fn new(inner: Rc<VitFocus>, name: String, load_report: String) -> ImageModel {
        ImageModel { inner, name, load_report }
    }
}

fn set(target: &js_sys::Object, key: &str, value: &JsValue) -> Result<(), JsValue> {
    js_sys::Reflect::set(target, &key.into(), value).map(|_| ())
}

#[wasm_bindgen]
impl ImageModel {
    #[wasm_bindgen(getter)]
    pub fn name(&self) -> String {
        self.name.clone()
    }

    /// The square side images are fitted into.
    #[wasm_bindgen(getter, js_name = inputSize)]
    pub fn input_size(&self) -> usize {
        INPUT_SIZE
    }

    /// Width of each result's `embedding`.
    #[wasm_bindgen(getter, js_name = embeddingWidth)]
    pub fn embedding_width(&self) -> usize {
        self.inner.embedding_width()
    }

    #[wasm_bindgen(getter, js_name = loadReport)]
    pub fn load_report(&self) -> Result<JsValue, JsValue> {
        js_sys::JSON::parse(&self.load_report)
    }

    /// One image as RGBA bytes (`ImageData.data`) → `{heatmap: {width, height, data}, embedding}`.
    pub fn run(&self, rgba: Vec<u8>, width: usize, height: usize) -> js_sys::Promise {
        let inner = Rc::clone(&self.inner);
        wasm_bindgen_futures::future_to_promise(async move {
            let image = RgbImage::from_rgba(width, height, &rgba).map_err(js_error)?;
            drop(rgba);
            let result = inner.run(&[image]).await.map_err(js_error)?.remove(0);
            let heatmap = js_sys::Object::new();
            set(&heatmap, "width", &result.heatmap.width.into())?;
            set(&heatmap, "height", &result.heatmap.height.into())?;
            set(&heatmap, "data", &js_sys::Float32Array::from(result.heatmap.values.as_slice()).into())?;
            let out = js_sys::Object::new();
            set(&out, "heatmap", &heatmap.into())?;
            set(&out, "embedding", &js_sys::Float32Array::from(result.embedding.as_slice()).into())?;
            Ok(out.into())
        })
    }
}
