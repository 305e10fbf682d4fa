//! Run a case on a device: warm-up, timed samples, final output.

use super::case::{Kernel, KernelCase, LAYERNORM_EPS};
use crate::clock::now_ms;
use crate::core::error::{Error, Result};
use crate::core::OptionStyle;
use crate::device::{AdapterSummary, Device};
use crate::ops;
use crate::tensor::Tensor;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CaseOutcome {
    /// Wall time of each timed run in ms (dispatch until the device finished).
    pub samples_ms: Vec<f64>,
    pub warmup: u32,
    pub adapter: AdapterSummary,
    /// Output of the last run, in logical order.
    #[serde(skip)]
    pub output: Vec<f32>,
}

/// The most timed samples (and warm-up runs) a case may ask for.
pub const MAX_SAMPLES: u32 = 10_000;

/// The one check of sample counts: `accelerate bench` runs it on its flags before anything
/// starts, and every case (native or sent to a page) again before it runs.
pub fn check_counts(warmup: u32, samples: u32, style: OptionStyle) -> Result<()> {
    if samples == 0 || samples > MAX_SAMPLES {
        return Err(Error::InvalidOption { option: style.name("samples"), detail: format!("must be 1..={MAX_SAMPLES}, got {samples}") });
    }
    if warmup > MAX_SAMPLES {
        return Err(Error::InvalidOption { option: style.name("warmup"), detail: format!("must be at most {MAX_SAMPLES}, got {warmup}") });
    }
    Ok(())
}

pub async fn run_case(device: &Device, case: &KernelCase) -> Result<CaseOutcome> {
    check_counts(case.warmup, case.samples, OptionStyle::Rust)?;
    if !case.kernel.runs_on_gpu() && !matches!(device, Device::Cpu) {
        return Err(Error::BadCase(format!("{} measures the CPU: it runs on a cpu device only", case.kernel.name())));
    }
    let mut inputs = Vec::new();
    for t in case.kernel.inputs(case.seed)? {
        inputs.push(t.to_device(device).await?);
    }
    let mut samples_ms = Vec::with_capacity(case.samples as usize);
    let mut last = None;
    for i in 0..case.warmup + case.samples {
        let start = now_ms();
        let out = run_once(&case.kernel, &inputs).await?;
        // Wait for recorded GPU work so a sample measures execution, not just recording.
        device.sync().await?;
        let elapsed = now_ms() - start;
        if i >= case.warmup {
            samples_ms.push(elapsed);
        }
        last = Some(out);
    }
    let output = match last {
        Some(t) => t.to_vec().await?,
        None => Vec::new(),
    };
    Ok(CaseOutcome { samples_ms, warmup: case.warmup, adapter: device.summary(), output })
}

async fn run_once(kernel: &Kernel, inputs: &[Tensor]) -> Result<Tensor> {
    let arg = |i: usize| inputs.get(i).ok_or_else(|| Error::BadCase(format!("{} needs input {i}", kernel.name())));
    match kernel {
        Kernel::Matmul { .. } => ops::matmul(arg(0)?, arg(1)?).await,
        Kernel::Softmax { .. } => ops::softmax(arg(0)?).await,
        Kernel::Layernorm { .. } => ops::layernorm(arg(0)?, arg(1)?, arg(2)?, LAYERNORM_EPS).await,
        Kernel::Gelu { .. } => ops::gelu(arg(0)?).await,
        Kernel::Add { .. } => ops::add(arg(0)?, arg(1)?).await,
        Kernel::FmaPeak { iterations } => {
            let seed = arg(0)?.to_vec().await?;
            let seed: [f32; super::fma_peak::STATE] =
                seed.try_into().map_err(|_| Error::BadCase(format!("fma-peak needs {} seed values", super::fma_peak::STATE)))?;
            Tensor::from_vec(super::fma_peak::run(&seed, *iterations).to_vec(), [super::fma_peak::STATE])
        }
    }
}
