//! Where a model's loader reads named tensors from, whatever the file format.

use super::SafeTensors;
use crate::core::error::{Error, Result};
use crate::tensor::Tensor;
use std::collections::BTreeMap;

/// Named f32 tensors on the CPU, by the names the model's loader uses.
pub trait WeightSource {
    fn tensor(&self, name: &str) -> Result<Tensor>;
}

impl WeightSource for SafeTensors<'_> {
    fn tensor(&self, name: &str) -> Result<Tensor> {
        SafeTensors::tensor(self, name)
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
}
