//! SHA-256 by the browser (`crypto.subtle.digest`): native code, several times faster than
//! hashing in wasm, and off the wasm thread's clock. WebCrypto exists only in secure contexts
//! (https, localhost): elsewhere this answers None and the caller hashes in wasm.

use js_sys::{Function, Promise, Reflect, Uint8Array};
use wasm_bindgen::JsCast;

pub async fn sha256(bytes: &[u8]) -> Option<[u8; 32]> {
    let crypto = Reflect::get(&js_sys::global(), &"crypto".into()).ok()?;
    let subtle = Reflect::get(&crypto, &"subtle".into()).ok().filter(|s| !s.is_undefined())?;
    let digest: Function = Reflect::get(&subtle, &"digest".into()).ok()?.dyn_into().ok()?;
    // A copy outside the wasm memory: WebCrypto refuses views of a SharedArrayBuffer, which the
    // threaded build's memory is (one memcpy, a few ms for a 90 MB file).
    let copy = Uint8Array::new_with_length(u32::try_from(bytes.len()).ok()?);
    copy.copy_from(bytes);
    let promise: Promise = digest.call2(&subtle, &"SHA-256".into(), &copy).ok()?.dyn_into().ok()?;
    let buffer = wasm_bindgen_futures::JsFuture::from(promise).await.ok()?;
    Uint8Array::new(&buffer).to_vec().try_into().ok()
}
