//! Weights out of an ONNX model file: the graph's initializers (name, shape, data) and its
//! nodes (so exporter-renamed weights can be traced back to the layer that uses them).
//! Only what loading weights needs; the graph itself is not executed.

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
const DATA_TYPE_FLOAT16: i64 = 10;

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
        for field in Fields::new(graph) {
            match field? {
                Field::Bytes(GRAPH_NODE, n) => model.nodes.push(parse_node(n)?),
                Field::Bytes(GRAPH_INITIALIZER, t) => {
                    let (name, init) = parse_initializer(t)?;
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
        let count: usize = init.dims.iter().product();
        let values: Vec<f32> = match (init.data_type, init.raw) {
            (DATA_TYPE_FLOAT, Some(raw)) => raw.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect(),
            (DATA_TYPE_FLOAT, None) => init.floats.clone(),
            (DATA_TYPE_FLOAT16, Some(raw)) => {
                raw.chunks_exact(2).map(|b| crate::core::f16::f16_to_f32(u16::from_le_bytes([b[0], b[1]]))).collect()
            }
            (other, _) => return Err(bad(format!("initializer {name:?} has data type {other}; only float and float16 are read"))),
        };
        if values.len() != count {
            return Err(bad(format!("initializer {name:?}: shape {:?} needs {count} values, data holds {}", init.dims, values.len())));
        }
        Tensor::from_vec(values, init.dims.clone())
    }
}

fn parse_node(bytes: &[u8]) -> Result<Node> {
    let mut node = Node { op_type: String::new(), inputs: Vec::new(), outputs: Vec::new() };
    for field in Fields::new(bytes) {
        match field? {
            Field::Bytes(NODE_INPUT, s) => node.inputs.push(utf8(s, "node input")?.to_string()),
            Field::Bytes(NODE_OUTPUT, s) => node.outputs.push(utf8(s, "node output")?.to_string()),
            Field::Bytes(NODE_OP_TYPE, s) => node.op_type = utf8(s, "op type")?.to_string(),
            _ => {}
        }
    }
    Ok(node)
}

fn parse_initializer(bytes: &[u8]) -> Result<(String, Initializer<'_>)> {
    let mut name = String::new();
    let mut dims = Vec::new();
    let mut init = Initializer { dims: Vec::new(), data_type: 0, raw: None, floats: Vec::new() };
    for field in Fields::new(bytes) {
        let field = field?;
        match (field.number(), field) {
            (TENSOR_DIMS, f) => push_ints(f, &mut dims)?,
            (TENSOR_DATA_TYPE, Field::Varint(_, v)) => init.data_type = v as i64,
            (TENSOR_NAME, Field::Bytes(_, s)) => name = utf8(s, "initializer name")?.to_string(),
            (TENSOR_RAW_DATA, Field::Bytes(_, raw)) => init.raw = Some(raw),
            (TENSOR_FLOAT_DATA, Field::Bytes(_, packed)) => {
                init.floats.extend(packed.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])))
            }
            (TENSOR_FLOAT_DATA, Field::Fixed32(_, bits)) => init.floats.push(f32::from_bits(bits)),
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
