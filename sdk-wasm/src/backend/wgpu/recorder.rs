//! Recorded GPU work: ops append kernel dispatches (and uploads that must keep their place)
//! here instead of submitting; `GpuContext::flush` encodes everything into one command
//! buffer and submits it once — a whole model forward plus its readback is one `submit`.
//!
//! Buffers a pending command uses are kept alive (cloned handles) until it is encoded. A
//! tensor dropped meanwhile returns its buffer to the pool, and a later recorded command may
//! reuse it: commands run in recorded order, and wgpu orders their buffer accesses.

use super::shaders::ShaderFile;

/// One kernel dispatch: storage buffers at bindings 0.., then its params at the last binding.
pub(crate) struct Dispatch {
    pub shader: ShaderFile,
    pub entry: &'static str,
    pub constants: Vec<(&'static str, f64)>,
    /// (pool id, buffer) per storage binding, in binding order.
    pub buffers: Vec<(u64, wgpu::Buffer)>,
    pub params: Vec<u8>,
    pub workgroups: [u32; 3],
}

pub(crate) enum Command {
    Dispatch(Dispatch),
    /// Bytes staged in a mapped-at-creation buffer, copied into `dst` at this point of the stream.
    Upload {
        staging: wgpu::Buffer,
        dst: wgpu::Buffer,
        bytes: u64,
    },
}

#[derive(Default)]
pub(crate) struct Recorder {
    pub commands: Vec<Command>,
    /// A flush took the commands and has not submitted them yet (a queue write now would land
    /// before them).
    pub encoding: bool,
}

impl Recorder {
    /// Nothing recorded and nothing being encoded: a queue write is in order.
    pub fn is_idle(&self) -> bool {
        self.commands.is_empty() && !self.encoding
    }

    pub fn dispatches(&self) -> usize {
        self.commands.iter().filter(|c| matches!(c, Command::Dispatch(_))).count()
    }
}
