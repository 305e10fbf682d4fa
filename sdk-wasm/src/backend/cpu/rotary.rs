//! Rotary position embedding: each pair (2i, 2i+1) of a head rotates by its position's angle
//! (llama.cpp's layout for GGUF LLaMA weights).

use super::{CpuBackend, CpuStorage};
use crate::backend::{Operand, RotaryOps};
use crate::core::Result;

impl RotaryOps for CpuBackend {
    fn rope(&self, x: Operand<CpuStorage>, cos: Operand<CpuStorage>, sin: Operand<CpuStorage>) -> Result<CpuStorage> {
        let dims = x.layout.shape.dims();
        let (heads, half) = (dims[1], dims[2] / 2);
        let (c, s) = (cos.storage.dense(cos.layout)?, sin.storage.dense(sin.layout)?);
        let mut out = x.storage.dense(x.layout)?.into_owned();
        for (pair, o) in out.chunks_exact_mut(2).enumerate() {
            let t = (pair / (heads * half)) * half + pair % half;
            let (a, b) = (o[0], o[1]);
            o[0] = a * c[t] - b * s[t];
            o[1] = a * s[t] + b * c[t];
        }
        Ok(CpuStorage::f32(out))
    }
}
