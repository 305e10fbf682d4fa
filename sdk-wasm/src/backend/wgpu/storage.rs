//! What a wgpu tensor holds: a pooled buffer on one context (so its device is its storage's).

use super::{GpuBuffer, GpuContext};
use std::sync::Arc;

pub struct WgpuStorage {
    pub buffer: GpuBuffer,
    pub ctx: Arc<GpuContext>,
}
