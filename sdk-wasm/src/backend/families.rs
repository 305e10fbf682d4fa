//! The op families every backend implements, one trait each (a backend is the sum of them).
//! Inputs arrive as the backend's own storage plus the layout viewing it; shapes and dtypes
//! were checked by `ops/` before the call, so a backend only computes (or records) the op.
//! A backend that cannot run an op returns `Error::Unsupported` with its reason.

use crate::core::{BinaryOp, DType, Layout, Result, UnaryOp};

/// One operand: a backend's storage and the view of it the op reads.
pub struct Operand<'a, S> {
    pub storage: &'a S,
    pub layout: &'a Layout,
}

impl<S> Clone for Operand<'_, S> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<S> Copy for Operand<'_, S> {}

/// A batched product's sizes: [batch, m, k] · [batch or 1, k, n] → [batch, m, n].
#[derive(Debug, Clone, PartialEq)]
pub struct MatmulPlan {
    pub batch: usize,
    pub m: usize,
    pub k: usize,
    pub n: usize,
    /// The right-hand side has no batch dimension (a weight shared by every batch).
    pub b_shared: bool,
}

/// A linear layer's weights kept in a block format: `rows` outputs × `cols` inputs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QuantShape {
    pub dtype: DType,
    pub rows: usize,
    pub cols: usize,
    pub activations: Activations,
}

/// What a block-quantized linear layer multiplies its weights with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Activations {
    /// The f32 inputs as they are.
    #[default]
    F32,
    /// Inputs rounded to 8 bits per 32-value block first (as ggml's CPU kernels, llama.cpp's
    /// and candle's, always do): integer dot products, a few tenths of a logit of difference.
    Int8,
}

pub trait Backend {
    type Storage;
}

pub trait MatmulOps: Backend {
    fn matmul(&self, a: Operand<Self::Storage>, b: Operand<Self::Storage>, plan: &MatmulPlan) -> Result<Self::Storage>;

    /// `a·b + bias` (bias: n values, added to every output row) with the bias added as the
    /// product is written. `None` (the default): the backend has no such kernel, and
    /// `ops::linear` adds the bias as an op of its own.
    fn matmul_bias(
        &self,
        _a: Operand<Self::Storage>,
        _b: Operand<Self::Storage>,
        _bias: Operand<Self::Storage>,
        _plan: &MatmulPlan,
    ) -> Result<Option<Self::Storage>> {
        Ok(None)
    }

    /// `a·b + bias + residual` (residual: the output's shape) with both added as the product
    /// is written; `None` (the default) as for `matmul_bias`.
    fn matmul_bias_residual(
        &self,
        _a: Operand<Self::Storage>,
        _b: Operand<Self::Storage>,
        _bias: Operand<Self::Storage>,
        _residual: Operand<Self::Storage>,
        _plan: &MatmulPlan,
    ) -> Result<Option<Self::Storage>> {
        Ok(None)
    }
}

pub trait ElementwiseOps: Backend {
    /// `op(a, b)` broadcast to `out_dims`.
    fn binary(&self, op: BinaryOp, a: Operand<Self::Storage>, b: Operand<Self::Storage>, out_dims: &[usize]) -> Result<Self::Storage>;
    fn scale(&self, x: Operand<Self::Storage>, factor: f32) -> Result<Self::Storage>;
}

pub trait ActivationOps: Backend {
    fn unary(&self, op: UnaryOp, x: Operand<Self::Storage>) -> Result<Self::Storage>;
    /// SwiGLU's gate: silu(gate) · up.
    fn silu_mul(&self, gate: Operand<Self::Storage>, up: Operand<Self::Storage>) -> Result<Self::Storage>;
}

/// Normalisations over the last dimension (`cols` wide).
pub trait NormOps: Backend {
    fn softmax(&self, x: Operand<Self::Storage>, cols: usize) -> Result<Self::Storage>;
    fn layernorm(
        &self,
        x: Operand<Self::Storage>,
        gamma: Operand<Self::Storage>,
        beta: Operand<Self::Storage>,
        cols: usize,
        eps: f32,
    ) -> Result<Self::Storage>;
    fn rmsnorm(&self, x: Operand<Self::Storage>, gamma: Operand<Self::Storage>, cols: usize, eps: f32) -> Result<Self::Storage>;
}

pub trait RotaryOps: Backend {
    /// x [seq, heads, head_dim]; cos/sin [seq, head_dim/2]; pairs (2i, 2i+1) rotate together.
    fn rope(&self, x: Operand<Self::Storage>, cos: Operand<Self::Storage>, sin: Operand<Self::Storage>) -> Result<Self::Storage>;
}

/// Moving data without arithmetic.
pub trait LayoutOps: Backend {
    /// The view's elements, contiguous.
    fn contiguous(&self, x: Operand<Self::Storage>) -> Result<Self::Storage>;
    /// Rows `ids` of a [rows, dim] table (ids already checked against `rows`).
    fn gather_rows(&self, table: Operand<Self::Storage>, ids: &[u32]) -> Result<Self::Storage>;
    /// Write rows [seq, heads, dim] into `cache` [heads, capacity, dim] at `start`, in place.
    fn kv_write(&self, cache: &mut Self::Storage, cache_dims: [usize; 3], rows: Operand<Self::Storage>, start: usize) -> Result<()>;
}

pub trait QuantMatmulOps: Backend {
    /// x [m, cols] · Wᵀ with W in its block format → [m, rows].
    fn qmatmul(&self, x: Operand<Self::Storage>, w: &Self::Storage, shape: QuantShape) -> Result<Self::Storage>;
}

/// Scaled dot-product attention's sizes: `b` problems of `sq` queries over `sk` keys, q and k
/// `d` wide, v `dv` wide, scores scaled by `scale` (see `ops::attention` for the bias rules).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AttentionPlan {
    pub b: usize,
    pub sq: usize,
    pub sk: usize,
    pub d: usize,
    pub dv: usize,
    pub scale: f32,
    /// For a rank-4 bias [B, H, ..]: B, the scores being seen as [B, b / B, sq, sk].
    pub bias_groups: Option<usize>,
}

pub trait AttentionOps: Backend {
    /// `softmax(q·kᵀ·scale + bias)·v` in one fused kernel: q [b, sq, d], k [b, sk, d],
    /// v [b, sk, dv] (any strides), `bias` broadcasting per the plan → [b, sq, dv] contiguous.
    /// `None` (the default): the backend has no fused kernel, and `ops::attention` composes
    /// it from the other families.
    fn attention(
        &self,
        _q: Operand<Self::Storage>,
        _k: Operand<Self::Storage>,
        _v: Operand<Self::Storage>,
        _bias: Option<Operand<Self::Storage>>,
        _plan: &AttentionPlan,
    ) -> Result<Option<Self::Storage>> {
        Ok(None)
    }
}

/// Every family: what a backend must implement to run every model.
pub trait AllOps: MatmulOps + ElementwiseOps + ActivationOps + NormOps + RotaryOps + LayoutOps + QuantMatmulOps + AttentionOps {}
impl<B: MatmulOps + ElementwiseOps + ActivationOps + NormOps + RotaryOps + LayoutOps + QuantMatmulOps + AttentionOps> AllOps for B {}
