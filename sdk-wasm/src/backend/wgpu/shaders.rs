//! The WGSL kernels in `shaders/`, compiled into the crate. A kernel's source is the shared
//! prelude, then its `struct Params` generated from the Rust definition, then its file.

use super::params::{
    BinaryParams, CopyParams, GatherParams, KvWriteParams, MatmulParams, Params, QmatmulParams, RopeParams, RowParams, UnaryParams,
};

/// A WGSL kernel file from `shaders/` and the parameter block it reads.
#[derive(Debug, Clone, Copy)]
pub struct ShaderFile {
    pub name: &'static str,
    pub body: &'static str,
    params: fn() -> String,
}

impl ShaderFile {
    /// A kernel with no generated params block (its body declares whatever it uses).
    pub const fn standalone(name: &'static str, body: &'static str) -> ShaderFile {
        ShaderFile { name, body, params: String::new }
    }

    /// The WGSL the GPU compiles: prelude + params declaration + body.
    pub fn source(&self) -> String {
        format!("{PRELUDE}\n{}\n{}", (self.params)(), self.body)
    }
}

pub const PRELUDE: &str = include_str!("../../../../shaders/prelude.wgsl");

macro_rules! shader {
    ($name:literal, $params:ty) => {
        ShaderFile { name: $name, body: include_str!(concat!("../../../../shaders/", $name)), params: <$params>::wgsl }
    };
}

pub const MATMUL: ShaderFile = shader!("matmul.wgsl", MatmulParams);
pub const ELEMENTWISE: ShaderFile = shader!("elementwise.wgsl", BinaryParams);
pub const ACTIVATION: ShaderFile = shader!("activation.wgsl", UnaryParams);
pub const SOFTMAX: ShaderFile = shader!("softmax.wgsl", RowParams);
pub const LAYERNORM: ShaderFile = shader!("layernorm.wgsl", RowParams);
pub const COPY: ShaderFile = shader!("copy.wgsl", CopyParams);
pub const GATHER: ShaderFile = shader!("gather.wgsl", GatherParams);
pub const QMATMUL: ShaderFile = shader!("qmatmul.wgsl", QmatmulParams);
pub const RMSNORM: ShaderFile = shader!("rmsnorm.wgsl", RowParams);
pub const ROPE: ShaderFile = shader!("rope.wgsl", RopeParams);
pub const SWIGLU: ShaderFile = shader!("swiglu.wgsl", UnaryParams);
pub const KV_WRITE: ShaderFile = shader!("kv_write.wgsl", KvWriteParams);

/// Every kernel the SDK ships.
pub const ALL: [ShaderFile; 12] =
    [MATMUL, ELEMENTWISE, ACTIVATION, SOFTMAX, LAYERNORM, COPY, GATHER, QMATMUL, RMSNORM, ROPE, SWIGLU, KV_WRITE];

/// Parse and validate WGSL with naga; the error names the file, line and column.
#[cfg(not(target_arch = "wasm32"))]
pub fn validate(name: &str, source: &str) -> crate::core::Result<naga::Module> {
    let shader_error = |message: String| crate::core::Error::Shader { file: name.to_string(), message };
    let module = naga::front::wgsl::parse_str(source).map_err(|e| shader_error(e.emit_to_string_with_path(source, name)))?;
    naga::valid::Validator::new(naga::valid::ValidationFlags::all(), naga::valid::Capabilities::all())
        .validate(&module)
        .map_err(|e| shader_error(e.emit_to_string_with_path(source, name)))?;
    Ok(module)
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_shader_validates() {
        for shader in ALL {
            validate(shader.name, &shader.source()).unwrap_or_else(|e| panic!("{e}"));
        }
    }

    /// The offsets the Rust side writes are the offsets naga lays the WGSL struct out with.
    fn check_layout<P: Params>(shader: ShaderFile) {
        let module = validate(shader.name, &shader.source()).unwrap_or_else(|e| panic!("{e}"));
        let (ty, span) = module
            .types
            .iter()
            .find_map(|(_, t)| match &t.inner {
                naga::TypeInner::Struct { members, span } if t.name.as_deref() == Some("Params") => Some((members.clone(), *span)),
                _ => None,
            })
            .unwrap_or_else(|| panic!("{}: no struct Params", shader.name));
        let (offsets, size) = P::layout();
        let naga_offsets: Vec<usize> = ty.iter().map(|m| m.offset as usize).collect();
        assert_eq!(naga_offsets, offsets, "{}: field offsets", shader.name);
        assert!(size >= span as usize, "{}: Rust writes {size} bytes, WGSL needs {span}", shader.name);
        let names: Vec<&str> = ty.iter().filter_map(|m| m.name.as_deref()).collect();
        assert_eq!(names, P::FIELDS.iter().map(|f| f.0).collect::<Vec<_>>(), "{}", shader.name);
    }

    #[test]
    fn params_layout_matches_naga() {
        check_layout::<MatmulParams>(MATMUL);
        check_layout::<BinaryParams>(ELEMENTWISE);
        check_layout::<UnaryParams>(ACTIVATION);
        check_layout::<RowParams>(SOFTMAX);
        check_layout::<CopyParams>(COPY);
        check_layout::<GatherParams>(GATHER);
        check_layout::<KvWriteParams>(KV_WRITE);
        check_layout::<RopeParams>(ROPE);
        check_layout::<QmatmulParams>(QMATMUL);
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
                assert!(name == "prelude.wgsl" || ALL.iter().any(|s| s.name == name), "{name} is not listed in shaders::ALL");
            }
        }
    }

    #[test]
    fn broken_shader_gives_a_readable_error() {
        let source = include_str!("../../../../shaders/broken/missing_semicolon.wgsl");
        let err = validate("broken/missing_semicolon.wgsl", source).unwrap_err().to_string();
        assert!(err.contains("broken/missing_semicolon.wgsl"), "file not named: {err}");
        assert!(err.contains(":9:") || err.contains(":10:"), "line not named: {err}");
        assert!(err.to_lowercase().contains("expected"), "problem not described: {err}");
    }
}
