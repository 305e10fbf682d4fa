//! The WGSL kernels in `shaders/`, compiled into the crate, and their validation with naga.

/// A WGSL source file from `shaders/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShaderFile {
    pub name: &'static str,
    pub source: &'static str,
}

macro_rules! shader {
    ($name:literal) => {
        ShaderFile { name: $name, source: include_str!(concat!("../../shaders/", $name)) }
    };
}

pub const MATMUL: ShaderFile = shader!("matmul.wgsl");
pub const ELEMENTWISE: ShaderFile = shader!("elementwise.wgsl");
pub const ACTIVATION: ShaderFile = shader!("activation.wgsl");
pub const SOFTMAX: ShaderFile = shader!("softmax.wgsl");
pub const LAYERNORM: ShaderFile = shader!("layernorm.wgsl");
pub const COPY: ShaderFile = shader!("copy.wgsl");
pub const GATHER: ShaderFile = shader!("gather.wgsl");
pub const QMATMUL: ShaderFile = shader!("qmatmul.wgsl");
pub const RMSNORM: ShaderFile = shader!("rmsnorm.wgsl");
pub const ROPE: ShaderFile = shader!("rope.wgsl");
pub const SWIGLU: ShaderFile = shader!("swiglu.wgsl");
pub const KV_WRITE: ShaderFile = shader!("kv_write.wgsl");

/// Every kernel the SDK ships.
pub const ALL: [ShaderFile; 12] =
    [MATMUL, ELEMENTWISE, ACTIVATION, SOFTMAX, LAYERNORM, COPY, GATHER, QMATMUL, RMSNORM, ROPE, SWIGLU, KV_WRITE];

/// Parse and validate WGSL with naga; the error names the file, line and column.
#[cfg(not(target_arch = "wasm32"))]
pub fn validate(name: &str, source: &str) -> crate::Result<()> {
    let shader_error = |message: String| crate::Error::Shader { file: name.to_string(), message };
    let module = naga::front::wgsl::parse_str(source).map_err(|e| shader_error(e.emit_to_string_with_path(source, name)))?;
    naga::valid::Validator::new(naga::valid::ValidationFlags::all(), naga::valid::Capabilities::all())
        .validate(&module)
        .map_err(|e| shader_error(e.emit_to_string_with_path(source, name)))?;
    Ok(())
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_shader_validates() {
        for shader in ALL {
            validate(shader.name, shader.source).unwrap_or_else(|e| panic!("{e}"));
        }
    }

    #[test]
    fn every_wgsl_file_in_shaders_dir_is_shipped() {
        // Run-time path: a test binary reused from another clone must still read this one.
        let package = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").to_string());
        let dir = std::path::Path::new(&package).join("../shaders");
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "wgsl") {
                let name = path.file_name().unwrap().to_str().unwrap();
                assert!(ALL.iter().any(|s| s.name == name), "{name} is not listed in shaders::ALL");
            }
        }
    }

    #[test]
    fn broken_shader_gives_a_readable_error() {
        let source = include_str!("../../shaders/broken/missing_semicolon.wgsl");
        let err = validate("broken/missing_semicolon.wgsl", source).unwrap_err().to_string();
        assert!(err.contains("broken/missing_semicolon.wgsl"), "file not named: {err}");
        assert!(err.contains(":9:") || err.contains(":10:"), "line not named: {err}");
        assert!(err.to_lowercase().contains("expected"), "problem not described: {err}");
    }
}
