//! WGSL and wasm-SIMD kernels run by the real SDK build in real headless browsers, driven by
//! the host over WebDriver, each output compared with the plain CPU reference.
//!
//! Needs the wasm package (`cargo xtask build-wasm`, done by `cargo xtask test`), Chromium +
//! chromedriver and Firefox + geckodriver (installed by `cargo xtask setup`).

use ipfs_accelerate::bench::{Kernel, KernelCase};
use ipfs_accelerate::reference::max_errors;
use ipfs_accelerate_host::bench::{run_in_browser, BEST};
use ipfs_accelerate_host::browser::{detect_all, BrowserKind, BrowserSession};
use ipfs_accelerate_host::doctor::BrowserProbe;
use ipfs_accelerate_host::paths::wasm_pkg_dir;
use ipfs_accelerate_host::server::RunnerServer;
use serde_json::Value;

fn cases() -> Vec<KernelCase> {
    [
        Kernel::Matmul { batch: 2, m: 65, k: 70, n: 33 },
        Kernel::Softmax { rows: 9, cols: 700 },
        Kernel::Layernorm { rows: 4, cols: 384 },
        Kernel::Gelu { len: 5000 },
        Kernel::Add { rows: 5, cols: 17 },
    ]
    .into_iter()
    .enumerate()
    .map(|(i, kernel)| KernelCase { kernel, warmup: 1, samples: 2, seed: 90 + i as u64 })
    .collect()
}

async fn launch(kind: BrowserKind) -> (RunnerServer, BrowserSession) {
    let server = RunnerServer::start(wasm_pkg_dir()).await.expect("runner server (is the wasm package built?)");
    let install = detect_all()
        .into_iter()
        .find(|d| d.kind == kind)
        .and_then(|d| d.install.ok())
        .unwrap_or_else(|| panic!("{} is not installed; run `cargo xtask setup`", kind.name()));
    let session = BrowserSession::launch(&install, &server.url()).await.expect("browser session");
    (server, session)
}

async fn check_kernels(session: &BrowserSession, device: &str) {
    for case in cases() {
        let (samples, output) =
            run_in_browser(session, &case, device, BEST).await.unwrap_or_else(|e| panic!("{device} {:?}: {e}", case.kernel));
        assert_eq!(samples.len(), 2);
        assert!(samples.iter().all(|s| *s >= 0.0));
        let want = case.kernel.reference_output(case.seed).unwrap();
        assert_eq!(output.len(), want.len(), "{:?}", case.kernel);
        let (abs, _) = max_errors(&output, &want);
        assert!(abs <= case.kernel.tolerance(), "{device} {:?}: max abs error {abs}", case.kernel);
    }
    // The CPU's peak loop runs in wasm and hands its state back unchanged; a GPU device refuses it.
    let peak = KernelCase { kernel: Kernel::FmaPeak { iterations: 1000 }, warmup: 1, samples: 2, seed: 99 };
    match (device, run_in_browser(session, &peak, device, BEST).await) {
        ("cpu", Ok((_, output))) => assert_eq!(output, peak.kernel.reference_output(peak.seed).unwrap()),
        ("cpu", Err(e)) => panic!("fma-peak on the wasm CPU path: {e}"),
        (_, Ok(_)) => panic!("the CPU peak loop must not run on {device}"),
        (_, Err(e)) => assert!(e.to_string().contains("cpu device only"), "{e}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn chromium_webgpu_wgsl_kernels_match_cpu_reference() {
    let (_server, session) = launch(BrowserKind::Chromium).await;
    let probe = BrowserProbe::collect(&session).await.unwrap();
    assert!(probe.webgpu.available, "Chromium WebGPU unavailable: {:?}", probe.webgpu.reason);
    // Here this is SwiftShader: it must be recognised as software, never reported as a GPU.
    if probe.webgpu.architecture.contains("swiftshader") {
        assert!(probe.webgpu.software());
    }
    check_kernels(&session, "webgpu").await;
    session.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn chromium_wasm_simd_cpu_kernels_match_cpu_reference() {
    let (_server, session) = launch(BrowserKind::Chromium).await;
    let info = session.call("deviceInfo", vec![Value::from("cpu")]).await.unwrap();
    // The page is cross-origin isolated: the threaded build runs, with relaxed SIMD.
    assert_eq!(info["name"], "wasm-simd128-relaxed-threads", "the browser build must run the SIMD path over threads: {info}");
    check_kernels(&session, "cpu").await;
    session.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn firefox_webgpu_and_cpu_kernels_match_cpu_reference() {
    let (_server, session) = launch(BrowserKind::Firefox).await;
    let probe = BrowserProbe::collect(&session).await.unwrap();
    assert!(probe.webgpu.available, "Firefox WebGPU unavailable: {:?}", probe.webgpu.reason);
    check_kernels(&session, "webgpu").await;
    check_kernels(&session, "cpu").await;
    session.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn chromium_probe_reports_webnn_fallback_threads_and_storage() {
    let (_server, session) = launch(BrowserKind::Chromium).await;
    let probe = BrowserProbe::collect(&session).await.unwrap();
    // navigator.ml exists with the flag we pass; whether a context can be created depends on
    // the build. Either way the probe must say so, with the browser's reason on failure.
    assert!(probe.webnn.present, "{:?}", probe.webnn);
    if !probe.webnn.context {
        assert!(probe.webnn.reason.as_deref().is_some_and(|r| !r.is_empty()));
    }
    assert!(probe.wasm.simd);
    assert!(probe.wasm.cross_origin_isolated, "COOP/COEP headers must make the page cross-origin isolated");
    assert!(probe.wasm.threads);
    assert!(probe.storage.indexed_db && probe.storage.quota_bytes.unwrap_or(0.0) > 0.0);
    session.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_from_the_host_is_a_rejected_promise_not_a_panic() {
    let (_server, session) = launch(BrowserKind::Chromium).await;
    let err = session.call("runKernelCase", vec![Value::from("{not json"), Value::from("cpu")]).await.unwrap_err().to_string();
    assert!(err.contains("invalid case JSON"), "{err}");
    let err = session.call("runKernelCase", vec![Value::from("{}"), Value::from("tpu")]).await.unwrap_err().to_string();
    assert!(err.contains("invalid case JSON") || err.contains("unknown device"), "{err}");
    let zero = serde_json::to_string(&KernelCase { kernel: Kernel::Softmax { rows: 0, cols: 4 }, warmup: 0, samples: 1, seed: 0 }).unwrap();
    let err = session.call("runKernelCase", vec![Value::from(zero), Value::from("webgpu")]).await.unwrap_err().to_string();
    assert!(err.contains("≥ 1"), "{err}");
    // The module still works after the errors: nothing was left poisoned.
    check_kernels(&session, "cpu").await;
    session.close().await.unwrap();
}
