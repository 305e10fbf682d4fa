//! Element-wise activations (`UnaryOp`) and SwiGLU's gate.

use super::exp::{exp_clamped, exp_nonpositive};
use super::parallel::for_each_row_block;
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
    sign * (1.0 - poly * exp_nonpositive(-x * x))
}

fn gelu(v: f32) -> f32 {
    0.5 * v * (1.0 + erf(v * std::f32::consts::FRAC_1_SQRT_2))
}

#[inline(always)]
fn gelu_into(out: &mut [f32], x: &[f32]) {
    out.iter_mut().zip(x).for_each(|(d, &v)| *d = gelu(v));
}

/// The same loop compiled for AVX-512 (16 lanes where baseline x86-64 has SSE's 4), chosen at
/// run time: GELU is arithmetic-bound (a division and two polynomials per value).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn gelu_into_avx512(out: &mut [f32], x: &[f32]) {
    gelu_into(out, x);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn gelu_into_avx2(out: &mut [f32], x: &[f32]) {
    gelu_into(out, x);
}

/// GELU of `x` into `out`, with the widest vectors this CPU has.
fn gelu_block(out: &mut [f32], x: &[f32]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") {
        // SAFETY: the CPU was just checked for the feature the function is compiled for.
        return unsafe { gelu_into_avx512(out, x) };
    }
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        // SAFETY: as above, for both features.
        return unsafe { gelu_into_avx2(out, x) };
    }
    gelu_into(out, x)
}

fn silu(v: f32) -> f32 {
    v / (1.0 + exp_clamped(-v))
}

/// `f` over every value: one monomorphic loop per op, so each vectorises on its own (a
/// per-element `match` on the op measured 1.6× slower natively, 2.8× in wasm).
fn map(x: &[f32], f: impl Fn(f32) -> f32 + Sync + Send) -> Vec<f32> {
    let mut out = vec![0.0; x.len()];
    for_each_row_block(&mut out, 1, |start, block| block.iter_mut().zip(&x[start..]).for_each(|(d, &v)| *d = f(v)));
    out
}

impl ActivationOps for CpuBackend {
    /// The f32 formula of each op (`UnaryOp::reference` is its f64 definition).
    fn unary(&self, op: UnaryOp, x: Operand<CpuStorage>) -> Result<CpuStorage> {
        let x = x.storage.dense(x.layout)?;
        Ok(CpuStorage::f32(match op {
            UnaryOp::Gelu => {
                let mut out = vec![0.0; x.len()];
                for_each_row_block(&mut out, 1, |start, block| gelu_block(block, &x[start..start + block.len()]));
                out
            }
            UnaryOp::Silu => map(&x, silu),
            UnaryOp::Tanh => map(&x, f32::tanh),
            UnaryOp::Relu => map(&x, |v| v.max(0.0)),
        }))
    }

    fn silu_mul(&self, gate: Operand<CpuStorage>, up: Operand<CpuStorage>) -> Result<CpuStorage> {
        let (g, u) = (gate.storage.dense(gate.layout)?, up.storage.dense(up.layout)?);
        let mut out = vec![0.0; g.len().min(u.len())];
        for_each_row_block(&mut out, 1, |start, block| {
            block.iter_mut().zip(&g[start..]).zip(&u[start..]).for_each(|((d, &g), &u)| *d = silu(g) * u)
        });
        Ok(CpuStorage::f32(out))
    }
}
