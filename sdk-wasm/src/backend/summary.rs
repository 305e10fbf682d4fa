//! What ran the work: recorded with every result, so a simulated GPU is never mistaken for a
//! real one.

use serde::{Deserialize, Serialize};

/// Adapter facts recorded with every result, so a simulated GPU is never mistaken for a real one.
/// camelCase in JSON, as JavaScript reads it; the snake_case names earlier stored results
/// used are still read.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct AdapterSummary {
    pub name: String,
    pub vendor: String,
    pub architecture: String,
    pub backend: String,
    #[serde(alias = "device_type")]
    pub device_type: String,
    pub driver: String,
    /// True for CPU emulations of a GPU (SwiftShader, lavapipe/llvmpipe, WARP).
    pub software: bool,
    pub features: Vec<String>,
    #[serde(alias = "max_buffer_size")]
    pub max_buffer_size: u64,
    #[serde(alias = "max_workgroup_storage_bytes")]
    pub max_workgroup_storage_bytes: u32,
}

#[cfg(test)]
mod json_names {
    use super::AdapterSummary;

    #[test]
    fn written_in_camel_case_and_read_in_either() {
        let a = AdapterSummary { device_type: "Cpu".into(), max_buffer_size: 7, ..AdapterSummary::default() };
        let text = serde_json::to_string(&a).unwrap_or_default();
        assert!(text.contains("\"deviceType\"") && text.contains("\"maxBufferSize\"") && !text.contains('_'), "{text}");
        let old: AdapterSummary = serde_json::from_str(r#"{"device_type":"Cpu","max_buffer_size":7}"#).unwrap_or_default();
        assert_eq!(old, a);
    }
}
