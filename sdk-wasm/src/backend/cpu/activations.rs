//! Element-wise activations (`UnaryOp`) and SwiGLU's gate.

use super::{CpuBackend, CpuStorage};
use crate::backend::{ActivationOps, Operand};
use crate::core::{Result, UnaryOp};

/// erf(x), Abramowitz & Stegun 7.1.26 (absolute error ≤ 1.5e-7: below f32 resolution near 1).
/// The WGSL kernel in `shaders/activation.wgsl` uses the same formula.
pub fn erf(x: f32) -> f32 {
    let sign = if x < 0.0 { -1.0 } else { 1.0 };
    let x = x.abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * x);
    let poly = t * (0.254_829_6 + t * (-0.284_496_74 + t * (1.421_413_8 + t * (-1.453_152_1 + t * 1.061_405_4))));
    sign * (1.0 - poly * (-x * x).exp())
}

/// The f32 formula of each op (`UnaryOp::reference` is its f64 definition).
fn apply(op: UnaryOp, v: f32) -> f32 {
    match op {
        UnaryOp::Gelu => 0.5 * v * (1.0 + erf(v * std::f32::consts::FRAC_1_SQRT_2)),
        UnaryOp::Silu => v / (1.0 + (-v).exp()),
        UnaryOp::Tanh => v.tanh(),
    }
}

impl ActivationOps for CpuBackend {
    fn unary(&self, op: UnaryOp, x: Operand<CpuStorage>) -> Result<CpuStorage> {
        Ok(CpuStorage::f32(x.storage.dense(x.layout)?.iter().map(|&v| apply(op, v)).collect()))
    }

    fn silu_mul(&self, gate: Operand<CpuStorage>, up: Operand<CpuStorage>) -> Result<CpuStorage> {
        let (g, u) = (gate.storage.dense(gate.layout)?, up.storage.dense(up.layout)?);
        Ok(CpuStorage::f32(g.iter().zip(u.iter()).map(|(&g, &u)| apply(UnaryOp::Silu, g) * u).collect()))
    }
}
