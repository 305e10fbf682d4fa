//! Real WebNN in a real browser: the `chromium-webnn` browser (Chromium 153 headless shell with
//! the TFLite/XNNPACK backend, unpacked by `cargo xtask setup` into .deps/chromium-webnn),
//! launched through the host's own browser code, runs graphs through the current spec
//! (MLGraphBuilder → MLContext.dispatch with MLTensors); numbers are checked against f64 here.
//!
//! Needs the wasm package (`cargo xtask build-wasm`): the runner page loads the SDK. Skips,
//! saying why, only when .deps/chromium-webnn is not installed.

use ipfs_accelerate_host::browser::{chromium_webnn_dir, detect, BrowserKind, BrowserSession};
use ipfs_accelerate_host::doctor::BrowserProbe;
use ipfs_accelerate_host::paths::wasm_pkg_dir;
use ipfs_accelerate_host::server::RunnerServer;
use serde_json::{json, Value};

/// The browser and the runner page, or None (with the reason printed) when not installed.
async fn launch() -> Option<(RunnerServer, BrowserSession)> {
    if !chromium_webnn_dir().exists() {
        println!("skipping: {} is absent (`cargo xtask setup` installs the WebNN Chromium there)", chromium_webnn_dir().display());
        return None;
    }
    let install = detect(BrowserKind::ChromiumWebnn).unwrap_or_else(|e| panic!("chromium-webnn is installed but unusable: {e}"));
    let server = RunnerServer::start(wasm_pkg_dir()).await.expect("runner server (is the wasm package built?)");
    let session = BrowserSession::launch(&install, &server.url()).await.expect("chromium-webnn session");
    Some((server, session))
}

/// Deterministic values in [-scale, scale).
fn values(n: usize, seed: u64, scale: f64) -> Vec<f64> {
    let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((state >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0) * scale
        })
        .collect()
}

/// erf by its Taylor series; the terms stay below e^16 for |x| < 4, so f64 keeps ~1e-9, and
/// beyond 4, 1 − erf(x) < 2e-8.
fn erf(x: f64) -> f64 {
    if x.abs() >= 4.0 {
        return x.signum();
    }
    let (mut sum, mut term, mut n) = (0.0_f64, x, 0.0_f64);
    while term.abs() > 1e-17 * sum.abs().max(1e-300) || n < 1.0 {
        sum += term / (2.0 * n + 1.0);
        n += 1.0;
        term *= -x * x / n;
    }
    sum * 2.0 / std::f64::consts::PI.sqrt()
}

fn gelu(x: f64) -> f64 {
    0.5 * x * (1.0 + erf(x / std::f64::consts::SQRT_2))
}

struct Mlp {
    m: usize,
    k: usize,
    n: usize,
    x: Vec<f64>,
    w: Vec<f64>,
    b: Vec<f64>,
    gamma: Vec<f64>,
    beta: Vec<f64>,
    epsilon: f64,
}

impl Mlp {
    fn new(m: usize, k: usize, n: usize) -> Mlp {
        Mlp {
            m,
            k,
            n,
            x: values(m * k, 1, 1.5),
            w: values(k * n, 2, 0.6),
            b: values(n, 3, 0.3),
            gamma: values(n, 4, 0.5).iter().map(|g| 1.0 + g).collect(),
            beta: values(n, 5, 0.2),
            epsilon: 1e-5,
        }
    }

    /// softmax(layerNorm(gelu(x·W + b)) · gamma + beta) over each row, in f64.
    fn reference(&self) -> Vec<f64> {
        let mut out = Vec::with_capacity(self.m * self.n);
        for r in 0..self.m {
            let h: Vec<f64> = (0..self.n)
                .map(|c| gelu((0..self.k).map(|i| self.x[r * self.k + i] * self.w[i * self.n + c]).sum::<f64>() + self.b[c]))
                .collect();
            let mean = h.iter().sum::<f64>() / self.n as f64;
            let var = h.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / self.n as f64;
            let ln: Vec<f64> =
                h.iter().enumerate().map(|(c, v)| (v - mean) / (var + self.epsilon).sqrt() * self.gamma[c] + self.beta[c]).collect();
            let max = ln.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let exps: Vec<f64> = ln.iter().map(|v| (v - max).exp()).collect();
            let total: f64 = exps.iter().sum();
            out.extend(exps.iter().map(|e| e / total));
        }
        out
    }

