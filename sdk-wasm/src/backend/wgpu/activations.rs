//! Element-wise activations (one kernel, `OP` selects the function) and SwiGLU's gate.

use super::params::UnaryParams;
use super::variants::Variant;
use super::{dense, elements, elementwise_grid, output, u32_of, GpuContext, WgpuStorage};
use crate::backend::{ActivationOps, Operand};
use crate::core::{Result, UnaryOp};

impl ActivationOps for GpuContext {
    fn unary(&self, op: UnaryOp, x: Operand<WgpuStorage>) -> Result<WgpuStorage> {
        let xb = dense(op.name(), &x)?;
        let len = elements(x.layout);
        let out = output(&x.storage.ctx, len);
        let params = UnaryParams { len: u32_of("elements", len)? };
        self.record(Variant::unary(op), &[xb, &out.buffer], &params, elementwise_grid(len)?);
        Ok(out)
    }

    fn silu_mul(&self, gate: Operand<WgpuStorage>, up: Operand<WgpuStorage>) -> Result<WgpuStorage> {
        let (gb, ub) = (dense("silu_mul", &gate)?, dense("silu_mul", &up)?);
        let len = elements(gate.layout);
        let out = output(&gate.storage.ctx, len);
        let params = UnaryParams { len: u32_of("elements", len)? };
        self.record(Variant::silu_mul(), &[gb, ub, &out.buffer], &params, elementwise_grid(len)?);
        Ok(out)
    }
}
