//! Element types. Activations are f32; weights may also be f16/bf16 or 32-value block formats
//! (decoded in `blocks.rs` / `low_bits.rs`, multiplied without unpacking by `ops::qmatmul`).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DType {
    F32,
    F16,
    BF16,
    /// 32 values per block: one f16 scale + 32 signed 8-bit values (GGUF Q8_0 layout).
    Q8_0,
    /// 32 values per block: one f16 scale + 32 4-bit values (GGUF Q4_0 layout).
    Q4_0,
    /// 32 values per block: f16 scale + f16 min + 32 4-bit values (GGUF Q4_1 layout).
    Q4_1,
    /// 32 values per block: f16 scale + f16 min + 32 2-bit values (our own format, `low_bits.rs`).
    Q2,
    /// 32 values per block: f16 scale + f16 min + 32 3-bit values (our own format, `low_bits.rs`).
    Q3,
}

impl DType {
    /// Number of logical values stored together in one block.
    pub fn block_len(self) -> usize {
        match self {
            DType::F32 | DType::F16 | DType::BF16 => 1,
            DType::Q8_0 | DType::Q4_0 | DType::Q4_1 | DType::Q2 | DType::Q3 => 32,
        }
    }

    /// Bytes taken by one block.
    pub fn block_bytes(self) -> usize {
        match self {
            DType::F32 => 4,
            DType::F16 | DType::BF16 => 2,
            DType::Q8_0 => 2 + 32,
            DType::Q4_0 => 2 + 16,
            DType::Q4_1 => 4 + 16,
            DType::Q2 => 4 + 8,
            DType::Q3 => 4 + 8 + 4,
        }
    }

    /// Bytes needed for `elements` values; `None` when they do not fill whole blocks.
    pub fn storage_bytes(self, elements: usize) -> Option<usize> {
        let block = self.block_len();
        if elements.is_multiple_of(block) {
            (elements / block).checked_mul(self.block_bytes())
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantized_sizes_follow_block_layout() {
        assert_eq!(DType::F32.storage_bytes(10), Some(40));
        assert_eq!(DType::Q4_0.storage_bytes(64), Some(36));
        assert_eq!(DType::Q8_0.storage_bytes(32), Some(34));
        assert_eq!(DType::Q4_1.storage_bytes(33), None);
    }
}
