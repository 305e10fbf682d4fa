//! Moving data without arithmetic: materialising views, gathering rows, in-place KV writes.

use super::{CpuBackend, CpuStorage};
use crate::backend::{LayoutOps, Operand};
use crate::core::Result;

impl LayoutOps for CpuBackend {
    fn contiguous(&self, x: Operand<CpuStorage>) -> Result<CpuStorage> {
        Ok(CpuStorage::f32(x.storage.dense(x.layout)?.into_owned()))
    }

    fn gather_rows(&self, table: Operand<CpuStorage>, ids: &[u32]) -> Result<CpuStorage> {
        let dim = table.layout.shape.last_dim();
        let data = table.storage.dense(table.layout)?;
        Ok(CpuStorage::f32(ids.iter().flat_map(|&id| data[id as usize * dim..(id as usize + 1) * dim].iter().copied()).collect()))
    }

    fn kv_write(&self, cache: &mut CpuStorage, [heads, capacity, dim]: [usize; 3], rows: Operand<CpuStorage>, start: usize) -> Result<()> {
        let src = rows.storage.dense(rows.layout)?.into_owned();
        let data = cache.data_mut()?;
        for (i, &v) in src.iter().enumerate() {
            let (s, h, c) = (i / (heads * dim), (i / dim) % heads, i % dim);
            data[(h * capacity + start + s) * dim + c] = v;
        }
        Ok(())
    }
}
