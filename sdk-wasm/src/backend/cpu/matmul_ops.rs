//! The CPU's `MatmulOps`: which kernel a product takes — int8 for a weight stored as int8
//! panels, the packed f32 kernel for a shared weight (its packing cached on the storage), a
//! fresh packing per call otherwise — and a linear layer's bias added as the product is
//! written (packed kernel) or right after, while the rows are still in cache (the others).

use super::int8_matmul::int8_matmul;
use super::matmul::{matmul, matmul_packed, Addends};
use super::{CpuBackend, CpuStorage};
use crate::backend::{MatmulOps, MatmulPlan, Operand};
use crate::core::Result;

impl MatmulOps for CpuBackend {
    fn matmul(&self, a: Operand<CpuStorage>, b: Operand<CpuStorage>, p: &MatmulPlan) -> Result<CpuStorage> {
        product(a, b, Addends::default(), p)
    }

    fn matmul_bias(
        &self,
        a: Operand<CpuStorage>,
        b: Operand<CpuStorage>,
        bias: Operand<CpuStorage>,
        p: &MatmulPlan,
    ) -> Result<Option<CpuStorage>> {
        let bias = bias.storage.dense(bias.layout)?;
        product(a, b, Addends { bias: Some(&bias), residual: None }, p).map(Some)
    }

    fn matmul_bias_residual(
        &self,
        a: Operand<CpuStorage>,
        b: Operand<CpuStorage>,
        bias: Operand<CpuStorage>,
        residual: Operand<CpuStorage>,
        p: &MatmulPlan,
    ) -> Result<Option<CpuStorage>> {
        let (bias, residual) = (bias.storage.dense(bias.layout)?, residual.storage.dense(residual.layout)?);
        product(a, b, Addends { bias: Some(&bias), residual: Some(&residual) }, p).map(Some)
    }
}

/// `a·b` plus `add` (a residual covers every batch: batch·m×n values).
fn product(a: Operand<CpuStorage>, b: Operand<CpuStorage>, add: Addends, p: &MatmulPlan) -> Result<CpuStorage> {
    let av = a.storage.dense(a.layout)?;
    let (mk, kn, mn) = (p.m * p.k, p.k * p.n, p.m * p.n);
    let mut out = vec![0.0; p.batch * mn];
    let batch_add = |i: usize| add.rows_from(i * p.m, p.m, p.n);
    if let Some(w) = b.storage.int8_rhs(b.layout, p.k, p.n).filter(|_| p.b_shared) {
        for i in 0..p.batch {
            int8_matmul(&av[i * mk..(i + 1) * mk], p.m, w, &mut out[i * mn..(i + 1) * mn]);
            batch_add(i).add_to(&mut out[i * mn..(i + 1) * mn]);
        }
    } else if p.b_shared {
        // One B for every batch: a weight, whose packing is cached on its storage.
        let packed = b.storage.packed_rhs(b.layout, p.k, p.n)?;
        for i in 0..p.batch {
            matmul_packed(&av[i * mk..(i + 1) * mk], &packed, p.m, batch_add(i), &mut out[i * mn..(i + 1) * mn]);
        }
    } else {
        let bv = b.storage.dense(b.layout)?;
        for i in 0..p.batch {
            matmul(&av[i * mk..(i + 1) * mk], &bv[i * kn..(i + 1) * kn], p.m, p.k, p.n, &mut out[i * mn..(i + 1) * mn]);
            batch_add(i).add_to(&mut out[i * mn..(i + 1) * mn]);
        }
    }
    Ok(CpuStorage::f32(out))
}
