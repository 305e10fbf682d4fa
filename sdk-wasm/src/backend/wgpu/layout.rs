//! Materialising strided views, gathering rows, in-place KV-cache writes.

use super::params::{CopyParams, GatherParams, KvWriteParams};
use super::variants::Variant;
use super::{dense, elements, elementwise_grid, output, u32_of, GpuContext, WgpuStorage};
use crate::backend::{LayoutOps, Operand};
use crate::core::{Error, Result};

const MAX_RANK: usize = 4;

impl LayoutOps for GpuContext {
    fn contiguous(&self, x: Operand<WgpuStorage>) -> Result<WgpuStorage> {
        let dims = x.layout.shape.dims();
        if dims.len() > MAX_RANK {
            return Err(Error::shape("contiguous", format!("GPU views support rank ≤ {MAX_RANK}, got {}", x.layout.shape)));
        }
        let (mut shape, mut strides) = ([1u32; 4], [0u32; 4]);
        let pad = MAX_RANK - dims.len();
        for (i, (&d, &s)) in dims.iter().zip(&x.layout.strides).enumerate() {
            shape[pad + i] = u32_of("shape", d)?;
            strides[pad + i] = u32_of("stride", s)?;
        }
        let len = elements(x.layout);
        let params = CopyParams { len: u32_of("elements", len)?, offset: u32_of("offset", x.layout.offset)?, shape, strides };
        let out = output(&x.storage.ctx, len);
        self.record(Variant::copy_strided(), &[&x.storage.buffer, &out.buffer], &params, elementwise_grid(len)?);
        Ok(out)
    }

    fn gather_rows(&self, table: Operand<WgpuStorage>, ids: &[u32]) -> Result<WgpuStorage> {
        let tb = dense("gather_rows", &table)?;
        let (rows, dim) = (table.layout.shape.dims()[0], table.layout.shape.last_dim());
        let ctx = &table.storage.ctx;
        let ids_buf = ctx.upload_bytes(&ids.iter().flat_map(|id| id.to_le_bytes()).collect::<Vec<u8>>())?;
        let len = ids.len() * dim;
        let params = GatherParams { rows: u32_of("ids", ids.len())?, dim: u32_of("dim", dim)?, table_rows: u32_of("rows", rows)? };
        let out = output(ctx, len);
        self.record(Variant::gather_rows(), &[tb, &ids_buf, &out.buffer], &params, elementwise_grid(len)?);
        Ok(out)
    }

    fn kv_write(
        &self,
        cache: &mut WgpuStorage,
        [heads, capacity, dim]: [usize; 3],
        rows: Operand<WgpuStorage>,
        start: usize,
    ) -> Result<()> {
        let rb = dense("kv_write", &rows)?;
        let seq = rows.layout.shape.dims()[0];
        let params = KvWriteParams {
            seq: u32_of("seq", seq)?,
            heads: u32_of("heads", heads)?,
            dim: u32_of("dim", dim)?,
            capacity: u32_of("capacity", capacity)?,
            start: u32_of("start", start)?,
        };
        self.record(Variant::kv_write(), &[rb, &cache.buffer], &params, elementwise_grid(elements(rows.layout))?);
        Ok(())
    }
}
