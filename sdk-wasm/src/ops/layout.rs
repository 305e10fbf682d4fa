//! Moving data without arithmetic: materialising views, gathering rows, KV-cache writes.

use super::{check_f32, finish, operand};
use crate::backend::LayoutOps;
use crate::core::{Error, Result};
use crate::tensor::storage::{dispatch, mismatch};
use crate::tensor::{Storage, Tensor};

/// The tensor with its elements laid out contiguously (a no-op if they already are).
pub async fn contiguous(t: &Tensor) -> Result<Tensor> {
    check_f32("contiguous", &[t])?;
    if t.layout().is_contiguous() && t.layout().offset == 0 {
        return Ok(t.clone());
    }
    let out = dispatch!("contiguous", [t.storage()] => |be, s| be.contiguous(operand(s, t)));
    finish(out, t.dims().to_vec()).await
}

/// `out[i, :] = table[ids[i], :]` for a 2-D `table` (an embedding lookup). Every id is
/// checked against the table before any work is done.
pub async fn gather_rows(table: &Tensor, ids: &[u32]) -> Result<Tensor> {
    check_f32("gather_rows", &[table])?;
    let &[rows, dim] = table.dims() else {
        return Err(Error::shape("gather_rows", format!("table must be 2-D, got {}", table.shape())));
    };
    if let Some((i, id)) = ids.iter().enumerate().find(|(_, &id)| id as usize >= rows) {
        return Err(Error::shape("gather_rows", format!("id {id} at position {i} is outside the table's {rows} rows")));
    }
    if !(table.layout().is_contiguous() && table.layout().offset == 0) {
        return Err(Error::shape("gather_rows", "the table must be a contiguous tensor"));
    }
    let out = dispatch!("gather_rows", [table.storage()] => |be, s| be.gather_rows(operand(s, table), ids));
    finish(out, [ids.len(), dim]).await
}

/// Write `rows` [seq, heads, dim] into `cache` [heads, capacity, dim] at positions
/// `start..start + seq`, in place (the cache's storage is updated; views of it see the rows).
pub async fn kv_write(cache: &mut Tensor, rows: &Tensor, start: usize) -> Result<()> {
    check_f32("kv_write", &[cache, rows])?;
    let (&[heads, capacity, dim], &[seq, rh, rd]) = (cache.dims(), rows.dims()) else {
        return Err(Error::shape("kv_write", format!("cache {} / rows {}", cache.shape(), rows.shape())));
    };
    if rh != heads || rd != dim || start + seq > capacity {
        return Err(Error::shape(
            "kv_write",
            format!("rows {} at {start} into cache {} (capacity {capacity})", rows.shape(), cache.shape()),
        ));
    }
    let dims = [heads, capacity, dim];
    let source = rows.storage();
    match (cache.storage_mut()?, source) {
        (Storage::Cpu(c), Storage::Cpu(r)) => crate::backend::cpu::CpuBackend.kv_write(c, dims, operand(r, rows), start),
        (Storage::Gpu(c), Storage::Gpu(r)) => {
            let ctx = std::sync::Arc::clone(&c.ctx);
            ctx.kv_write(c, dims, operand(r, rows), start)?;
            ctx.flush_if_long().await
        }
        #[cfg(target_arch = "wasm32")]
        (Storage::WebNn(c), Storage::WebNn(r)) => c.context().kv_write(c, dims, operand(r, rows), start),
        (c, r) => Err(mismatch("kv_write", c, r)),
    }
}
