//! Binary ops with numpy-style broadcasting, and scaling.

use super::parallel::for_each_row_block;
use super::{CpuBackend, CpuStorage};
use crate::backend::{ElementwiseOps, Operand};
use crate::core::{broadcast_shape, broadcast_strides, BinaryOp, Result};

/// `out[i] = op(a[i], b[i])`, one loop per op so each vectorises.
fn zip_into(op: BinaryOp, out: &mut [f32], a: &[f32], b: &[f32]) {
    let pairs = out.iter_mut().zip(a).zip(b);
    match op {
        BinaryOp::Add => pairs.for_each(|((d, &x), &y)| *d = x + y),
        BinaryOp::Mul => pairs.for_each(|((d, &x), &y)| *d = x * y),
    }
}

/// `op(a, b)` over contiguous inputs of shapes `a_shape`, `b_shape`.
pub fn binary(op: BinaryOp, a: &[f32], a_shape: &[usize], b: &[f32], b_shape: &[usize]) -> Result<(Vec<f32>, Vec<usize>)> {
    let out_shape = broadcast_shape(a_shape, b_shape)?;
    // The two shapes models run most (residual adds; a bias over every row), on the pool's
    // threads: both are memory-bound over megabytes.
    if a_shape == b_shape {
        let mut out = vec![0.0; a.len()];
        for_each_row_block(&mut out, 1, |start, block| zip_into(op, block, &a[start..], &b[start..]));
        return Ok((out, out_shape));
    }
    let inner = out_shape.last().copied().unwrap_or(1);
    if a_shape == out_shape.as_slice() && b.len() == inner && b_shape.last() == Some(&inner) {
        let mut out = vec![0.0; a.len()];
        for_each_row_block(&mut out, inner, |row0, block| {
            for (i, row) in block.chunks_exact_mut(inner).enumerate() {
                zip_into(op, row, &a[(row0 + i) * inner..], b);
            }
        });
        return Ok((out, out_shape));
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
    fn large_same_shape_and_row_broadcasts_match_the_general_walk() {
        // Big enough to be split over threads.
        let (rows, cols) = (300, 384);
        let a: Vec<f32> = (0..rows * cols).map(|i| (i % 97) as f32 * 0.5).collect();
        let b: Vec<f32> = (0..rows * cols).map(|i| (i % 89) as f32 * -0.25).collect();
        let bias: Vec<f32> = (0..cols).map(|i| i as f32).collect();
        for op in [BinaryOp::Add, BinaryOp::Mul] {
            let (same, _) = binary(op, &a, &[rows, cols], &b, &[rows, cols]).unwrap();
            assert!(same.iter().enumerate().all(|(i, &v)| v == op.apply(a[i], b[i])), "{op:?} same shape");
            let (row, _) = binary(op, &a, &[rows, cols], &bias, &[1, cols]).unwrap();
            assert!(row.iter().enumerate().all(|(i, &v)| v == op.apply(a[i], bias[i % cols])), "{op:?} row broadcast");
        }
    }

    #[test]
    fn incompatible_shapes_are_named() {
        let err = broadcast_shape(&[2, 3], &[4]).unwrap_err().to_string();
        assert!(err.contains("[2, 3]") && err.contains("[4]"), "{err}");
    }
}
