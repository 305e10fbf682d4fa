//! Rotary position embedding, one invocation per rotated pair.

use super::params::RopeParams;
use super::variants::Variant;
use super::{dense, elements, elementwise_grid, output, u32_of, GpuContext, WgpuStorage};
use crate::backend::{Operand, RotaryOps};
use crate::core::Result;

impl RotaryOps for GpuContext {
    fn rope(&self, x: Operand<WgpuStorage>, cos: Operand<WgpuStorage>, sin: Operand<WgpuStorage>) -> Result<WgpuStorage> {
        let (xb, cb, sb) = (dense("rope", &x)?, dense("rope", &cos)?, dense("rope", &sin)?);
        let dims = x.layout.shape.dims();
        let params = RopeParams { seq: u32_of("seq", dims[0])?, heads: u32_of("heads", dims[1])?, head_dim: u32_of("head_dim", dims[2])? };
        let len = elements(x.layout);
        let out = output(&x.storage.ctx, len);
        self.record(Variant::rope(), &[xb, cb, sb, &out.buffer], &params, elementwise_grid(len / 2)?);
        Ok(out)
    }
}
