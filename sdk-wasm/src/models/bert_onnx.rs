//! BERT weights out of an exported ONNX graph, renamed to the Hugging Face names `Bert::load`
//! reads. Exporters prefix names (`model.0.auto_model.`, `inner.`) and store each Linear's
//! weight pre-transposed under an anonymous name (`onnx::MatMul_470`); such a weight is named
//! after the bias that the MatMul's output is added to.
//! A quantized export stores a weight as int8 plus scales and dequantizes it in the graph
//! (`w = Cast(w_q) · w_scale`): such a weight is read as f32 (values × scales) and, where
//! the scales are per output feature, also kept as the file's own int8 values.

use crate::core::error::{Error, Result};
use crate::tensor::Tensor;
use crate::weights::{Int8Weights, NamedTensors, OnnxModel};
use std::collections::BTreeMap;

fn bad(detail: impl Into<String>) -> Error {
    Error::Weights { format: "onnx", detail: detail.into() }
}

/// `model.0.auto_model.encoder.layer.0.output.dense.bias` → `encoder.layer.0.output.dense.bias`.
fn hf_name(name: &str) -> Option<String> {
    let segments: Vec<&str> = name.split('.').collect();
    let start = segments.iter().position(|s| *s == "embeddings" || *s == "encoder")?;
    Some(segments[start..].join("."))
}

/// A weight the graph computes as `Cast(q) · scale` from an int8 and a float initializer.
struct Dequantized<'m> {
    q: &'m str,
    scale: &'m str,
}

/// Every `Mul(Cast(int8 initializer), float initializer)` in the graph, by its output's name.
fn dequantized_weights<'m>(model: &'m OnnxModel<'_>) -> BTreeMap<&'m str, Dequantized<'m>> {
    let casts: BTreeMap<&str, &str> = model
        .nodes
        .iter()
        .filter(|n| n.op_type == "Cast")
        .filter_map(|n| Some((n.outputs.first()?.as_str(), n.inputs.first()?.as_str())))
        .filter(|(_, q)| model.is_int8(q))
        .collect();
    let mut out = BTreeMap::new();
    for node in model.nodes.iter().filter(|n| n.op_type == "Mul" && n.inputs.len() == 2) {
        for (cast, scale) in [(&node.inputs[0], &node.inputs[1]), (&node.inputs[1], &node.inputs[0])] {
            if let (Some(q), true, Some(output)) = (casts.get(cast.as_str()), model.initializers.contains_key(scale), node.outputs.first())
            {
                out.insert(output.as_str(), Dequantized { q, scale });
            }
        }
    }
    out
}

/// How a dequantized weight's scales spread over its [rows, cols] values.
enum ScaleAxis {
    All,
    PerRow,
    PerColumn,
}

/// An int8 initializer [rows, cols] and the scales the graph multiplies it by.
struct Int8Initializer {
    values: Vec<i8>,
    rows: usize,
    cols: usize,
    scales: Vec<f32>,
    axis: ScaleAxis,
}

struct Weights<'m, 'f> {
    model: &'m OnnxModel<'f>,
    dequantized: BTreeMap<&'m str, Dequantized<'m>>,
}

impl Weights<'_, '_> {
    fn contains(&self, name: &str) -> bool {
        self.model.initializers.contains_key(name) || self.dequantized.contains_key(name)
    }

    /// The int8 values with their shape, scales and how the scales apply.
    fn int8(&self, d: &Dequantized<'_>) -> Result<Int8Initializer> {
        let (values, dims) = self.model.int8(d.q)?;
        let &[rows, cols] = dims.as_slice() else {
            return Err(bad(format!("int8 weight {:?} has shape {dims:?}; only 2-D weights are read", d.q)));
        };
        let scale = self.model.tensor(d.scale)?;
        let axis = match scale.dims() {
            s if s.iter().product::<usize>() == 1 => ScaleAxis::All,
            [1, c] | [c] if *c == cols => ScaleAxis::PerColumn,
            [r, 1] if *r == rows => ScaleAxis::PerRow,
            other => return Err(bad(format!("scale {:?} of shape {other:?} does not fit weight {:?} of shape {dims:?}", d.scale, d.q))),
        };
        Ok(Int8Initializer { values, rows, cols, scales: scale.cpu_contiguous()?.into_owned(), axis })
    }

