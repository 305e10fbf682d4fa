//! The `kernels` suite: shapes small enough for software adapters (SwiftShader, lavapipe)
//! to finish in seconds, large enough that timings mean something on real hardware.

use ipfs_accelerate::bench::{Kernel, KernelCase};

pub fn suite(warmup: u32, samples: u32) -> Vec<KernelCase> {
    let kernels = [
        Kernel::Matmul { batch: 1, m: 64, k: 64, n: 64 },
        Kernel::Matmul { batch: 1, m: 128, k: 128, n: 128 },
        Kernel::Matmul { batch: 1, m: 256, k: 256, n: 256 },
        Kernel::Matmul { batch: 4, m: 128, k: 64, n: 128 },
        Kernel::Softmax { rows: 128, cols: 512 },
        Kernel::Layernorm { rows: 128, cols: 384 },
        Kernel::Gelu { len: 128 * 1536 },
    ];
    kernels.into_iter().enumerate().map(|(i, kernel)| KernelCase { kernel, warmup, samples, seed: 1000 + i as u64 }).collect()
}

/// A quick subset for tests and smoke runs.
pub fn smoke(warmup: u32, samples: u32) -> Vec<KernelCase> {
    let kernels = [
        Kernel::Matmul { batch: 2, m: 33, k: 40, n: 70 },
        Kernel::Softmax { rows: 16, cols: 300 },
        Kernel::Layernorm { rows: 8, cols: 384 },
    ];
    kernels.into_iter().enumerate().map(|(i, kernel)| KernelCase { kernel, warmup, samples, seed: 7 + i as u64 }).collect()
}
