//! Ops, one family per file: each checks shapes and dtypes, then runs on the backend its
//! inputs share (`tensor::storage::dispatch!`). Model code calls these and never names a
//! device; backends never see an unchecked shape.

mod activations;
mod attention;
mod elementwise;
mod layout;
mod matmul;
mod norms;
mod quant_matmul;
mod rotary;

pub use activations::{gelu, silu_mul, unary};
pub use attention::attention;
pub use elementwise::{add, mul, scale};
pub use layout::{contiguous, gather_rows, kv_write};
pub use matmul::{linear, linear_residual, matmul};
pub use norms::{layernorm, rmsnorm, softmax};
pub use quant_matmul::{qmatmul, qmatmul_with};
pub use rotary::rope;

use crate::backend::Operand;
use crate::core::{DType, Error, Result};
use crate::tensor::{Shape, Storage, Tensor};

/// Every input is f32 (kernels are f32; block formats go through `qmatmul`).
fn check_f32(op: &'static str, inputs: &[&Tensor]) -> Result<()> {
    match inputs.iter().find(|t| t.dtype() != DType::F32) {
        Some(t) => Err(Error::UnsupportedDType { op, dtype: t.dtype() }),
        None => Ok(()),
    }
}

/// A tensor as an operand of backend `S`'s storage (the caller matched the storage).
fn operand<'a, S>(storage: &'a S, t: &'a Tensor) -> Operand<'a, S> {
    Operand { storage, layout: t.layout() }
}

/// The op's output tensor; a GPU recording that grew long is submitted here.
async fn finish(storage: Storage, dims: impl Into<Vec<usize>>) -> Result<Tensor> {
    storage.settle().await?;
    Ok(Tensor::new(storage, Shape::new(dims)))
}
