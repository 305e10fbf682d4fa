//! The process's malloc tuned for inference. The CPU kernels allocate a fresh output of
//! megabytes per op (BERT b8×128: 26 adds and 18 matmuls of 1.5–6 MB each); glibc gave those
//! back to the kernel when freed and faulted fresh zero pages in on the next op, which cost
//! 10 ms of an 80 ms MiniLM-L3 forward pass natively. Keeping freed memory in the heap for
//! reuse is what ONNX Runtime's arena does for it, so its rows and ours compare like with like.

/// Serve large allocations from the heap and never trim it (glibc only; a no-op elsewhere).
pub fn keep_freed_memory_for_reuse() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        const ONE_GIB: libc::c_int = 1 << 30;
        // SAFETY: mallopt only sets allocator parameters, under the allocator's own lock.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, ONE_GIB);
            libc::mallopt(libc::M_TRIM_THRESHOLD, ONE_GIB);
        }
    }
}
