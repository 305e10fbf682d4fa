//! Broadcast binary ops (rank ≤ 4) and scaling.

use super::params::BinaryParams;
use super::variants::Variant;
use super::{dense, elements, elementwise_grid, output, u32_of, GpuContext, WgpuStorage};
use crate::backend::{ElementwiseOps, Operand};
use crate::core::{broadcast_strides, BinaryOp, Error, Result};

const MAX_RANK: usize = 4;

/// Right-align into 4 dims, filling with `fill`.
fn pad4(v: &[usize], fill: usize) -> Result<[u32; 4]> {
    let mut out = [fill as u32; 4];
    for (i, &x) in v.iter().enumerate() {
        out[MAX_RANK - v.len() + i] = u32_of("shape or stride", x)?;
    }
    Ok(out)
}

impl ElementwiseOps for GpuContext {
    fn binary(&self, op: BinaryOp, a: Operand<WgpuStorage>, b: Operand<WgpuStorage>, out_dims: &[usize]) -> Result<WgpuStorage> {
        let (ab, bb) = (dense(op.name(), &a)?, dense(op.name(), &b)?);
        if out_dims.len() > MAX_RANK {
            return Err(Error::shape(op.name(), format!("GPU broadcasting supports rank ≤ {MAX_RANK}, got {out_dims:?}")));
        }
        let len = out_dims.iter().product::<usize>();
        let params = BinaryParams {
            len: u32_of("elements", len)?,
            scale: 0.0,
            out_shape: pad4(out_dims, 1)?,
            a_strides: pad4(&broadcast_strides(a.layout.shape.dims(), out_dims), 0)?,
            b_strides: pad4(&broadcast_strides(b.layout.shape.dims(), out_dims), 0)?,
        };
        let out = output(&a.storage.ctx, len);
        self.record(Variant::binary(op), &[ab, bb, &out.buffer], &params, elementwise_grid(len)?);
        Ok(out)
    }

    fn scale(&self, x: Operand<WgpuStorage>, factor: f32) -> Result<WgpuStorage> {
        let xb = dense("scale", &x)?;
        let len = elements(x.layout);
        let params = BinaryParams { len: u32_of("elements", len)?, scale: factor, ..BinaryParams::default() };
        let out = output(&x.storage.ctx, len);
        self.record(Variant::scale(), &[xb, xb, &out.buffer], &params, elementwise_grid(len)?);
        Ok(out)
    }
}
