//! x · Wᵀ with W's rows kept in their block format and decoded in the kernel.

use super::params::QmatmulParams;
use super::{dense, elements, grid, output, shaders, u32_of, GpuContext, WgpuStorage};
use crate::backend::{Operand, QuantMatmulOps, QuantShape};
use crate::core::{DType, Error, Result};

/// The kernel's `FORMAT` override for a block format.
fn format_code(dtype: DType) -> Result<f64> {
    Ok(match dtype {
        DType::Q4_0 => 2.0,
        DType::Q4_1 => 3.0,
        DType::Q8_0 => 8.0,
        DType::Q2 => 20.0,
        DType::Q3 => 21.0,
        other => return Err(Error::UnsupportedDType { op: "qmatmul", dtype: other }),
    })
}

impl QuantMatmulOps for GpuContext {
    fn qmatmul(&self, x: Operand<WgpuStorage>, w: &WgpuStorage, s: QuantShape) -> Result<WgpuStorage> {
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
        self.record(
            shaders::QMATMUL,
            "qmatmul",
            vec![("FORMAT", format_code(s.dtype)?)],
            &[xb, &w.buffer, &out.buffer],
            &params,
            grid(m * s.rows)?,
        );
        Ok(out)
    }
}
