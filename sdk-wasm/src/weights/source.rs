//! Where a model's loader reads named tensors from, whatever the file format.

use super::SafeTensors;
use crate::core::error::{Error, Result};
use crate::tensor::Tensor;
use std::collections::BTreeMap;

/// Named f32 tensors on the CPU, by the names the model's loader uses.
pub trait WeightSource {
    fn tensor(&self, name: &str) -> Result<Tensor>;

    /// The shape of tensor `name` from the file's table, reading (and allocating) nothing;
    /// None when there is no such tensor. Loaders check a config against these first.
    fn dims(&self, name: &str) -> Option<Vec<usize>>;
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
}

impl WeightSource for NamedTensors {
    fn tensor(&self, name: &str) -> Result<Tensor> {
        self.tensors.get(name).cloned().ok_or_else(|| Error::Weights { format: self.format, detail: format!("no tensor for {name:?}") })
    }

    fn dims(&self, name: &str) -> Option<Vec<usize>> {
        self.tensors.get(name).map(|t| t.dims().to_vec())
    }
}
