//! The cheap scan that keeps damaged weights out: a NaN or infinity in a weight file would
//! otherwise flow silently into every output. One pass over f32 values; block formats are
//! checked by their scales (one or two f16 per 32 values), which is where a flipped bit
//! turns a block non-finite.

use super::error::Error;
use super::f16::f16_at;
use super::DType;

/// A weight holding NaN or ±infinity, by name and place (e.g. "element 12", "block 3").
fn non_finite_weight(name: &str, at: impl std::fmt::Display) -> Error {
    Error::Model(format!("weight {name} holds a non-finite value (NaN or infinity) at {at}: the file is damaged"))
}

/// The time a model's load spends in the scan, for its load report and the bench (the scan
/// is on by default, so its cost is measured, not assumed).
#[derive(Debug, Default)]
pub struct ScanTime(std::cell::Cell<f64>);

impl ScanTime {
    /// The weight `name`'s f32 values, checked: an error naming the first non-finite element.
    pub fn check_values(&self, name: &str, values: &[f32]) -> Result<(), Error> {
        match self.timed(|| first_non_finite(values)) {
            Some(i) => Err(non_finite_weight(name, format!("element {i}"))),
            None => Ok(()),
        }
    }

    /// The weight `name`'s bytes in `dtype`'s layout, checked: an error naming the first block
    /// whose scale, offset or value is non-finite.
    pub fn check_blocks(&self, name: &str, dtype: DType, bytes: &[u8]) -> Result<(), Error> {
        match self.timed(|| first_non_finite_block(dtype, bytes)) {
            Some(block) => Err(non_finite_weight(name, format!("block {block}"))),
            None => Ok(()),
        }
    }

    /// Milliseconds spent scanning so far.
    pub fn ms(&self) -> f64 {
        self.0.get()
    }

    fn timed<T>(&self, scan: impl FnOnce() -> T) -> T {
        let start = crate::clock::now_ms();
        let found = scan();
        self.0.set(self.0.get() + crate::clock::now_ms() - start);
        found
    }
}

/// Index of the first NaN or ±infinity in `values`.
pub fn first_non_finite(values: &[f32]) -> Option<usize> {
    // Sixteen lanes at a time keeps the common, all-finite case vectorised.
    let chunks = values.chunks_exact(16);
    let tail = chunks.remainder();
    for (c, chunk) in chunks.enumerate() {
        if !chunk.iter().fold(true, |ok, v| ok & v.is_finite()) {
            return chunk.iter().position(|v| !v.is_finite()).map(|i| c * 16 + i);
        }
    }
    tail.iter().position(|v| !v.is_finite()).map(|i| values.len() - tail.len() + i)
}

/// Index of the first block of `bytes` (in `dtype`'s layout) whose scale, offset or value is
/// NaN or infinite.
fn first_non_finite_block(dtype: DType, bytes: &[u8]) -> Option<usize> {
    let halves: &[usize] = match dtype {
        DType::Q8_0 | DType::Q4_0 => &[0],
        DType::Q4_1 | DType::Q2 | DType::Q3 => &[0, 2],
        DType::F16 => &[0],
        DType::F32 => {
            return bytes.chunks_exact(4).position(|b| !f32::from_le_bytes([b[0], b[1], b[2], b[3]]).is_finite());
        }
        DType::BF16 => {
            return bytes.chunks_exact(2).position(|b| !super::f16::bf16_to_f32(u16::from_le_bytes([b[0], b[1]])).is_finite());
        }
    };
    bytes.chunks_exact(dtype.block_bytes()).position(|b| halves.iter().any(|&at| !f16_at(b, at).is_finite()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_first_non_finite_value() {
        let mut v = vec![1.0f32; 100];
        assert_eq!(first_non_finite(&v), None);
        v[37] = f32::NAN;
        v[90] = f32::INFINITY;
        assert_eq!(first_non_finite(&v), Some(37));
        v[37] = 0.0;
        assert_eq!(first_non_finite(&v), Some(90));
        v[90] = 0.0;
        v[99] = f32::NEG_INFINITY;
        assert_eq!(first_non_finite(&v), Some(99));
    }

    #[test]
    fn finds_a_block_whose_scale_is_not_finite() {
        let mut bytes = Vec::new();
        for _ in 0..4 {
            super::super::blocks::encode_q4_1(&[0.5; 32], &mut bytes);
        }
        assert_eq!(first_non_finite_block(DType::Q4_1, &bytes), None);
        // Block 2's min becomes an f16 NaN (exponent all ones, mantissa non-zero).
        let at = 2 * DType::Q4_1.block_bytes() + 2;
        bytes[at..at + 2].copy_from_slice(&0x7e00u16.to_le_bytes());
        assert_eq!(first_non_finite_block(DType::Q4_1, &bytes), Some(2));
    }
}
