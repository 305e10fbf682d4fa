//! Capabilities a browser reports about itself (from the runner page's `probe()`).

use crate::browser::BrowserSession;
use crate::error::{HostError, Result};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct WebGpuProbe {
    pub present: bool,
    pub available: bool,
    pub reason: Option<String>,
    pub vendor: String,
    pub architecture: String,
    pub device: String,
    pub description: String,
    pub is_fallback_adapter: bool,
    pub features: Vec<String>,
    pub limits: serde_json::Map<String, serde_json::Value>,
}

impl WebGpuProbe {
    pub fn shader_f16(&self) -> bool {
        self.features.iter().any(|f| f == "shader-f16")
    }
    /// "vendor architecture description", or a note when the browser hides all of them
    /// (Firefox reports empty adapter info).
    pub fn identity(&self) -> String {
        let parts: Vec<&str> =
            [self.vendor.as_str(), self.architecture.as_str(), self.description.as_str()].into_iter().filter(|s| !s.is_empty()).collect();
        if parts.is_empty() {
            "adapter identity not exposed by the browser".into()
        } else {
            parts.join(" ")
        }
    }
    pub fn software(&self) -> bool {
        ipfs_accelerate::device::is_software_adapter(
            self.is_fallback_adapter,
            &[&self.vendor, &self.architecture, &self.description, &self.device],
        )
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct WebNnProbe {
    pub present: bool,
    /// `createContext()` with no options resolved.
    pub context: bool,
    pub reason: Option<String>,
    /// No options, then deviceType cpu, gpu, npu.
    pub devices: Vec<WebNnDeviceProbe>,
}

/// One WebNN deviceType: a context, and a one-op graph built, dispatched and read back.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct WebNnDeviceProbe {
    /// "default" (no options), "cpu", "gpu" or "npu".
    pub device_type: String,
    pub context: bool,
    /// The graph ran and gave the right numbers.
    pub runs: bool,
    /// Where the browser says the graph runs (`MLGraph.devices`), when it says.
    pub graph_devices: Option<Vec<String>>,
    pub reason: Option<String>,
}

impl WebNnProbe {
    /// The deviceTypes whose graphs really run, e.g. "cpu, gpu (runs on gpu+cpu), npu (runs on cpu)".
    pub fn working_devices(&self) -> Vec<String> {
        self.devices
            .iter()
            .filter(|d| d.runs && d.device_type != "default")
            .map(|d| match &d.graph_devices {
                Some(on) if on.len() != 1 || on[0] != d.device_type => format!("{} (runs on {})", d.device_type, on.join("+")),
                _ => d.device_type.clone(),
            })
            .collect()
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct WasmProbe {
    pub simd: bool,
    pub relaxed_simd: bool,
    pub threads: bool,
    pub cross_origin_isolated: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct StorageProbe {
    pub indexed_db: bool,
    pub quota_bytes: Option<f64>,
    pub usage_bytes: Option<f64>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct BrowserProbe {
    pub user_agent: String,
    pub sdk_version: String,
    pub cpu_flavour: String,
    pub hardware_concurrency: Option<u32>,
    pub webgpu: WebGpuProbe,
    pub webnn: WebNnProbe,
    pub wasm: WasmProbe,
    pub storage: StorageProbe,
}

impl BrowserProbe {
    pub async fn collect(session: &BrowserSession) -> Result<BrowserProbe> {
        let value = session.call("probe", vec![]).await?;
        serde_json::from_value(value).map_err(|e| HostError::Invalid(format!("probe() returned unexpected JSON: {e}")))
    }
}
