//! How the CPU kernels split work: over a persistent pool (rayon's global pool) natively and in
//! the threaded wasm build (feature `threads`, whose pool is Web Workers sharing the module's
//! memory); the plain wasm build runs every part in order on its one thread.

/// Whether this build has a pool of threads at all.
const POOLED: bool = cfg!(any(not(target_arch = "wasm32"), feature = "threads"));

/// Threads the kernels may use (1 in the single-threaded wasm build).
pub fn threads() -> usize {
    if POOLED {
        rayon::current_num_threads().max(1)
    } else {
        1
    }
}

/// Calls `f(index, chunk)` for every `chunk_len`-sized chunk of `out` (the last may be shorter),
/// on the pool's threads where there is one. Each chunk is written by exactly one call.
pub(crate) fn for_each_chunk<T, F>(out: &mut [T], chunk_len: usize, f: F)
where
    T: Send,
    F: Fn(usize, &mut [T]) + Sync + Send,
{
    let chunk_len = chunk_len.max(1);
    if POOLED && out.len() > chunk_len {
        use rayon::prelude::*;
        out.par_chunks_mut(chunk_len).enumerate().for_each(|(i, chunk)| f(i, chunk));
    } else {
        out.chunks_mut(chunk_len).enumerate().for_each(|(i, chunk)| f(i, chunk));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_chunk_is_visited_once_with_its_index() {
        let mut out = vec![0usize; 103];
        for_each_chunk(&mut out, 10, |i, chunk| chunk.iter_mut().for_each(|v| *v += i + 1));
        let expected: Vec<usize> = (0..103).map(|j| j / 10 + 1).collect();
        assert_eq!(out, expected);
    }

    #[test]
    fn natively_the_pool_has_every_core() {
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        assert_eq!(threads(), cores);
    }
}
