//! Binary ops with numpy-style broadcasting, and scaling.

use super::{CpuBackend, CpuStorage};
use crate::backend::{ElementwiseOps, Operand};
use crate::core::{broadcast_shape, broadcast_strides, BinaryOp, Result};

/// `op(a, b)` over contiguous inputs of shapes `a_shape`, `b_shape`.
pub fn binary(op: BinaryOp, a: &[f32], a_shape: &[usize], b: &[f32], b_shape: &[usize]) -> Result<(Vec<f32>, Vec<usize>)> {
    let out_shape = broadcast_shape(a_shape, b_shape)?;
    if a_shape == b_shape {
        return Ok((a.iter().zip(b).map(|(&x, &y)| op.apply(x, y)).collect(), out_shape));
    }
    let total: usize = out_shape.iter().product();
    let (sa, sb) = (broadcast_strides(a_shape, &out_shape), broadcast_strides(b_shape, &out_shape));
    let mut out = Vec::with_capacity(total);
    let Some((&inner, outer_dims)) = out_shape.split_last() else {
        return Ok((vec![op.apply(a[0], b[0])], out_shape));
    };
    if total == 0 {
        return Ok((out, out_shape));
    }
    // Walk the outer dimensions; along the innermost one each input either advances by one
    // (stride 1) or repeats a single value (broadcast, stride 0), so each row is one loop.
    let (step_a, step_b) = (sa[outer_dims.len()], sb[outer_dims.len()]);
    let mut index = vec![0usize; outer_dims.len()];
    for _ in 0..total / inner {
        let ia: usize = index.iter().zip(&sa).map(|(i, s)| i * s).sum();
        let ib: usize = index.iter().zip(&sb).map(|(i, s)| i * s).sum();
        match (step_a, step_b) {
            (1, 1) => out.extend(a[ia..ia + inner].iter().zip(&b[ib..ib + inner]).map(|(&x, &y)| op.apply(x, y))),
            (1, _) => out.extend(a[ia..ia + inner].iter().map(|&x| op.apply(x, b[ib]))),
            (_, 1) => out.extend(b[ib..ib + inner].iter().map(|&y| op.apply(a[ia], y))),
            _ => out.extend(std::iter::repeat_n(op.apply(a[ia], b[ib]), inner)),
        }
        for d in (0..outer_dims.len()).rev() {
            index[d] += 1;
            if index[d] < outer_dims[d] {
                break;
            }
            index[d] = 0;
        }
    }
    Ok((out, out_shape))
}

impl ElementwiseOps for CpuBackend {
    fn binary(&self, op: BinaryOp, a: Operand<CpuStorage>, b: Operand<CpuStorage>, _out_dims: &[usize]) -> Result<CpuStorage> {
        let (av, bv) = (a.storage.dense(a.layout)?, b.storage.dense(b.layout)?);
        Ok(CpuStorage::f32(binary(op, &av, a.layout.shape.dims(), &bv, b.layout.shape.dims())?.0))
    }

    fn scale(&self, x: Operand<CpuStorage>, factor: f32) -> Result<CpuStorage> {
        Ok(CpuStorage::f32(x.storage.dense(x.layout)?.iter().map(|v| v * factor).collect()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::broadcast_shape;

    #[test]
    fn row_vector_broadcasts_over_matrix() {
        let (out, shape) = binary(BinaryOp::Add, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3], &[10.0, 20.0, 30.0], &[3]).unwrap();
        assert_eq!(shape, vec![2, 3]);
        assert_eq!(out, vec![11.0, 22.0, 33.0, 14.0, 25.0, 36.0]);
    }

    #[test]
    fn incompatible_shapes_are_named() {
        let err = broadcast_shape(&[2, 3], &[4]).unwrap_err().to_string();
        assert!(err.contains("[2, 3]") && err.contains("[4]"), "{err}");
    }
}
