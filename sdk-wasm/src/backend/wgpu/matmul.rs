//! Tiled batched matmul; both operands are read through strides, so transposed views are free.

use super::params::MatmulParams;
use super::variants::Variant;
use super::{output, u32_of, GpuContext, WgpuStorage};
use crate::backend::{MatmulOps, MatmulPlan, Operand};
use crate::core::{Error, Layout, Result};

/// An operand's (offset, batch stride, row stride, col stride) for the kernel.
fn strides(t: &Layout, shared: bool, plain_batch: usize) -> Result<[u32; 4]> {
    let s = &t.strides;
    let rank = s.len();
    if rank > 3 && !t.is_contiguous() {
        return Err(Error::shape("matmul", "GPU operands of rank > 3 must be contiguous"));
    }
    let batch = if shared {
        0
    } else if rank > 3 {
        plain_batch
    } else if rank == 3 {
        s[0]
    } else {
        0
    };
    Ok([u32_of("offset", t.offset)?, u32_of("stride", batch)?, u32_of("stride", s[rank - 2])?, u32_of("stride", s[rank - 1])?])
}

impl MatmulOps for GpuContext {
    fn matmul(&self, a: Operand<WgpuStorage>, b: Operand<WgpuStorage>, p: &MatmulPlan) -> Result<WgpuStorage> {
        let [a_offset, a_batch_stride, a_row_stride, a_col_stride] = strides(a.layout, false, p.m * p.k)?;
        let [b_offset, b_batch_stride, b_row_stride, b_col_stride] = strides(b.layout, p.b_shared, p.k * p.n)?;
        let params = MatmulParams {
            m: u32_of("m", p.m)?,
            n: u32_of("n", p.n)?,
            k: u32_of("k", p.k)?,
            batch: u32_of("batch", p.batch)?,
            a_offset,
            a_batch_stride,
            a_row_stride,
            a_col_stride,
            b_offset,
            b_batch_stride,
            b_row_stride,
            b_col_stride,
        };
        let out = output(&a.storage.ctx, p.batch * p.m * p.n);
        let groups = [u32_of("column tiles", p.n.div_ceil(64))?, u32_of("row tiles", p.m.div_ceil(64))?, params.batch];
        self.record(Variant::matmul(), &[&a.storage.buffer, &b.storage.buffer, &out.buffer], &params, groups);
        Ok(out)
    }
}
