//! Element types. f32 is implemented everywhere today; the others describe their storage
//! layout so weight formats and quantized kernels can be added without changing `Tensor`.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DType {
    F32,
    F16,
    /// 32 values per block: one f16 scale + 32 signed 8-bit values (GGUF Q8_0 layout).
    Q8_0,
    /// 32 values per block: one f16 scale + 32 4-bit values (GGUF Q4_0 layout).
    Q4_0,
    /// 32 values per block: f16 scale + f16 min + 32 4-bit values (GGUF Q4_1 layout).
    Q4_1,
    /// 32 values per block: f16 scale + f16 min + 32 2-bit values (our own format).
    Q2,
}

impl DType {
    /// Number of logical values stored together in one block.
    pub fn block_len(self) -> usize {
        match self {
            DType::F32 | DType::F16 => 1,
            DType::Q8_0 | DType::Q4_0 | DType::Q4_1 | DType::Q2 => 32,
        }
    }

    /// Bytes taken by one block.
    pub fn block_bytes(self) -> usize {
        match self {
            DType::F32 => 4,
            DType::F16 => 2,
            DType::Q8_0 => 2 + 32,
            DType::Q4_0 => 2 + 16,
            DType::Q4_1 => 4 + 16,
            DType::Q2 => 4 + 8,
        }
    }

    /// Bytes needed for `elements` values; `None` when they do not fill whole blocks.
    pub fn storage_bytes(self, elements: usize) -> Option<usize> {
        let block = self.block_len();
        elements.is_multiple_of(block).then(|| elements / block * self.block_bytes())
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
