//! Kernel benchmark cases, run the same way natively and in browsers: the host sends a case,
//! the device runs it (warm-up, then timed samples) and returns timings plus the output, which
//! the host checks against [`crate::reference`] before recording anything.

mod case;
pub mod fma_peak;
mod runner;

pub use case::{Kernel, KernelCase, LAYERNORM_EPS};
pub use runner::{check_counts, run_case, CaseOutcome, MAX_SAMPLES};
