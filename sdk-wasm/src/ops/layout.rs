//! Moving data without arithmetic: materialising views, gathering rows.

use super::{common_device, gpu_of, grid, params, to_u32};
use crate::device::gpu::{Binding, Launch};
use crate::error::{Error, Result};
use crate::shaders;
use crate::tensor::Tensor;

const WORKGROUP: u32 = 256;
const MAX_GPU_RANK: usize = 4;

/// The tensor with its elements laid out contiguously (a no-op if they already are).
pub async fn contiguous(t: &Tensor) -> Result<Tensor> {
    let device = common_device("contiguous", &[t])?;
    if t.layout().is_contiguous() && t.layout().offset == 0 {
        return Ok(t.clone());
    }
    let Some(ctx) = gpu_of(&device) else {
        return Tensor::from_vec(t.cpu_contiguous()?.into_owned(), t.dims().to_vec());
    };
    let rank = t.dims().len();
    if rank > MAX_GPU_RANK {
        return Err(Error::shape("contiguous", format!("GPU views support rank ≤ {MAX_GPU_RANK}, got {}", t.shape())));
    }
    let pad = MAX_GPU_RANK - rank;
    let shape = std::iter::repeat_n(1, pad).chain(t.dims().iter().copied());
    let strides = std::iter::repeat_n(0, pad).chain(t.layout().strides.iter().copied());
    let len = t.elements();
    let mut words = vec![to_u32("contiguous", "elements", len)?, to_u32("contiguous", "offset", t.layout().offset)?, 0, 0];
    for v in shape.chain(strides) {
        words.push(to_u32("contiguous", "shape or stride", v)?);
    }
    let src = t.gpu_buffer().ok_or_else(|| Error::DeviceMismatch("contiguous: GPU device but CPU storage".into()))?;
    let out = ctx.alloc((len * 4) as u64);
    ctx.launch(Launch {
        shader: shaders::COPY,
        entry: "copy_strided",
        constants: vec![("WORKGROUP", WORKGROUP as f64)],
        bindings: vec![Binding::Storage(src), Binding::Storage(&out), params(&words)],
        workgroups: grid(to_u32("contiguous", "workgroups", len.div_ceil(WORKGROUP as usize))?),
    })
    .await?;
    Ok(Tensor::from_gpu(out, t.shape().clone(), device))
}

/// `out[i, :] = table[ids[i], :]` for a 2-D `table` (an embedding lookup). Every id is
/// checked against the table before any work is done.
pub async fn gather_rows(table: &Tensor, ids: &[u32]) -> Result<Tensor> {
    let device = common_device("gather_rows", &[table])?;
    let &[rows, dim] = table.dims() else {
        return Err(Error::shape("gather_rows", format!("table must be 2-D, got {}", table.shape())));
    };
    if let Some((i, id)) = ids.iter().enumerate().find(|(_, &id)| id as usize >= rows) {
        return Err(Error::shape("gather_rows", format!("id {id} at position {i} is outside the table's {rows} rows")));
    }
    let Some(ctx) = gpu_of(&device) else {
        let data = table.cpu_contiguous()?;
        let out = ids.iter().flat_map(|&id| data[id as usize * dim..(id as usize + 1) * dim].iter().copied()).collect();
        return Tensor::from_vec(out, [ids.len(), dim]);
    };
    super::require_dense("gather_rows", table)?;
    let src = table.gpu_buffer().ok_or_else(|| Error::DeviceMismatch("gather_rows: GPU device but CPU storage".into()))?;
    let ids_buf = ctx.upload_bytes(&ids.iter().flat_map(|id| id.to_le_bytes()).collect::<Vec<u8>>())?;
    let len = ids.len() * dim;
    let out = ctx.alloc((len * 4) as u64);
    ctx.launch(Launch {
        shader: shaders::GATHER,
        entry: "gather_rows",
        constants: vec![("WORKGROUP", WORKGROUP as f64)],
        bindings: vec![
            Binding::Storage(src),
            Binding::Storage(&ids_buf),
            Binding::Storage(&out),
            params(&[to_u32("gather_rows", "ids", ids.len())?, to_u32("gather_rows", "dim", dim)?, to_u32("gather_rows", "rows", rows)?]),
        ],
        workgroups: grid(to_u32("gather_rows", "workgroups", len.div_ceil(WORKGROUP as usize))?),
    })
    .await?;
    Ok(Tensor::from_gpu(out, vec![ids.len(), dim].as_slice().into(), device))
}
