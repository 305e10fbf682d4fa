//! A millisecond clock that works natively and in browsers (window or worker).

#[cfg(not(target_arch = "wasm32"))]
pub fn now_ms() -> f64 {
    use std::sync::OnceLock;
    use std::time::Instant;
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_secs_f64() * 1e3
}

#[cfg(target_arch = "wasm32")]
pub fn now_ms() -> f64 {
    use wasm_bindgen::JsCast;
    let global = js_sys::global();
    // Works in a window and in a Web Worker alike.
    if let Some(window) = global.dyn_ref::<web_sys::Window>() {
        if let Some(p) = window.performance() {
            return p.now();
        }
    }
    if let Some(worker) = global.dyn_ref::<web_sys::WorkerGlobalScope>() {
        if let Some(p) = worker.performance() {
            return p.now();
        }
    }
    js_sys::Date::now()
}
