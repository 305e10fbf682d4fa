//! Row-wise softmax, layernorm and rmsnorm: one workgroup per row.

use super::params::RowParams;
use super::variants::Variant;
use super::{dense, elements, grid, output, u32_of, GpuContext, WgpuStorage};
use crate::backend::{NormOps, Operand};
use crate::core::Result;

fn row_params(x: &Operand<WgpuStorage>, cols: usize, eps: f32) -> Result<(RowParams, usize)> {
    let rows = elements(x.layout) / cols.max(1);
    Ok((RowParams { rows: u32_of("rows", rows)?, cols: u32_of("cols", cols)?, eps }, rows))
}

impl NormOps for GpuContext {
    fn softmax(&self, x: Operand<WgpuStorage>, cols: usize) -> Result<WgpuStorage> {
        let xb = dense("softmax", &x)?;
        let (params, rows) = row_params(&x, cols, 0.0)?;
        let out = output(&x.storage.ctx, elements(x.layout));
        self.record(Variant::softmax(), &[xb, &out.buffer], &params, grid(rows)?);
        Ok(out)
    }

    fn layernorm(
        &self,
        x: Operand<WgpuStorage>,
        g: Operand<WgpuStorage>,
        b: Operand<WgpuStorage>,
        cols: usize,
        eps: f32,
    ) -> Result<WgpuStorage> {
        let (xb, gb, bb) = (dense("layernorm", &x)?, dense("layernorm", &g)?, dense("layernorm", &b)?);
        let (params, rows) = row_params(&x, cols, eps)?;
        let out = output(&x.storage.ctx, elements(x.layout));
        self.record(Variant::layernorm(), &[xb, gb, bb, &out.buffer], &params, grid(rows)?);
        Ok(out)
    }

    fn rmsnorm(&self, x: Operand<WgpuStorage>, g: Operand<WgpuStorage>, cols: usize, eps: f32) -> Result<WgpuStorage> {
        let (xb, gb) = (dense("rmsnorm", &x)?, dense("rmsnorm", &g)?);
        let (params, rows) = row_params(&x, cols, eps)?;
        let out = output(&x.storage.ctx, elements(x.layout));
        self.record(Variant::rmsnorm(), &[xb, gb, &out.buffer], &params, grid(rows)?);
        Ok(out)
    }
}
