//! Recognising software (CPU-emulated) GPU adapters by their reported identity.

/// Substrings (lowercase) that the known software rasterisers report in their adapter info.
const SOFTWARE_MARKERS: [&str; 6] = ["swiftshader", "llvmpipe", "lavapipe", "softpipe", "microsoft basic render", "warp"];

/// True when an adapter is a CPU emulation. `device_type_is_cpu` is what the API itself says
/// (wgpu's `DeviceType::Cpu`, WebGPU's `isFallbackAdapter`); names catch the rest.
pub fn is_software_adapter(device_type_is_cpu: bool, identity: &[&str]) -> bool {
    device_type_is_cpu
        || identity.iter().any(|part| {
            let lower = part.to_lowercase();
            SOFTWARE_MARKERS.iter().any(|m| lower.contains(m))
        })
}

#[cfg(test)]
mod tests {
    use super::is_software_adapter;

    #[test]
    fn known_emulators_are_flagged_and_real_gpus_are_not() {
        assert!(is_software_adapter(false, &["google", "swiftshader"]));
        assert!(is_software_adapter(false, &["llvmpipe (LLVM 15.0.6, 256 bits)"]));
        assert!(is_software_adapter(true, &["anything"]));
        assert!(!is_software_adapter(false, &["NVIDIA H100 80GB HBM3", "nvidia"]));
    }
}
