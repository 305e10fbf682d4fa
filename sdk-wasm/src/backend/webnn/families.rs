//! Every op family on WebNN: each op becomes a graph node over its inputs' views.

use super::graph::{unsupported, Node, Op, WebNnStorage};
use super::WebNnContext;
use crate::backend::{
    ActivationOps, ElementwiseOps, LayoutOps, MatmulOps, MatmulPlan, NormOps, Operand, QuantMatmulOps, QuantShape, RotaryOps,
};
use crate::core::{BinaryOp, Layout, Result, Shape, UnaryOp};
use std::rc::Rc;

type In<'a> = Operand<'a, WebNnStorage>;

fn input(x: &In) -> (Rc<Node>, Layout) {
    (Rc::clone(&x.storage.node), x.layout.clone())
}

fn node(first: &In, op: Op, inputs: &[&In], dims: Vec<usize>) -> WebNnStorage {
    first.storage.op(op, inputs.iter().map(|x| input(x)).collect(), dims)
}

fn same_dims(x: &In) -> Vec<usize> {
    x.layout.shape.dims().to_vec()
}

impl MatmulOps for WebNnContext {
    fn matmul(&self, a: In, b: In, p: &MatmulPlan) -> Result<WebNnStorage> {
        let mut dims = a.layout.shape.dims()[..a.layout.shape.dims().len() - 2].to_vec();
        dims.extend([p.m, p.n]);
        Ok(node(&a, Op::Matmul, &[&a, &b], dims))
    }
}

impl ElementwiseOps for WebNnContext {
    fn binary(&self, op: BinaryOp, a: In, b: In, out_dims: &[usize]) -> Result<WebNnStorage> {
        Ok(node(&a, Op::Binary(op), &[&a, &b], out_dims.to_vec()))
    }
    fn scale(&self, x: In, factor: f32) -> Result<WebNnStorage> {
        Ok(node(&x, Op::Scale(factor), &[&x], same_dims(&x)))
    }
}

impl ActivationOps for WebNnContext {
    fn unary(&self, op: UnaryOp, x: In) -> Result<WebNnStorage> {
        Ok(node(&x, Op::Unary(op), &[&x], same_dims(&x)))
    }
    fn silu_mul(&self, gate: In, up: In) -> Result<WebNnStorage> {
        Ok(node(&gate, Op::SiluMul, &[&gate, &up], same_dims(&gate)))
    }
}

impl NormOps for WebNnContext {
    fn softmax(&self, x: In, _cols: usize) -> Result<WebNnStorage> {
        Ok(node(&x, Op::Softmax, &[&x], same_dims(&x)))
    }
    fn layernorm(&self, x: In, g: In, b: In, _cols: usize, eps: f32) -> Result<WebNnStorage> {
        Ok(node(&x, Op::LayerNorm(eps), &[&x, &g, &b], same_dims(&x)))
    }
    fn rmsnorm(&self, x: In, g: In, _cols: usize, eps: f32) -> Result<WebNnStorage> {
        Ok(node(&x, Op::RmsNorm(eps), &[&x, &g], same_dims(&x)))
    }
}

impl RotaryOps for WebNnContext {
    fn rope(&self, _x: In, _cos: In, _sin: In) -> Result<WebNnStorage> {
        Err(unsupported("rope", "rotary embeddings"))
    }
}

impl LayoutOps for WebNnContext {
    fn contiguous(&self, x: In) -> Result<WebNnStorage> {
        Ok(node(&x, Op::Identity, &[&x], same_dims(&x)))
    }
    fn gather_rows(&self, table: In, ids: &[u32]) -> Result<WebNnStorage> {
        let ids_leaf = Rc::new(Node::leaf(Op::LeafI32, ids.to_vec(), vec![ids.len()]));
        let ids_layout = Layout::contiguous(Shape::new([ids.len()]));
        let dims = vec![ids.len(), table.layout.shape.last_dim()];
        Ok(table.storage.op(Op::Gather, vec![input(&table), (ids_leaf, ids_layout)], dims))
    }
    fn kv_write(&self, _cache: &mut WebNnStorage, _dims: [usize; 3], _rows: In, _start: usize) -> Result<()> {
        Err(unsupported("kv_write", "in-place KV-cache writes"))
    }
}

impl QuantMatmulOps for WebNnContext {
    fn qmatmul(&self, _x: In, _w: &WebNnStorage, _shape: QuantShape) -> Result<WebNnStorage> {
        Err(unsupported("qmatmul", "block-quantized weights"))
    }
}
