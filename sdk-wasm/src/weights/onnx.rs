//! Weights out of an ONNX model file: the graph's initializers (name, shape, data) and its
//! nodes (so exporter-renamed weights can be traced back to the layer that uses them).
//! Only what loading weights needs; the graph itself is not executed.

use super::budget::MemoryBudget;
use super::protobuf::{push_ints, utf8, Field, Fields};
use crate::core::error::{Error, Result};
use crate::tensor::Tensor;
use std::collections::BTreeMap;

fn bad(detail: impl Into<String>) -> Error {
    Error::Weights { format: "onnx", detail: detail.into() }
}

// Field numbers from onnx.proto3.
const MODEL_GRAPH: u32 = 7;
const GRAPH_NODE: u32 = 1;
const GRAPH_INITIALIZER: u32 = 5;
const NODE_INPUT: u32 = 1;
const NODE_OUTPUT: u32 = 2;
const NODE_OP_TYPE: u32 = 4;
const TENSOR_DIMS: u32 = 1;
const TENSOR_DATA_TYPE: u32 = 2;
const TENSOR_FLOAT_DATA: u32 = 4;
const TENSOR_NAME: u32 = 8;
const TENSOR_RAW_DATA: u32 = 9;
const TENSOR_DATA_LOCATION: u32 = 14;
const DATA_TYPE_FLOAT: i64 = 1;
const DATA_TYPE_INT8: i64 = 3;
const DATA_TYPE_FLOAT16: i64 = 10;
/// ONNX allows any rank; weights have a handful of dimensions.
const MAX_RANK: usize = 8;

/// One initializer, its data still borrowed from the file.
pub struct Initializer<'a> {
    pub dims: Vec<usize>,
    data_type: i64,
    raw: Option<&'a [u8]>,
    floats: Vec<f32>,
}

pub struct Node {
    pub op_type: String,
    pub inputs: Vec<String>,
    pub outputs: Vec<String>,
}

/// The parts of an ONNX `ModelProto` that hold weights.
pub struct OnnxModel<'a> {
    pub initializers: BTreeMap<String, Initializer<'a>>,
    pub nodes: Vec<Node>,
}

