//! numpy-style broadcasting: the result shape of two operands and the strides that read an
//! operand as if it had that shape.

use super::error::{Error, Result};

/// Result shape of broadcasting `a` against `b` (numpy rules, aligned on the right).
pub fn broadcast_shape(a: &[usize], b: &[usize]) -> Result<Vec<usize>> {
    let rank = a.len().max(b.len());
    let dim = |s: &[usize], i: usize| if i + s.len() >= rank { s[i + s.len() - rank] } else { 1 };
    (0..rank)
        .map(|i| match (dim(a, i), dim(b, i)) {
            (x, y) if x == y => Ok(x),
            (1, y) => Ok(y),
            (x, 1) => Ok(x),
            (x, y) => Err(Error::shape("broadcast", format!("{a:?} and {b:?} differ at dim {i} ({x} vs {y})"))),
        })
        .collect()
}

/// Strides that read a contiguous `shape` as if it had `out_shape` (0 along broadcast dims).
pub fn broadcast_strides(shape: &[usize], out_shape: &[usize]) -> Vec<usize> {
    let pad = out_shape.len() - shape.len();
    let mut strides = vec![0; out_shape.len()];
    let mut step = 1;
    for i in (0..shape.len()).rev() {
        strides[pad + i] = if shape[i] == 1 { 0 } else { step };
        step *= shape[i];
    }
    strides
}
