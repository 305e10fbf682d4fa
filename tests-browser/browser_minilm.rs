//! all-MiniLM-L6-v2 sentence embeddings computed by the SDK inside headless Chromium (wasm
//! SIMD CPU path and WebGPU), with weights, config and tokenizer fetched over HTTP from the
//! host, against the independent numpy reference (scripts/reference/minilm_embeddings.py).

use ipfs_accelerate_host::browser::{detect_all, BrowserKind, BrowserSession};
use ipfs_accelerate_host::paths::wasm_pkg_dir;
use ipfs_accelerate_host::server::RunnerServer;
use serde_json::Value;

const REFERENCE: &str = include_str!("../sdk-wasm/tests/data/minilm_embeddings.json");

fn cosine(a: &[f64], b: &[f64]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    dot / (a.iter().map(|x| x * x).sum::<f64>().sqrt() * b.iter().map(|y| y * y).sum::<f64>().sqrt())
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()
}

async fn embed_in_chromium(device: &str, count: usize) -> (Vec<Vec<f64>>, Vec<Vec<f64>>) {
    let reference: Value = serde_json::from_str(REFERENCE).unwrap();
    let sentences: Vec<&Value> = reference["sentences"].as_array().unwrap().iter().take(count).collect();
    let texts: Vec<Value> = sentences.iter().map(|s| s["text"].clone()).collect();
    let server = RunnerServer::start(wasm_pkg_dir()).await.unwrap();
    let install = detect_all().into_iter().find(|d| d.kind == BrowserKind::Chromium).and_then(|d| d.install.ok()).expect("chromium");
    let session = BrowserSession::launch(&install, &server.url()).await.unwrap();
    let reply = session
        .call(
            "embedFromUrl",
            vec![Value::from("/models/all-minilm-l6-v2/"), Value::Array(texts), Value::from(device), reference["max_tokens"].clone()],
        )
        .await
        .unwrap_or_else(|e| panic!("{device}: {e}"));
    session.close().await.unwrap();
    eprintln!(
        "chromium {device}: load {:.0} ms, embed {} texts {:.0} ms",
        reply["loadMs"].as_f64().unwrap_or(-1.0),
        count.min(8),
        reply["embedMs"].as_f64().unwrap_or(-1.0)
    );
    let got = reply["embeddings"].as_array().unwrap().iter().map(floats).collect();
    let want = sentences.iter().map(|s| floats(&s["embedding"])).collect();
    (got, want)
}

#[tokio::test(flavor = "multi_thread")]
async fn chromium_wasm_cpu_embeddings_match_reference() {
    let (got, want) = embed_in_chromium("cpu", usize::MAX).await;
    assert_eq!(got.len(), want.len());
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_eq!(g.len(), 384);
        let c = cosine(g, w);
        assert!(c >= 0.9999, "sentence {i}: cosine {c}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn chromium_webgpu_embeddings_match_reference() {
    // Two sentences: SwiftShader emulates the GPU on the CPU and is slow.
    let (got, want) = embed_in_chromium("webgpu", 2).await;
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        let c = cosine(g, w);
        assert!(c >= 0.9999, "sentence {i}: cosine {c}");
    }
}