impl<'a> OnnxModel<'a> {
    pub fn parse(bytes: &'a [u8]) -> Result<OnnxModel<'a>> {
        let mut graph = None;
        for field in Fields::new(bytes) {
            if let Field::Bytes(MODEL_GRAPH, g) = field? {
                graph = Some(g);
            }
        }
        let graph = graph.ok_or_else(|| bad("no graph in the file (is it an ONNX model?)"))?;
        let mut model = OnnxModel { initializers: BTreeMap::new(), nodes: Vec::new() };
        // An empty node is 2 bytes in the file and a 72-byte `Node` in memory: what the graph
        // will take is charged before it is built.
        let mut budget = MemoryBudget::new("onnx");
        for field in Fields::new(graph) {
            match field? {
                Field::Bytes(GRAPH_NODE, n) => {
                    budget.charge_items::<Node>(1, "a graph node")?;
                    model.nodes.push(parse_node(n, &mut budget)?)
                }
                Field::Bytes(GRAPH_INITIALIZER, t) => {
                    budget.charge_items::<Initializer>(1, "an initializer")?;
                    let (name, init) = parse_initializer(t, &mut budget)?;
                    model.initializers.insert(name, init);
                }
                _ => {}
            }
        }
        if model.initializers.is_empty() {
            return Err(bad("the graph has no initializers (weights)"));
        }
        Ok(model)
    }

    /// The named initializer as an f32 tensor on the CPU (FLOAT copied, FLOAT16 widened).
    pub fn tensor(&self, name: &str) -> Result<Tensor> {
        let init = self.initializers.get(name).ok_or_else(|| bad(format!("no initializer named {name:?}")))?;
        let count = init.dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
        let count = count.ok_or_else(|| bad(format!("initializer {name:?}: shape {:?} overflows", init.dims)))?;
        // The data must hold exactly the shape's values: checked before anything is decoded.
        let (held, needed) = match (init.data_type, init.raw) {
            (DATA_TYPE_FLOAT, Some(raw)) => (raw.len(), count.checked_mul(4)),
            (DATA_TYPE_FLOAT16, Some(raw)) => (raw.len(), count.checked_mul(2)),
            (DATA_TYPE_FLOAT, None) => (init.floats.len(), Some(count)),
            (other, _) => return Err(bad(format!("initializer {name:?} has data type {other}; only float and float16 are read"))),
        };
        if needed != Some(held) {
            return Err(bad(format!(
                "initializer {name:?}: shape {:?} needs {count} values, the data holds {held} bytes or floats",
                init.dims
            )));
        }
        let values: Vec<f32> = match (init.data_type, init.raw) {
            (DATA_TYPE_FLOAT, Some(raw)) => raw.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect(),
            (DATA_TYPE_FLOAT, None) => init.floats.clone(),
            (DATA_TYPE_FLOAT16, Some(raw)) => {
                raw.chunks_exact(2).map(|b| crate::core::f16::f16_to_f32(u16::from_le_bytes([b[0], b[1]]))).collect()
            }
            (other, _) => return Err(bad(format!("initializer {name:?} has data type {other}; only float and float16 are read"))),
        };
        Tensor::from_vec(values, init.dims.clone())
    }
}

impl OnnxModel<'_> {
    /// The named INT8 initializer's values and shape (raw data only, as exporters write it).
    pub fn int8(&self, name: &str) -> Result<(Vec<i8>, Vec<usize>)> {
        let init = self.initializers.get(name).ok_or_else(|| bad(format!("no initializer named {name:?}")))?;
        let (DATA_TYPE_INT8, Some(raw)) = (init.data_type, init.raw) else {
            return Err(bad(format!("initializer {name:?} is not raw int8 data (data type {})", init.data_type)));
        };
        let count = init.dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
        if count != Some(raw.len()) {
            return Err(bad(format!("initializer {name:?}: shape {:?} does not match its {} bytes", init.dims, raw.len())));
        }
        Ok((raw.iter().map(|&b| b as i8).collect(), init.dims.clone()))
    }

    /// True when the initializer holds float or float16 values (what `tensor` reads).
    pub fn is_float(&self, name: &str) -> bool {
        self.initializers.get(name).is_some_and(|i| matches!(i.data_type, DATA_TYPE_FLOAT | DATA_TYPE_FLOAT16))
    }

    /// True when the initializer holds int8 values.
    pub fn is_int8(&self, name: &str) -> bool {
        self.initializers.get(name).is_some_and(|i| i.data_type == DATA_TYPE_INT8)
    }
}

fn parse_node(bytes: &[u8], budget: &mut MemoryBudget) -> Result<Node> {
    let mut node = Node { op_type: String::new(), inputs: Vec::new(), outputs: Vec::new() };
    for field in Fields::new(bytes) {
        let field = field?;
        if let Field::Bytes(NODE_INPUT | NODE_OUTPUT, s) = field {
            budget.charge(std::mem::size_of::<String>() + s.len(), "a node input or output name")?;
        }
        match field {
            Field::Bytes(NODE_INPUT, s) => node.inputs.push(utf8(s, "node input")?.to_string()),
            Field::Bytes(NODE_OUTPUT, s) => node.outputs.push(utf8(s, "node output")?.to_string()),
            Field::Bytes(NODE_OP_TYPE, s) => node.op_type = utf8(s, "op type")?.to_string(),
            _ => {}
        }
    }
    Ok(node)
}

