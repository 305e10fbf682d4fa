//! A linear layer's weight stored as int8, as quantized model files hold it.

use crate::core::error::{Error, Result};
use crate::tensor::Tensor;

/// `rows` output features × `cols` inputs (the usual [out, in] layout); row `r`'s true values
/// are `values[r·cols + c] · scales[r]`.
#[derive(Clone, Debug)]
pub struct Int8Weights {
    pub rows: usize,
    pub cols: usize,
    pub values: Vec<i8>,
    pub scales: Vec<f32>,
}

impl Int8Weights {
    pub fn new(rows: usize, cols: usize, values: Vec<i8>, scales: Vec<f32>) -> Result<Int8Weights> {
        if rows.checked_mul(cols) != Some(values.len()) || scales.len() != rows {
            return Err(Error::shape(
                "int8 weights",
                format!("{rows}×{cols} needs {} values and {rows} scales, got {} and {}", rows * cols, values.len(), scales.len()),
            ));
        }
        if let Some(bad) = scales.iter().find(|s| !s.is_finite() || **s <= 0.0) {
            return Err(Error::shape("int8 weights", format!("scale {bad} is not a positive finite number")));
        }
        Ok(Int8Weights { rows, cols, values, scales })
    }

    /// The values times their scales, [rows, cols] f32 (for devices without int8 kernels).
    pub fn dequantize(&self) -> Result<Tensor> {
        let data =
            self.values.chunks_exact(self.cols.max(1)).zip(&self.scales).flat_map(|(row, &s)| row.iter().map(move |&v| v as f32 * s));
        Tensor::from_vec(data.collect(), [self.rows, self.cols])
    }
}
