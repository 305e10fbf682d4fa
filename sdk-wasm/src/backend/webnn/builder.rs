//! Calls into the browser's WebNN objects by name (the API is newer than web-sys's bindings):
//! every call's failure comes back as an error naming the method and the browser's message.

use crate::core::{Error, Result};
use js_sys::{Array, Function, Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};

pub(crate) fn webnn_error(what: &str, e: JsValue) -> Error {
    let message =
        Reflect::get(&e, &"message".into()).ok().and_then(|m| m.as_string()).or_else(|| e.as_string()).unwrap_or_else(|| format!("{e:?}"));
    Error::Gpu(format!("WebNN {what}: {message}"))
}

/// `target[method](...args)`.
pub(crate) fn call(target: &JsValue, method: &str, args: &[&JsValue]) -> Result<JsValue> {
    let f: Function = Reflect::get(target, &method.into())
        .map_err(|e| webnn_error(method, e))?
        .dyn_into()
        .map_err(|_| Error::Gpu(format!("WebNN: {method} is not a function in this browser")))?;
    let list = Array::new();
    for a in args {
        list.push(a);
    }
    f.apply(target, &list).map_err(|e| webnn_error(method, e))
}

/// `await target[method](...args)`.
pub(crate) async fn call_async(target: &JsValue, method: &str, args: &[&JsValue]) -> Result<JsValue> {
    let promise: js_sys::Promise =
        call(target, method, args)?.dyn_into().map_err(|_| Error::Gpu(format!("WebNN: {method} did not return a promise")))?;
    wasm_bindgen_futures::JsFuture::from(promise).await.map_err(|e| webnn_error(method, e))
}

/// A plain JS object from key/value pairs.
pub(crate) fn object(entries: &[(&str, JsValue)]) -> JsValue {
    let o = Object::new();
    for (k, v) in entries {
        let _ = Reflect::set(&o, &(*k).into(), v);
    }
    o.into()
}

pub(crate) fn shape_array(dims: &[usize]) -> JsValue {
    dims.iter().map(|&d| JsValue::from(d as u32)).collect::<Array>().into()
}

pub(crate) fn descriptor(data_type: &str, dims: &[usize]) -> JsValue {
    object(&[("dataType", data_type.into()), ("shape", shape_array(dims))])
}
