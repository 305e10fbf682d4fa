//! Shapes and strided layouts (views without copies).

use super::error::{Error, Result};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Shape(Vec<usize>);

impl Shape {
    pub fn new(dims: impl Into<Vec<usize>>) -> Self {
        Shape(dims.into())
    }
    pub fn dims(&self) -> &[usize] {
        &self.0
    }
    pub fn rank(&self) -> usize {
        self.0.len()
    }
    /// The number of elements: 0 when any dimension is 0, even if the others' product would
    /// overflow (an empty tensor of a reader's untrusted shape).
    pub fn elements(&self) -> usize {
        if self.0.contains(&0) {
            return 0;
        }
        self.0.iter().product()
    }
    /// Row-major strides of a contiguous tensor of this shape. Saturating: only an empty
    /// tensor's (never used) strides can exceed usize.
    pub fn contiguous_strides(&self) -> Vec<usize> {
        let mut strides = vec![1usize; self.0.len()];
        for i in (0..self.0.len().saturating_sub(1)).rev() {
            strides[i] = strides[i + 1].saturating_mul(self.0[i + 1]);
        }
        strides
    }
    /// Size of the last dimension (1 for a scalar).
    pub fn last_dim(&self) -> usize {
        self.0.last().copied().unwrap_or(1)
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

impl From<&[usize]> for Shape {
    fn from(d: &[usize]) -> Self {
        Shape(d.to_vec())
    }
}

/// Where a tensor's elements sit in its storage: shape, per-dimension strides, start offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    pub shape: Shape,
    pub strides: Vec<usize>,
    pub offset: usize,
}

impl Layout {
    pub fn contiguous(shape: Shape) -> Self {
        let strides = shape.contiguous_strides();
        Layout { shape, strides, offset: 0 }
    }

    pub fn is_contiguous(&self) -> bool {
        self.strides == self.shape.contiguous_strides()
    }

    /// Swap two dimensions without moving data.
    pub fn transpose(&self, d0: usize, d1: usize) -> Result<Layout> {
        let rank = self.shape.rank();
        if d0 >= rank || d1 >= rank {
            return Err(Error::shape("transpose", format!("dims ({d0}, {d1}) out of range for rank {rank}")));
        }
        let mut dims = self.shape.dims().to_vec();
        let mut strides = self.strides.clone();
        dims.swap(d0, d1);
        strides.swap(d0, d1);
        Ok(Layout { shape: Shape(dims), strides, offset: self.offset })
    }

    /// Reorder dimensions as a view: `dims[i]` is the source dimension of output dimension i.
    pub fn permute(&self, dims: &[usize]) -> Result<Layout> {
        let rank = self.shape.rank();
        let mut seen = vec![false; rank];
        if dims.len() != rank || dims.iter().any(|&d| d >= rank || std::mem::replace(&mut seen[d], true)) {
            return Err(Error::shape("permute", format!("{dims:?} is not a permutation of 0..{rank}")));
        }
        Ok(Layout {
            shape: Shape(dims.iter().map(|&d| self.shape.dims()[d]).collect()),
            strides: dims.iter().map(|&d| self.strides[d]).collect(),
            offset: self.offset,
        })
    }

    /// The elements of `data` seen through this layout, in row-major logical order. Copies
    /// whole runs along the innermost dimension (the common case after a permute keeps it
    /// with stride 1) instead of computing an index per element.
    pub fn gather_from(&self, data: &[f32]) -> Vec<f32> {
        let dims = self.shape.dims();
        let total = self.shape.elements();
        let Some((&inner, outer_dims)) = dims.split_last() else {
            return vec![data[self.offset]];
        };
        let inner_stride = self.strides[dims.len() - 1];
        let mut out = Vec::with_capacity(total);
        if total == 0 {
            return out;
        }
        let mut index = vec![0usize; outer_dims.len()];
        for _ in 0..total / inner {
            let base = self.offset + index.iter().zip(&self.strides).map(|(i, s)| i * s).sum::<usize>();
            if inner_stride == 1 {
                out.extend_from_slice(&data[base..base + inner]);
            } else {
                out.extend((0..inner).map(|j| data[base + j * inner_stride]));
            }
            for d in (0..outer_dims.len()).rev() {
                index[d] += 1;
                if index[d] < outer_dims[d] {
                    break;
                }
                index[d] = 0;
            }
        }
        out
    }

    /// Storage index of every element in row-major logical order.
    pub fn storage_indices(&self) -> impl Iterator<Item = usize> + '_ {
        let dims = self.shape.dims();
        let total = self.shape.elements();
        let mut index = vec![0usize; dims.len()];
        (0..total).map(move |n| {
            let at = self.offset + index.iter().zip(&self.strides).map(|(i, s)| i * s).sum::<usize>();
            if n + 1 < total {
                for d in (0..dims.len()).rev() {
                    index[d] += 1;
                    if index[d] < dims[d] {
                        break;
                    }
                    index[d] = 0;
                }
            }
            at
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An empty shape whose other dimensions multiply past usize (from a fuzzed model file).
    #[test]
    fn an_empty_shape_with_huge_dimensions_neither_overflows_nor_panics() {
        let shape = Shape::new([0, 1 << 40, 1 << 40]);
        assert_eq!(shape.elements(), 0);
        assert_eq!(shape.contiguous_strides(), vec![usize::MAX, 1 << 40, 1]);
    }

    #[test]
    fn transpose_is_a_view_with_swapped_strides() {
        let l = Layout::contiguous(Shape::new([2, 3]));
        let t = l.transpose(0, 1).unwrap();
        assert_eq!(t.shape.dims(), &[3, 2]);
        assert!(!t.is_contiguous());
        assert_eq!(t.storage_indices().collect::<Vec<_>>(), vec![0, 3, 1, 4, 2, 5]);
        let data = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(t.gather_from(&data), vec![0.0, 3.0, 1.0, 4.0, 2.0, 5.0]);
    }

    #[test]
    fn permute_rejects_repeats_and_reorders_strides() {
        let l = Layout::contiguous(Shape::new([2, 3, 4]));
        assert_eq!(l.permute(&[2, 0, 1]).unwrap().strides, vec![1, 12, 4]);
        assert!(l.permute(&[0, 0, 1]).is_err());
        assert!(l.permute(&[0, 1]).is_err());
    }

    #[test]
    fn transpose_out_of_range_names_the_dims() {
        let err = Layout::contiguous(Shape::new([2])).transpose(0, 3).unwrap_err();
        assert!(err.to_string().contains("(0, 3)"), "{err}");
    }
}
