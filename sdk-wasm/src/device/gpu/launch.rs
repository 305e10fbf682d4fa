//! One kernel dispatch: which shader variant, which buffers, how many workgroups.

use super::GpuBuffer;
use crate::shaders::ShaderFile;

/// A binding at `@group(0) @binding(i)`, in order.
pub(crate) enum Binding<'a> {
    Storage(&'a GpuBuffer),
    /// Small parameter block (shape, strides, eps…) uploaded as a uniform buffer.
    Uniform(Vec<u8>),
}

pub(crate) struct Launch<'a> {
    pub shader: ShaderFile,
    pub entry: &'static str,
    pub constants: Vec<(&'static str, f64)>,
    pub bindings: Vec<Binding<'a>>,
    pub workgroups: [u32; 3],
}
