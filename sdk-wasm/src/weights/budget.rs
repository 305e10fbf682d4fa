//! A bound on the memory a parser may build from an untrusted file. Checking counts against
//! the bytes left is not enough where a small record in the file becomes a large value in
//! memory (a one-byte GGUF array item is a 32-byte `MetaValue`, a two-byte empty ONNX node a
//! 72-byte `Node`): parsers charge what they are about to allocate here first.

use crate::core::error::{Error, Result};

/// What one file's parsed structure (metadata, tables, graph; not tensor data, which is
/// borrowed or bounded by the file) may take. Real files need a few tens of MB at most
/// (a 256k-token vocabulary with its merges; a graph of 50k nodes).
pub const MAX_PARSED_BYTES: usize = 256 << 20;

pub struct MemoryBudget {
    format: &'static str,
    left: usize,
}

impl MemoryBudget {
    pub fn new(format: &'static str) -> MemoryBudget {
        MemoryBudget { format, left: MAX_PARSED_BYTES }
    }

    /// Take `bytes` for `what`, or an error naming it when the budget is spent.
    pub fn charge(&mut self, bytes: usize, what: &str) -> Result<()> {
        self.left = self.left.checked_sub(bytes).ok_or_else(|| Error::Weights {
            format: self.format,
            detail: format!("{what} would take the parsed file past {} MiB of memory (corrupt or hostile file?)", MAX_PARSED_BYTES >> 20),
        })?;
        Ok(())
    }

    /// Take room for `count` values of type T.
    pub fn charge_items<T>(&mut self, count: usize, what: &str) -> Result<()> {
        self.charge(count.saturating_mul(std::mem::size_of::<T>()), what)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charges_until_spent_and_names_what_overflowed() {
        let mut b = MemoryBudget::new("GGUF");
        b.charge(MAX_PARSED_BYTES - 8, "most").unwrap();
        b.charge_items::<u32>(2, "two").unwrap();
        let err = b.charge(1, "one more").unwrap_err().to_string();
        assert!(err.contains("GGUF") && err.contains("one more") && err.contains("256 MiB"), "{err}");
        assert!(MemoryBudget::new("x").charge_items::<u64>(usize::MAX, "all").is_err());
    }
}