    fn args(&self) -> Value {
        // f32 on the wire, as the browser will hold them; the reference uses the same values.
        let f32s = |v: &[f64]| v.iter().map(|x| *x as f32).collect::<Vec<f32>>();
        json!({
            "m": self.m, "k": self.k, "n": self.n, "x": f32s(&self.x), "w": f32s(&self.w), "b": f32s(&self.b),
            "gamma": f32s(&self.gamma), "beta": f32s(&self.beta), "epsilon": self.epsilon, "deviceType": "cpu",
        })
    }

    /// The same MLP with every input rounded to f32 (what the browser computes on).
    fn rounded(&self) -> Mlp {
        let r = |v: &[f64]| v.iter().map(|x| *x as f32 as f64).collect();
        Mlp { x: r(&self.x), w: r(&self.w), b: r(&self.b), gamma: r(&self.gamma), beta: r(&self.beta), ..*self }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn webnn_graph_matches_f64_reference() {
    let Some((_server, session)) = launch().await else { return };
    let mlp = Mlp::new(4, 24, 10);
    let reply = session.call("webnnMlp", vec![mlp.args()]).await.expect("webnnMlp");
    let got: Vec<f64> = reply["y"].as_array().expect("y").iter().filter_map(Value::as_f64).collect();
    let want = mlp.rounded().reference();
    assert_eq!(got.len(), want.len(), "output length");
    let worst = got.iter().zip(&want).map(|(g, w)| (g - w).abs()).fold(0.0, f64::max);
    println!("max abs error against f64: {worst:e}");
    assert!(worst < 5e-6, "max abs error {worst:e}\n got {got:?}\nwant {want:?}");
    for row in got.chunks(mlp.n) {
        assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-5, "softmax row does not sum to 1: {row:?}");
    }
    let _ = session.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_probe_shows_webnn_devices_that_run() {
    let Some((_server, session)) = launch().await else { return };
    let probe = BrowserProbe::collect(&session).await.expect("probe");
    let webnn = &probe.webnn;
    assert!(webnn.present && webnn.context, "WebNN context: {:?}", webnn.reason);
    let cpu = webnn.devices.iter().find(|d| d.device_type == "cpu").expect("cpu entry");
    assert!(cpu.runs, "deviceType cpu does not run a graph: {:?}", cpu.reason);
    assert_eq!(cpu.graph_devices.as_deref(), Some(&["cpu".to_string()][..]));
    assert!(webnn.working_devices().iter().any(|d| d == "cpu"), "{:?}", webnn.working_devices());
    let _ = session.close().await;
}

/// The facts docs/webnn-notes.md states, so a browser update that changes them fails here.
#[tokio::test(flavor = "multi_thread")]
async fn webnn_capabilities_match_the_notes() {
    let Some((_server, session)) = launch().await else { return };
    let report = session.call("webnnCapabilities", vec![json!({ "deviceType": "cpu" })]).await.expect("webnnCapabilities");
    let steps = report["steps"].as_array().expect("steps");
    let step = |prefix: &str| {
        steps
            .iter()
            .find(|s| s["step"].as_str().is_some_and(|n| n.starts_with(prefix)))
            .unwrap_or_else(|| panic!("no step {prefix:?} in {steps:#?}"))
    };
    let ok = |prefix: &str| assert_eq!(step(prefix)["ok"], json!(true), "{:#}", step(prefix));
    let fails = |prefix: &str| assert_eq!(step(prefix)["ok"], json!(false), "{:#}", step(prefix));
    ok("builder.input(name, {dataType, shape})");
    ok("context.createTensor({dataType, shape, readable, writable})");
    fails("builder.input(name, {dataType, dimensions})");
    ok("builder.constant(desc, Float32Array)");
    for dtype in ["int32", "int64", "uint32"] {
        ok(&format!("gather(table, {dtype} indices constant"));
    }
    ok("context.dispatch(graph, inputs, outputs)");
    ok("await context.readTensor(softmax)");
    let values = &step("values")["value"];
    assert_eq!(values["gather_int32"], json!([30, 31, 0, 1, 20, 21]));
    assert_eq!(values["matmul"], json!([1, 2, 3, 6, -1, 0.5, 0, -0.5]));
    let limits = &report["opSupportLimits"];
    for op in ["matmul", "add", "mul", "gelu", "softmax", "layerNormalization", "gather", "transpose", "reshape"] {
        assert!(limits[op].is_object(), "opSupportLimits has no {op}");
    }
    let _ = session.close().await;
}
