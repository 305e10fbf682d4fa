//! An opened `MLContext` and the graphs compiled on it, keyed by what they compute.

use super::builder::{call, call_async, descriptor, object, shape_array, webnn_error};
use super::graph::{view_of, Node, Op};
use crate::core::{BinaryOp, Error, Result, UnaryOp};
use js_sys::{Array, Reflect};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use wasm_bindgen::{JsCast, JsValue};

/// Compiled graphs kept per context before the cache starts over.
const MAX_GRAPHS: usize = 64;

pub struct WebNnContext {
    context: JsValue,
    device_type: String,
    graphs: RefCell<HashMap<String, JsValue>>,
}

impl WebNnContext {
    /// `navigator.ml.createContext({deviceType})`; the browser's reason if it has no WebNN.
    pub async fn new(device_type: &str) -> Result<WebNnContext> {
        let global = js_sys::global();
        let navigator = Reflect::get(&global, &"navigator".into()).map_err(|e| webnn_error("navigator", e))?;
        let ml = Reflect::get(&navigator, &"ml".into()).map_err(|e| webnn_error("navigator.ml", e))?;
        if ml.is_undefined() {
            return Err(Error::NoAdapter("WebNN: navigator.ml is absent in this browser".into()));
        }
        let context = call_async(&ml, "createContext", &[&object(&[("deviceType", device_type.into())])])
            .await
            .map_err(|e| Error::NoAdapter(format!("WebNN createContext failed: {e}")))?;
        Ok(WebNnContext { context, device_type: device_type.into(), graphs: RefCell::default() })
    }

    pub fn device_type(&self) -> &str {
        &self.device_type
    }

    /// Build (or reuse) the graph producing `output`, bind its leaves, dispatch, read back.
    pub(crate) async fn run(&self, output: &Rc<Node>) -> Result<Vec<f32>> {
        let nodes = topological(output);
        let signature = signature(&nodes);
        let cached = self.graphs.borrow().get(&signature).cloned();
        let graph = match cached {
            Some(g) => g,
            None => {
                let g = self.build(&nodes).await?;
                let mut graphs = self.graphs.borrow_mut();
                if graphs.len() >= MAX_GRAPHS {
                    graphs.clear();
                }
                graphs.insert(signature, g.clone());
                g
            }
        };
        let inputs = js_sys::Object::new();
        for (k, leaf) in nodes.iter().filter(|n| n.is_leaf()).enumerate() {
            let tensor = self.leaf_tensor(leaf).await?;
            let _ = Reflect::set(&inputs, &format!("in{k}").into(), &tensor);
        }
        let out_desc = object(&[("dataType", "float32".into()), ("shape", shape_array(&output.dims)), ("readable", true.into())]);
        let out = call_async(&self.context, "createTensor", &[&out_desc]).await?;
        let outputs = object(&[("out", out.clone())]);
        call(&self.context, "dispatch", &[&graph, &inputs.into(), &outputs])?;
        let buffer = call_async(&self.context, "readTensor", &[&out]).await?;
        let _ = call(&out, "destroy", &[]);
        Ok(js_sys::Float32Array::new(&buffer).to_vec())
    }

    /// A leaf's MLTensor, created and written on first use.
    async fn leaf_tensor(&self, leaf: &Node) -> Result<JsValue> {
        if let Some(t) = leaf.tensor.borrow().clone() {
            return Ok(t);
        }
        let (data_type, data): (&str, JsValue) = match leaf.op {
            Op::LeafI32 => ("int32", js_sys::Int32Array::from(bytemuck::cast_slice::<u32, i32>(&leaf.data)).into()),
            _ => ("float32", js_sys::Float32Array::from(bytemuck::cast_slice::<u32, f32>(&leaf.data)).into()),
        };
        let desc = object(&[("dataType", data_type.into()), ("shape", shape_array(&leaf.dims)), ("writable", true.into())]);
        let tensor = call_async(&self.context, "createTensor", &[&desc]).await?;
        call(&self.context, "writeTensor", &[&tensor, &data])?;
        *leaf.tensor.borrow_mut() = Some(tensor.clone());
        Ok(tensor)
    }

    async fn build(&self, nodes: &[Rc<Node>]) -> Result<JsValue> {
        let ctor = Reflect::get(&js_sys::global(), &"MLGraphBuilder".into()).map_err(|e| webnn_error("MLGraphBuilder", e))?;
        let ctor: js_sys::Function = ctor.dyn_into().map_err(|_| Error::NoAdapter("WebNN: MLGraphBuilder is absent".into()))?;
        let args = Array::of1(&self.context);
        let b = Reflect::construct(&ctor, &args).map_err(|e| webnn_error("new MLGraphBuilder", e))?;
        let mut operands: HashMap<*const Node, JsValue> = HashMap::new();
        let mut leaf_index = 0;
        for node in nodes {
            let operand = if node.is_leaf() {
                let data_type = if node.op == Op::LeafI32 { "int32" } else { "float32" };
                leaf_index += 1;
                call(&b, "input", &[&format!("in{}", leaf_index - 1).into(), &descriptor(data_type, &node.dims)])?
            } else {
                let mut ins = Vec::new();
                for (input, layout) in &node.inputs {
                    let source =
                        operands.get(&Rc::as_ptr(input)).cloned().ok_or_else(|| Error::Gpu("WebNN: graph input missing".into()))?;
                    ins.push(view(&b, source, &input.dims, layout)?);
                }
                apply(&b, &node.op, &ins, node.dims.len())?
            };
            operands.insert(Rc::as_ptr(node), operand);
        }
        let last = nodes.last().ok_or_else(|| Error::Gpu("WebNN: empty graph".into()))?;
        let out = operands.remove(&Rc::as_ptr(last)).ok_or_else(|| Error::Gpu("WebNN: no output".into()))?;
        // A graph's output must be computed, not an input passed through.
        let out = if last.is_leaf() { call(&b, "identity", &[&out])? } else { out };
        call_async(&b, "build", &[&object(&[("out", out)])]).await
    }
}