    /// The weight as f32, dequantized if the graph stores it as int8.
    fn dense(&self, name: &str) -> Result<Tensor> {
        let Some(d) = self.dequantized.get(name) else { return self.model.tensor(name) };
        let Int8Initializer { values, rows, cols, scales, axis } = self.int8(d)?;
        let data = values.iter().enumerate().map(|(i, &v)| {
            let s = match axis {
                ScaleAxis::All => scales[0],
                ScaleAxis::PerRow => scales[i / cols],
                ScaleAxis::PerColumn => scales[i % cols],
            };
            v as f32 * s
        });
        Tensor::from_vec(data.collect(), [rows, cols])
    }

    /// A MatMul weight stored [in, out] with one scale per output: the file's int8 values as
    /// [out, in] rows.
    fn linear_int8(&self, name: &str) -> Result<Option<Int8Weights>> {
        let Some(d) = self.dequantized.get(name) else { return Ok(None) };
        let Int8Initializer { values, rows: inputs, cols: outputs, scales, axis } = self.int8(d)?;
        if !matches!(axis, ScaleAxis::PerColumn) {
            return Ok(None);
        }
        let mut rows = vec![0i8; values.len()];
        for (i, row) in values.chunks_exact(outputs.max(1)).enumerate() {
            for (o, &v) in row.iter().enumerate() {
                rows[o * inputs + i] = v;
            }
        }
        Int8Weights::new(outputs, inputs, rows, scales).map(Some)
    }
}

pub fn bert_weights_from_onnx(model: &OnnxModel<'_>) -> Result<NamedTensors> {
    let weights = Weights { model, dequantized: dequantized_weights(model) };
    let mut out = NamedTensors { format: "onnx", ..NamedTensors::default() };
    // Integer buffers (int8 weights, int64 position ids) are not weights the model reads.
    let floats = model.initializers.keys().map(String::as_str).filter(|name| model.is_float(name));
    let named = floats.chain(weights.dequantized.keys().copied());
    for name in named {
        if let Some(hf) = hf_name(name) {
            out.tensors.insert(hf, weights.dense(name)?);
        }
    }
    for node in model.nodes.iter().filter(|n| n.op_type == "MatMul") {
        let (Some(weight), Some(product)) = (node.inputs.get(1), node.outputs.first()) else { continue };
        if !weights.contains(weight) || hf_name(weight).is_some() {
            continue;
        }
        let bias = model
            .nodes
            .iter()
            .filter(|n| n.op_type == "Add" && n.inputs.contains(product))
            .flat_map(|n| n.inputs.iter())
            .find_map(|i| hf_name(i).filter(|hf| hf.ends_with(".bias") && model.initializers.contains_key(i)))
            .ok_or_else(|| bad(format!("MatMul weight {weight:?} is not followed by a named bias; cannot tell which layer it is")))?;
        let weight_name = format!("{}.weight", bias.trim_end_matches(".bias"));
        // Stored [in, out]; the HF layout is [out, in]: a view of the f32 values, or the int8
        // values (already transposed) times their scales.
        let dense = match weights.linear_int8(weight)? {
            Some(int8) => {
                let dense = int8.dequantize()?;
                out.int8.insert(weight_name.clone(), int8);
                dense
            }
            None => weights.dense(weight)?.transpose(0, 1)?,
        };
        out.tensors.insert(weight_name, dense);
    }
    if !out.tensors.contains_key("embeddings.word_embeddings.weight") {
        return Err(bad("no embeddings.word_embeddings.weight: this does not look like a BERT export"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::hf_name;

    #[test]
    fn exporter_prefixes_are_removed() {
        assert_eq!(hf_name("model.0.auto_model.embeddings.word_embeddings.weight").as_deref(), Some("embeddings.word_embeddings.weight"));
        assert_eq!(hf_name("inner.encoder.layer.3.output.dense.bias").as_deref(), Some("encoder.layer.3.output.dense.bias"));
        assert_eq!(hf_name("onnx::MatMul_470"), None);
    }
}