fn parse_initializer<'a>(bytes: &'a [u8], budget: &mut MemoryBudget) -> Result<(String, Initializer<'a>)> {
    let mut name = String::new();
    let mut dims = Vec::new();
    let mut init = Initializer { dims: Vec::new(), data_type: 0, raw: None, floats: Vec::new() };
    for field in Fields::new(bytes) {
        let field = field?;
        match (field.number(), field) {
            (TENSOR_DIMS, f) => push_ints(f, &mut dims, MAX_RANK)?,
            (TENSOR_DATA_TYPE, Field::Varint(_, v)) => init.data_type = v as i64,
            (TENSOR_NAME, Field::Bytes(_, s)) => name = utf8(s, "initializer name")?.to_string(),
            (TENSOR_RAW_DATA, Field::Bytes(_, raw)) => init.raw = Some(raw),
            (TENSOR_FLOAT_DATA, Field::Bytes(_, packed)) => {
                budget.charge(packed.len(), "float_data")?;
                init.floats.extend(packed.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])))
            }
            (TENSOR_FLOAT_DATA, Field::Fixed32(_, bits)) => {
                budget.charge(4, "float_data")?;
                init.floats.push(f32::from_bits(bits))
            }
            (TENSOR_DATA_LOCATION, Field::Varint(_, 1)) => {
                return Err(bad(format!("initializer {name:?} keeps its data in an external file, which is not supported")))
            }
            _ => {}
        }
    }
    init.dims = dims
        .into_iter()
        .map(|d| usize::try_from(d).map_err(|_| bad(format!("initializer {name:?} has a negative dimension {d}"))))
        .collect::<Result<_>>()?;
    Ok((name, init))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Protobuf field `number` holding `payload` (length-delimited).
    fn bytes_field(number: u32, payload: &[u8]) -> Vec<u8> {
        let mut out = varint((number as u64) << 3 | 2);
        out.extend(varint(payload.len() as u64));
        out.extend_from_slice(payload);
        out
    }

    fn varint(mut v: u64) -> Vec<u8> {
        let mut out = Vec::new();
        loop {
            let byte = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out.push(byte);
                return out;
            }
            out.push(byte | 0x80);
        }
    }

    fn model(graph: &[u8]) -> Vec<u8> {
        bytes_field(MODEL_GRAPH, graph)
    }

    fn initializer(name: &str, dims: &[u64], raw: &[u8]) -> Vec<u8> {
        let mut t = bytes_field(TENSOR_NAME, name.as_bytes());
        let packed: Vec<u8> = dims.iter().flat_map(|&d| varint(d)).collect();
        t.extend(bytes_field(TENSOR_DIMS, &packed));
        t.extend(varint((TENSOR_DATA_TYPE as u64) << 3));
        t.extend(varint(DATA_TYPE_FLOAT as u64));
        t.extend(bytes_field(TENSOR_RAW_DATA, raw));
        bytes_field(GRAPH_INITIALIZER, &t)
    }

    #[test]
    fn shapes_are_checked_against_the_data_before_decoding() {
        let raw: Vec<u8> = [1.0f32, 2.0].iter().flat_map(|v| v.to_le_bytes()).collect();
        let file = model(&initializer("w", &[2], &raw));
        let m = OnnxModel::parse(&file).unwrap();
        assert_eq!(m.tensor("w").unwrap().dims(), [2]);
        // Dims whose product overflows usize: an error, not a panic or a wrapped count.
        let file = model(&initializer("w", &[1 << 33, 1 << 33, 1 << 33], &raw));
        let err = OnnxModel::parse(&file).unwrap().tensor("w").unwrap_err().to_string();
        assert!(err.contains("overflows"), "{err}");
        let file = model(&initializer("w", &[3], &raw));
        assert!(OnnxModel::parse(&file).unwrap().tensor("w").unwrap_err().to_string().contains("needs 3 values"));
        // A rank of thousands (one byte per dimension in the file, eight in memory) is refused.
        let file = model(&initializer("w", &[1; 5000], &raw));
        let err = OnnxModel::parse(&file).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("more than 8"), "{err}");
    }

    #[test]
    fn a_graph_of_empty_nodes_is_bounded_in_memory() {
        // 4M empty nodes: 8 MB in the file, 4M × 72 bytes = 288 MB as `Node`s.
        let raw = 1.0f32.to_le_bytes();
        let mut graph = initializer("w", &[1], &raw);
        let node = bytes_field(GRAPH_NODE, &[]);
        graph.extend(std::iter::repeat_n(node, 4 << 20).flatten());
        let err = OnnxModel::parse(&model(&graph)).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("graph node") && err.contains("256 MiB"), "{err}");
    }
}