/// `source` (contiguous, `dims`) seen through `layout`: a reshape, then a transpose if permuted.
fn view(b: &JsValue, source: JsValue, dims: &[usize], layout: &crate::core::Layout) -> Result<JsValue> {
    let (base, permutation) = view_of(dims, layout)?;
    let reshaped = if base == dims { source } else { call(b, "reshape", &[&source, &shape_array(&base)])? };
    match permutation {
        None => Ok(reshaped),
        Some(p) => {
            let perm: Array = p.iter().map(|&v| JsValue::from(v)).collect();
            call(b, "transpose", &[&reshaped, &object(&[("permutation", perm.into())])])
        }
    }
}

/// One recorded op as WebNN builder calls.
fn apply(b: &JsValue, op: &Op, ins: &[JsValue], rank: usize) -> Result<JsValue> {
    let last_axis = || -> JsValue { Array::of1(&JsValue::from((rank.max(1) - 1) as u32)).into() };
    let scalar = |v: f32| call(b, "constant", &[&"float32".into(), &JsValue::from(v)]);
    let silu = |x: &JsValue| -> Result<JsValue> { call(b, "mul", &[x, &call(b, "sigmoid", &[x])?]) };
    match op {
        Op::Binary(BinaryOp::Add) => call(b, "add", &[&ins[0], &ins[1]]),
        Op::Binary(BinaryOp::Mul) => call(b, "mul", &[&ins[0], &ins[1]]),
        Op::Scale(f) => call(b, "mul", &[&ins[0], &scalar(*f)?]),
        Op::Unary(UnaryOp::Gelu) => call(b, "gelu", &[&ins[0]]),
        Op::Unary(UnaryOp::Silu) => silu(&ins[0]),
        Op::Unary(UnaryOp::Tanh) => call(b, "tanh", &[&ins[0]]),
        Op::Unary(UnaryOp::Relu) => call(b, "relu", &[&ins[0]]),
        Op::SiluMul => call(b, "mul", &[&silu(&ins[0])?, &ins[1]]),
        Op::Matmul => call(b, "matmul", &[&ins[0], &ins[1]]),
        Op::Softmax => call(b, "softmax", &[&ins[0], &JsValue::from((rank.max(1) - 1) as u32)]),
        Op::LayerNorm(eps) => {
            let options =
                object(&[("scale", ins[1].clone()), ("bias", ins[2].clone()), ("axes", last_axis()), ("epsilon", JsValue::from(*eps))]);
            call(b, "layerNormalization", &[&ins[0], &options])
        }
        Op::RmsNorm(eps) => {
            // No rmsNormalization in WebNN: x / sqrt(mean(x²) + eps) * gamma.
            let squares = call(b, "mul", &[&ins[0], &ins[0]])?;
            let mean = call(b, "reduceMean", &[&squares, &object(&[("axes", last_axis()), ("keepDimensions", true.into())])])?;
            let root = call(b, "sqrt", &[&call(b, "add", &[&mean, &scalar(*eps)?])?])?;
            call(b, "mul", &[&call(b, "div", &[&ins[0], &root])?, &ins[1]])
        }
        Op::Gather => call(b, "gather", &[&ins[0], &ins[1], &object(&[("axis", JsValue::from(0u32))])]),
        Op::Identity => call(b, "identity", &[&ins[0]]),
        Op::LeafF32 | Op::LeafI32 => Err(Error::Gpu("WebNN: a leaf is not an op".into())),
    }
}

/// Nodes reachable from `output`, inputs before the nodes that read them.
fn topological(output: &Rc<Node>) -> Vec<Rc<Node>> {
    let mut order = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut stack = vec![(Rc::clone(output), false)];
    while let Some((node, expanded)) = stack.pop() {
        let key = Rc::as_ptr(&node);
        if expanded {
            order.push(node);
            continue;
        }
        if !seen.insert(key) {
            continue;
        }
        stack.push((Rc::clone(&node), true));
        for (input, _) in node.inputs.iter().rev() {
            if !seen.contains(&Rc::as_ptr(input)) {
                stack.push((Rc::clone(input), false));
            }
        }
    }
    order
}

/// What a graph computes, independent of the data its leaves hold: equal signatures can share
/// one compiled graph.
fn signature(nodes: &[Rc<Node>]) -> String {
    let index: HashMap<*const Node, usize> = nodes.iter().enumerate().map(|(i, n)| (Rc::as_ptr(n), i)).collect();
    let mut s = String::new();
    for node in nodes {
        s.push_str(&format!("{:?}{:?}", node.op, node.dims));
        for (input, layout) in &node.inputs {
            s.push_str(&format!(
                "<{}:{:?}/{:?}/{}",
                index.get(&Rc::as_ptr(input)).copied().unwrap_or(usize::MAX),
                layout.shape.dims(),
                layout.strides,
                layout.offset
            ));
        }
        s.push(';');
    }
    s
}
