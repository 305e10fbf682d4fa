//! Every compiled form of every kernel: its file, entry point and override constants. Ops
//! record dispatches through these constructors, and `Variant::all` lists them all, so a
//! device can compile every pipeline before the first inference (`precompile`).

use super::shaders::{self, ShaderFile};
use super::WORKGROUP;
use crate::core::{BinaryOp, DType, Error, Result, UnaryOp};

/// One pipeline a dispatch needs.
pub(crate) struct Variant {
    pub shader: ShaderFile,
    pub entry: &'static str,
    pub constants: Vec<(&'static str, f64)>,
}

/// `OP` of the element-wise kernel's scale entry (after the `BinaryOp` codes).
const OP_SCALE: f64 = 2.0;

/// The block formats the quantized matmul kernel reads, by its `FORMAT` code.
const QUANT_FORMATS: [(DType, f64); 5] = [(DType::Q4_0, 2.0), (DType::Q4_1, 3.0), (DType::Q8_0, 8.0), (DType::Q2, 20.0), (DType::Q3, 21.0)];

impl Variant {
    fn plain(shader: ShaderFile, entry: &'static str) -> Variant {
        Variant { shader, entry, constants: Vec::new() }
    }

    /// A kernel of one invocation per element, in workgroups of `WORKGROUP`.
    fn per_element(shader: ShaderFile, entry: &'static str, op: Option<f64>) -> Variant {
        let mut constants = vec![("WORKGROUP", WORKGROUP as f64)];
        constants.extend(op.map(|op| ("OP", op)));
        Variant { shader, entry, constants }
    }

    pub fn unary(op: UnaryOp) -> Variant {
        Variant::per_element(shaders::ACTIVATION, "unary", Some(op.shader_code() as f64))
    }

    pub fn binary(op: BinaryOp) -> Variant {
        Variant::per_element(shaders::ELEMENTWISE, "binary", Some(op.shader_code() as f64))
    }

    pub fn scale() -> Variant {
        Variant::per_element(shaders::ELEMENTWISE, "binary", Some(OP_SCALE))
    }

    pub fn silu_mul() -> Variant {
        Variant::per_element(shaders::SWIGLU, "silu_mul", None)
    }

    pub fn rope() -> Variant {
        Variant::per_element(shaders::ROPE, "rope", None)
    }

    pub fn copy_strided() -> Variant {
        Variant::per_element(shaders::COPY, "copy_strided", None)
    }

    pub fn gather_rows() -> Variant {
        Variant::per_element(shaders::GATHER, "gather_rows", None)
    }

    pub fn kv_write() -> Variant {
        Variant::per_element(shaders::KV_WRITE, "kv_write", None)
    }

    pub fn matmul() -> Variant {
        Variant::plain(shaders::MATMUL, "matmul")
    }

    pub fn softmax() -> Variant {
        Variant::plain(shaders::SOFTMAX, "softmax")
    }

    pub fn layernorm() -> Variant {
        Variant::plain(shaders::LAYERNORM, "layernorm")
    }

    pub fn rmsnorm() -> Variant {
        Variant::plain(shaders::RMSNORM, "rmsnorm")
    }

    pub fn qmatmul(dtype: DType) -> Result<Variant> {
        let (_, code) = QUANT_FORMATS.iter().find(|(d, _)| *d == dtype).ok_or(Error::UnsupportedDType { op: "qmatmul", dtype })?;
        Ok(Variant { shader: shaders::QMATMUL, entry: "qmatmul", constants: vec![("FORMAT", *code)] })
    }

    /// Every variant an op can record.
    pub fn all() -> Vec<Variant> {
        let mut all: Vec<Variant> = UnaryOp::ALL.into_iter().map(Variant::unary).collect();
        all.extend([BinaryOp::Add, BinaryOp::Mul].map(Variant::binary));
        all.extend([
            Variant::scale(),
            Variant::silu_mul(),
            Variant::rope(),
            Variant::copy_strided(),
            Variant::gather_rows(),
            Variant::kv_write(),
            Variant::matmul(),
            Variant::softmax(),
            Variant::layernorm(),
            Variant::rmsnorm(),
        ]);
        all.extend(QUANT_FORMATS.iter().filter_map(|(d, _)| Variant::qmatmul(*d).ok()));
        all
    }
}
