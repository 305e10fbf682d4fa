//! x · Wᵀ with W's rows kept in their block format and decoded in the kernel.

use super::params::QmatmulParams;
use super::variants::Variant;
use super::{dense, elements, grid, output, u32_of, GpuContext, WgpuStorage};
use crate::backend::{Activations, Operand, QuantMatmulOps, QuantShape};
use crate::core::{Error, Result};

impl QuantMatmulOps for GpuContext {
    fn qmatmul(&self, x: Operand<WgpuStorage>, w: &WgpuStorage, s: QuantShape) -> Result<WgpuStorage> {
        if s.activations != Activations::F32 {
            let reason = "8-bit activations run on the CPU backend; on the GPU the inputs stay f32".into();
            return Err(Error::Unsupported { backend: "wgpu", op: "qmatmul", reason });
        }
        let xb = dense("qmatmul", &x)?;
        let m = elements(x.layout) / s.cols.max(1);
        let row_bytes = s.dtype.storage_bytes(s.cols).unwrap_or(0);
        let params = QmatmulParams {
            m: u32_of("rows", m)?,
            n: u32_of("outputs", s.rows)?,
            k: u32_of("features", s.cols)?,
            row_bytes: u32_of("row bytes", row_bytes)?,
        };
        let out = output(&x.storage.ctx, m * s.rows);
        self.record(Variant::qmatmul(s.dtype)?, &[xb, &w.buffer, &out.buffer], &params, grid(m * s.rows)?);
        Ok(out)
    }
}
