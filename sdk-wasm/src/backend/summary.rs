//! What ran the work: recorded with every result, so a simulated GPU is never mistaken for a
//! real one.

use serde::{Deserialize, Serialize};

/// Adapter facts recorded with every result, so a simulated GPU is never mistaken for a real one.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct AdapterSummary {
    pub name: String,
    pub vendor: String,
    pub architecture: String,
    pub backend: String,
    pub device_type: String,
    pub driver: String,
    /// True for CPU emulations of a GPU (SwiftShader, lavapipe/llvmpipe, WARP).
    pub software: bool,
    pub features: Vec<String>,
    pub max_buffer_size: u64,
    pub max_workgroup_storage_bytes: u32,
}
