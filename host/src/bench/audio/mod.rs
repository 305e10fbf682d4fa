//! `accelerate bench --suite audio`: Silero VAD over a 9.6 s speech clip on every backend —
//! ours natively (CPU), ONNX Runtime on the same file chunk by chunk as silero's own wrapper
//! runs it, and ours in Chromium and Firefox (wasm CPU with every core) — with the worst
//! probability difference to ONNX Runtime's Python run beside the speed. Chunks per second and
//! the real-time factor (audio seconds per compute second) are the clip over the median.
//! Natively on the CPU also Whisper tiny.en: its encoder over a 30 s window, a decoder step,
//! and three clips transcribed (greedy and 5 beams), checked token for token against
//! ctranslate2. On GPUs (`native-wgpu`, and `browser-webgpu` in each browser; not in
//! `--quick`): the encoder, and the first call with and without shader precompilation.

mod browser;
mod browser_gpu;
mod first_call;
mod native;
mod whisper;

use super::options::BenchOptions;
use super::record::{CaseRecord, CaseStatus, EnvRecord, RunRecord};
use super::run::{epoch_seconds, finished_run};
use super::suite::{About, Suite};
use super::SuiteOptions;
use crate::browser::{detect_all, BrowserKind};
use crate::error::{HostError, Result};
use crate::server::RunnerServer;
use futures_util::future::{FutureExt, LocalBoxFuture};

pub use super::SuiteOptions as Options;

const KERNEL: &str = "silero-vad";
const KERNEL_WHISPER: &str = "whisper-tiny.en";
const REFERENCE: &str = include_str!("../../../../sdk-wasm/tests/data/silero_vad_reference.json");
const CLIP: &[u8] = include_bytes!("../../../../sdk-wasm/tests/data/audio/speech-16k.wav");
/// Probabilities within this of ONNX Runtime's (the bound).
const TOLERANCE: f64 = 1e-3;
/// Native backends: (backend, record label).
const NATIVE: [(&str, &str); 2] = [("ours-cpu", "native-cpu"), ("ort-cpu", "native-ort-cpu")];
/// Whisper on a GPU natively: the encoder and first calls with and without precompiled shaders.
const NATIVE_WGPU: &str = "native-wgpu";

fn reference() -> Result<Vec<f64>> {
    let all: serde_json::Value = serde_json::from_str(REFERENCE).map_err(|e| HostError::Invalid(format!("VAD reference: {e}")))?;
    Ok(all["probabilities"].as_array().into_iter().flatten().filter_map(|v| v.as_f64()).collect())
}

/// The clip's timed runs: ms per clip, with chunks/s and the real-time factor in the params.
fn clip_case(warmup: u32, ms: Vec<f64>, chunks: usize, seconds: f64) -> CaseRecord {
    let median = super::stats::Stats::of(&ms).map(|s| s.median).unwrap_or(f64::NAN);
    let params = serde_json::json!({
        "model": KERNEL, "chunks": chunks, "audio_seconds": seconds,
        "chunks_per_s": chunks as f64 / (median / 1e3), "real_time_factor": seconds / (median / 1e3),
    });
    CaseRecord::timed(KERNEL, "clip 9.6 s", params, warmup, ms, TOLERANCE)
}

fn load_case(ms: f64) -> CaseRecord {
    CaseRecord::timed(KERNEL, "load", serde_json::json!({ "model": KERNEL }), 0, vec![ms], TOLERANCE)
}

/// The worst |p − reference| over the reference's chunks, applied to every case that ran.
fn apply_accuracy(records: &mut [CaseRecord], got: std::result::Result<Vec<f32>, String>) {
    let worst = got.and_then(|p| {
        let want = reference().map_err(|e| e.to_string())?;
        if p.len() < want.len() {
            return Err(format!("{} chunks, the reference has {}", p.len(), want.len()));
        }
        Ok(p.iter().zip(&want).map(|(&g, w)| (f64::from(g) - w).abs()).fold(0.0, f64::max))
    });
    for rec in records.iter_mut().filter(|r| r.status == CaseStatus::Ok) {
        match &worst {
            Ok(err) => {
                rec.max_abs_err = Some(*err);
                if *err > TOLERANCE {
                    rec.status = CaseStatus::Mismatch;
                    rec.error = Some(format!("probabilities differ from the reference by {err:.2e}"));
                }
            }
            Err(e) => {
                rec.status = CaseStatus::Error;
                rec.error = Some(format!("accuracy check failed: {e}"));
            }
        }
    }
}

fn failed(label: &str, reason: String) -> EnvRecord {
    EnvRecord::new(label, Default::default(), vec![CaseRecord::failed(KERNEL, "load", CaseStatus::Error, &reason)])
}

/// The `audio` suite.
pub struct AudioSuite;

impl Suite for AudioSuite {
    fn about(&self) -> &About {
        &About { name: "audio", description: "voice activity detection", default_report: "results/audio.html" }
    }

    fn backends(&self) -> Vec<&'static str> {
        NATIVE.iter().map(|(_, l)| *l).chain([NATIVE_WGPU, browser::LABEL, browser_gpu::LABEL]).collect()
    }

    /// The GPU rows take minutes on software adapters: `--quick` leaves them out.
    fn quick_backends(&self) -> Vec<&'static str> {
        NATIVE.iter().map(|(_, l)| *l).chain([browser::LABEL]).collect()
    }

    fn default_browsers(&self) -> Vec<BrowserKind> {
        vec![BrowserKind::Chromium, BrowserKind::Firefox]
    }

    fn run<'a>(&'a self, command: &'a str, opts: SuiteOptions, _: &'a BenchOptions) -> LocalBoxFuture<'a, Result<RunRecord>> {
        async move {
            let started_at = epoch_seconds();
            let wanted = |label: &str| opts.backends.iter().any(|b| b == label);
            let mut environments = Vec::new();
            for (backend, label) in NATIVE.iter().filter(|(_, l)| wanted(l)) {
                environments.push(native::run(backend, label, &opts).await);
                super::progress::environments_finished(1);
            }
            if wanted(NATIVE_WGPU) {
                super::progress(format!("{NATIVE_WGPU}: whisper-tiny.en encoder and first calls"));
                let (adapter, records) = first_call::cases("ours-wgpu", opts.warmup, opts.samples).await;
                environments.push(EnvRecord::new(NATIVE_WGPU, adapter, records));
                super::progress::environments_finished(1);
            }
            let in_browsers: Vec<&str> = [browser::LABEL, browser_gpu::LABEL].into_iter().filter(|l| wanted(l)).collect();
            if !in_browsers.is_empty() {
                let server = RunnerServer::start(crate::paths::wasm_pkg_dir()).await?;
                for label in in_browsers {
                    for detection in detect_all().into_iter().filter(|d| opts.browsers.contains(&d.kind)) {
                        environments.push(match &detection.install {
                            Ok(install) if label == browser::LABEL => browser::run(install, &server.url(), &opts).await,
                            Ok(install) => browser_gpu::run(install, &server.url(), &opts).await,
                            Err(reason) => EnvRecord::browser_unavailable(label, detection.kind.name(), reason),
                        });
                        super::progress::environments_finished(1);
                    }
                }
            }
            Ok(finished_run("audio", command, started_at, environments))
        }
        .boxed_local()
    }
}
