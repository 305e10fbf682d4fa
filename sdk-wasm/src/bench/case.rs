//! What to run: a kernel with its shape, and how often.

use crate::core::error::{Error, Result};
use crate::reference;
use crate::tensor::{SeededRng, Tensor};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kernel", rename_all = "lowercase")]
pub enum Kernel {
    Matmul {
        batch: usize,
        m: usize,
        k: usize,
        n: usize,
    },
    Softmax {
        rows: usize,
        cols: usize,
    },
    Layernorm {
        rows: usize,
        cols: usize,
    },
    Gelu {
        len: usize,
    },
    Add {
        rows: usize,
        cols: usize,
    },
    /// The CPU's peak: `iterations` rounds of pure multiply-adds on one thread (see `fma_peak`).
    #[serde(rename = "fma_peak")]
    FmaPeak {
        iterations: u64,
    },
}

/// Layernorm epsilon used by BERT-family models.
pub const LAYERNORM_EPS: f32 = 1e-12;
/// Refuse cases whose inputs would not fit comfortably in a browser tab.
const MAX_CASE_ELEMENTS: usize = 64 << 20;
/// Seconds, not minutes, per peak-loop run even on the slowest build.
const MAX_FMA_ITERATIONS: u64 = 1 << 30;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KernelCase {
    #[serde(flatten)]
    pub kernel: Kernel,
    pub warmup: u32,
    pub samples: u32,
    pub seed: u64,
}

impl Kernel {
    pub fn name(&self) -> &'static str {
        match self {
            Kernel::Matmul { .. } => "matmul",
            Kernel::Softmax { .. } => "softmax",
            Kernel::Layernorm { .. } => "layernorm",
            Kernel::Gelu { .. } => "gelu",
            Kernel::Add { .. } => "add",
            Kernel::FmaPeak { .. } => "fma-peak",
        }
    }

    /// Whether a GPU device can run it (the peak loop measures the CPU only).
    pub fn runs_on_gpu(&self) -> bool {
        !matches!(self, Kernel::FmaPeak { .. })
    }

    /// Human-readable shape, e.g. `1x128x128x128` (batch×m×k×n).
    pub fn shape_label(&self) -> String {
        match *self {
            Kernel::Matmul { batch, m, k, n } => format!("{batch}x{m}x{k}x{n}"),
            Kernel::Softmax { rows, cols } | Kernel::Layernorm { rows, cols } | Kernel::Add { rows, cols } => format!("{rows}x{cols}"),
            Kernel::Gelu { len } => format!("{len}"),
            Kernel::FmaPeak { iterations } => format!("{iterations} iterations, 1 thread"),
        }
    }

    /// Floating-point operations per run (for GFLOP/s; memory-bound kernels count ~1/element).
    pub fn flops(&self) -> f64 {
        match *self {
            Kernel::Matmul { batch, m, k, n } => 2.0 * (batch * m * k * n) as f64,
            Kernel::Softmax { rows, cols } => 4.0 * (rows * cols) as f64,
            Kernel::Layernorm { rows, cols } => 7.0 * (rows * cols) as f64,
            Kernel::Gelu { len } => 12.0 * len as f64,
            Kernel::Add { rows, cols } => (rows * cols) as f64,
            Kernel::FmaPeak { iterations } => 2.0 * (super::fma_peak::FMAS_PER_ITERATION as f64) * iterations as f64,
        }
    }

    fn input_shapes(&self) -> Vec<Vec<usize>> {
        match *self {
            Kernel::Matmul { batch, m, k, n } => vec![vec![batch, m, k], vec![batch, k, n]],
            Kernel::Softmax { rows, cols } => vec![vec![rows, cols]],
            Kernel::Layernorm { rows, cols } => vec![vec![rows, cols], vec![cols], vec![cols]],
            Kernel::Gelu { len } => vec![vec![len]],
            Kernel::Add { rows, cols } => vec![vec![rows, cols], vec![cols]],
            Kernel::FmaPeak { .. } => vec![vec![super::fma_peak::STATE]],
        }
    }

    pub fn validate(&self) -> Result<()> {
        let shapes = self.input_shapes();
        let total: usize = shapes.iter().map(|s| s.iter().product::<usize>()).sum();
        if shapes.iter().any(|s| s.contains(&0)) {
            return Err(Error::BadCase(format!("{} {}: every dimension must be ≥ 1", self.name(), self.shape_label())));
        }
        if let Kernel::FmaPeak { iterations } = *self {
            if !(1..=MAX_FMA_ITERATIONS).contains(&iterations) {
                return Err(Error::BadCase(format!("fma-peak: iterations must be 1..={MAX_FMA_ITERATIONS}, got {iterations}")));
            }
        }
        if total > MAX_CASE_ELEMENTS {
            return Err(Error::BadCase(format!(
                "{} {}: {total} input elements exceed {MAX_CASE_ELEMENTS}",
                self.name(),
                self.shape_label()
            )));
        }
        Ok(())
    }

    /// Seeded CPU inputs: identical wherever they are generated.
    pub fn inputs(&self, seed: u64) -> Result<Vec<Tensor>> {
        self.validate()?;
        let mut rng = SeededRng::new(seed);
        self.input_shapes()
            .into_iter()
            .map(|shape| {
                let data = rng.fill(shape.iter().product());
                Tensor::from_vec(data, shape)
            })
            .collect()
    }

    /// The expected output, from [`crate::reference`].
    pub fn reference_output(&self, seed: u64) -> Result<Vec<f32>> {
        self.validate()?;
        let mut rng = SeededRng::new(seed);
        let mut data: Vec<Vec<f32>> = self.input_shapes().iter().map(|s| rng.fill(s.iter().product())).collect();
        let x = std::mem::take(&mut data[0]);
        Ok(match *self {
            Kernel::Matmul { batch, m, k, n } => reference::matmul(&x, &data[1], batch, m, k, n, false),
            Kernel::Softmax { cols, .. } => reference::softmax(&x, cols),
            Kernel::Layernorm { cols, .. } => reference::layernorm(&x, &data[1], &data[2], cols, LAYERNORM_EPS),
            Kernel::Gelu { .. } => reference::gelu(&x),
            Kernel::Add { cols, .. } => x.iter().enumerate().map(|(i, v)| v + data[1][i % cols]).collect(),
            // Multiplied by 1 and added 0 throughout: the state comes back unchanged.
            Kernel::FmaPeak { .. } => x,
        })
    }

    /// Tolerance on max |got − want| for f32 kernels: matmul error grows with √k.
    pub fn tolerance(&self) -> f64 {
        match *self {
            Kernel::Matmul { k, .. } => 1e-5 * (k as f64).sqrt().max(1.0) * 4.0,
            _ => 1e-5,
        }
    }
}
