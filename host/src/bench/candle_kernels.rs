//! The kernels suite on candle's CPU ops (`native-candle-cpu`): the same seeded inputs, timed
//! the same way and checked against the same f64 reference as ours, so "native f32 matmul ≥
//! candle's GFLOP/s" is read off one table. The FMA peak is ours to measure: not run here.

use super::check::{failed, record, References};
use super::record::{CaseStatus, EnvRecord};
use super::{describe, progress};
use candle_core::{Device, Tensor};
use ipfs_accelerate::bench::{Kernel, KernelCase, LAYERNORM_EPS};
use std::time::Instant;

const BACKEND: &str = "native-candle-cpu";

pub async fn run_native_candle_cpu(cases: &[KernelCase], refs: &References) -> EnvRecord {
    let summary = crate::backends::candle_adapter();
    progress(format!("{BACKEND}: {}", summary.name));
    let mut records = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        if matches!(case.kernel, Kernel::FmaPeak { .. }) {
            records.push(failed(case, CaseStatus::Unavailable, "the FMA peak is our own loop, not a candle op".into()));
            continue;
        }
        progress(format!("{BACKEND}: {}", describe(case)));
        records.push(match timed(case).await {
            Ok((samples_ms, output)) => record(case, i, refs, samples_ms, &output),
            Err(e) => failed(case, CaseStatus::Error, e),
        });
    }
    EnvRecord::new(BACKEND, summary, records)
}

/// `case.warmup` untimed runs, then `case.samples` timed ones; the last output.
async fn timed(case: &KernelCase) -> Result<(Vec<f64>, Vec<f32>), String> {
    let inputs = inputs(case).await?;
    let mut output = None;
    for _ in 0..case.warmup {
        output = Some(run(&case.kernel, &inputs)?);
    }
    let mut samples_ms = Vec::with_capacity(case.samples as usize);
    for _ in 0..case.samples {
        let start = Instant::now();
        output = Some(run(&case.kernel, &inputs)?);
        samples_ms.push(start.elapsed().as_secs_f64() * 1e3);
    }
    let output = output.ok_or("no run")?.flatten_all().and_then(|t| t.to_vec1::<f32>()).map_err(|e| e.to_string())?;
    Ok((samples_ms, output))
}

/// The case's seeded inputs as candle tensors of the same shapes.
async fn inputs(case: &KernelCase) -> Result<Vec<Tensor>, String> {
    let mut inputs = Vec::new();
    for t in case.kernel.inputs(case.seed).map_err(|e| e.to_string())? {
        let values = t.to_vec().await.map_err(|e| e.to_string())?;
        inputs.push(Tensor::from_vec(values, t.dims(), &Device::Cpu).map_err(|e| e.to_string())?);
    }
    Ok(inputs)
}

fn run(kernel: &Kernel, x: &[Tensor]) -> Result<Tensor, String> {
    let out = match kernel {
        Kernel::Matmul { .. } => x[0].matmul(&x[1]),
        Kernel::Softmax { .. } => candle_nn::ops::softmax_last_dim(&x[0]),
        Kernel::Layernorm { .. } => candle_nn::ops::layer_norm(&x[0], &x[1], &x[2], LAYERNORM_EPS),
        Kernel::Gelu { .. } => x[0].gelu_erf(),
        Kernel::Add { .. } => x[0].broadcast_add(&x[1]),
        Kernel::FmaPeak { .. } => return Err("not a candle op".into()),
    };
    out.map_err(|e| e.to_string())
}
