//! BERT weights out of an exported ONNX graph, renamed to the Hugging Face names `Bert::load`
//! reads. Exporters prefix names (`model.0.auto_model.`, `inner.`) and store each Linear's
//! weight pre-transposed under an anonymous name (`onnx::MatMul_470`); such a weight is named
//! after the bias that the MatMul's output is added to.

use crate::core::error::{Error, Result};
use crate::weights::{NamedTensors, OnnxModel};

fn bad(detail: impl Into<String>) -> Error {
    Error::Weights { format: "onnx", detail: detail.into() }
}

/// `model.0.auto_model.encoder.layer.0.output.dense.bias` → `encoder.layer.0.output.dense.bias`.
fn hf_name(name: &str) -> Option<String> {
    let segments: Vec<&str> = name.split('.').collect();
    let start = segments.iter().position(|s| *s == "embeddings" || *s == "encoder")?;
    Some(segments[start..].join("."))
}

pub fn bert_weights_from_onnx(model: &OnnxModel<'_>) -> Result<NamedTensors> {
    let mut out = NamedTensors { format: "onnx", ..NamedTensors::default() };
    for name in model.initializers.keys() {
        if let Some(hf) = hf_name(name) {
            out.tensors.insert(hf, model.tensor(name)?);
        }
    }
    for node in model.nodes.iter().filter(|n| n.op_type == "MatMul") {
        let (Some(weight), Some(product)) = (node.inputs.get(1), node.outputs.first()) else { continue };
        if !model.initializers.contains_key(weight) || hf_name(weight).is_some() {
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
        // Stored [in, out]; the HF layout is [out, in]. A view, no copy.
        out.tensors.insert(weight_name, model.tensor(weight)?.transpose(0, 1)?);
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
