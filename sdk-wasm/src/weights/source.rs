//! Where a model's loader reads named tensors from, whatever the file format.

use super::{Int8Weights, SafeTensors};
use crate::core::error::{Error, Result};
use crate::tensor::Tensor;
use std::collections::BTreeMap;

/// Named f32 tensors on the CPU, by the names the model's loader uses.
pub trait WeightSource {
    fn tensor(&self, name: &str) -> Result<Tensor>;

    /// The shape of tensor `name` from the file's table, reading (and allocating) nothing;
    /// None when there is no such tensor. Loaders check a config against these first.
    fn dims(&self, name: &str) -> Option<Vec<usize>>;

    /// The weight `name` as the file's own int8 values, where the file stores it so
    /// (`tensor` then gives them dequantized).
    fn int8(&self, _name: &str) -> Option<&Int8Weights> {
        None
    }
}

impl WeightSource for SafeTensors<'_> {
    fn tensor(&self, name: &str) -> Result<Tensor> {
        SafeTensors::tensor(self, name)
    }

    fn dims(&self, name: &str) -> Option<Vec<usize>> {
        self.info(name).map(|i| i.shape.clone())
    }
}

/// Tensors already read and renamed (e.g. out of an ONNX graph).
#[derive(Default)]
pub struct NamedTensors {
    pub format: &'static str,
    pub tensors: BTreeMap<String, Tensor>,
    /// Weights the file stores as int8, by the same names (their `tensors` entry is dequantized).
    pub int8: BTreeMap<String, Int8Weights>,
}

impl WeightSource for NamedTensors {
    fn tensor(&self, name: &str) -> Result<Tensor> {
        self.tensors.get(name).cloned().ok_or_else(|| Error::Weights { format: self.format, detail: format!("no tensor for {name:?}") })
    }

    fn dims(&self, name: &str) -> Option<Vec<usize>> {
        self.tensors.get(name).map(|t| t.dims().to_vec())
    }

    fn int8(&self, name: &str) -> Option<&Int8Weights> {
        self.int8.get(name)
    }
}
