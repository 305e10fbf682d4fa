//! Recorded WebNN work: each tensor is a node (an op over input views, or a leaf holding data).

use super::WebNnContext;
use crate::core::{BinaryOp, Error, Layout, Result, UnaryOp};
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Op {
    LeafF32,
    LeafI32,
    Binary(BinaryOp),
    Scale(f32),
    Unary(UnaryOp),
    SiluMul,
    Matmul,
    Softmax,
    LayerNorm(f32),
    RmsNorm(f32),
    /// Rows of input 0 picked by the int32 leaf input 1.
    Gather,
    /// Input 0's view, materialised.
    Identity,
}

pub(crate) struct Node {
    pub op: Op,
    pub inputs: Vec<(Rc<Node>, Layout)>,
    /// Output dims (contiguous).
    pub dims: Vec<usize>,
    /// A leaf's data (f32 bits or i32 values as u32 words).
    pub data: Vec<u32>,
    /// A leaf's MLTensor, written once and reused by every dispatch that reads it.
    pub tensor: RefCell<Option<wasm_bindgen::JsValue>>,
}

pub struct WebNnStorage {
    pub(crate) node: Rc<Node>,
    pub(crate) ctx: Arc<WebNnContext>,
}

impl WebNnStorage {
    pub fn leaf(ctx: &Arc<WebNnContext>, data: Vec<f32>) -> WebNnStorage {
        let dims = vec![data.len()];
        let words = data.iter().map(|v| v.to_bits()).collect();
        WebNnStorage { node: Rc::new(Node::leaf(Op::LeafF32, words, dims)), ctx: Arc::clone(ctx) }
    }

    pub(crate) fn op(&self, op: Op, inputs: Vec<(Rc<Node>, Layout)>, dims: Vec<usize>) -> WebNnStorage {
        let node = Node { op, inputs, dims, data: Vec::new(), tensor: RefCell::new(None) };
        WebNnStorage { node: Rc::new(node), ctx: Arc::clone(&self.ctx) }
    }

    pub fn context(&self) -> Arc<WebNnContext> {
        Arc::clone(&self.ctx)
    }

    pub fn elements(&self) -> usize {
        self.node.dims.iter().product()
    }

    pub fn bytes(&self) -> u64 {
        (self.elements() * 4) as u64
    }

    /// Run the graph that produces this node and read its elements back.
    pub async fn read(&self) -> Result<Vec<f32>> {
        self.ctx.run(&self.node).await
    }
}

impl Node {
    pub fn leaf(op: Op, data: Vec<u32>, dims: Vec<usize>) -> Node {
        Node { op, inputs: Vec::new(), dims, data, tensor: RefCell::new(None) }
    }

    pub fn is_leaf(&self) -> bool {
        matches!(self.op, Op::LeafF32 | Op::LeafI32)
    }
}

/// How a view of a contiguous node is expressed in WebNN: reshape to `base`, then transpose
/// by `permutation` (None: no transpose). Views WebNN cannot express are refused.
pub(crate) fn view_of(node_dims: &[usize], layout: &Layout) -> Result<(Vec<usize>, Option<Vec<u32>>)> {
    let dims = layout.shape.dims();
    let elements: usize = dims.iter().product();
    if layout.offset != 0 || elements != node_dims.iter().product::<usize>() {
        return Err(unsupported("view", "offset or partial views of a tensor"));
    }
    if layout.is_contiguous() {
        return Ok((dims.to_vec(), None));
    }
    // A permuted view: order dims by stride (largest first); in that order they must be the
    // contiguous shape the data has.
    let mut order: Vec<usize> = (0..dims.len()).collect();
    order.sort_by(|&a, &b| layout.strides[b].cmp(&layout.strides[a]));
    let base: Vec<usize> = order.iter().map(|&i| dims[i]).collect();
    let mut expected = 1;
    for (j, &i) in order.iter().enumerate().rev() {
        if dims[i] > 1 && layout.strides[i] != expected {
            return Err(unsupported("view", "broadcast or strided views"));
        }
        expected *= base[j];
    }
    let mut permutation = vec![0u32; dims.len()];
    for (j, &i) in order.iter().enumerate() {
        permutation[i] = j as u32;
    }
    Ok((base, Some(permutation)))
}

pub(crate) fn unsupported(op: &'static str, what: &str) -> Error {
    Error::Unsupported { backend: "webnn", op, reason: format!("{what} are not expressible on this backend yet") }
}
