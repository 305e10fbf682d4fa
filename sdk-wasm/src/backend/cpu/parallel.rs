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
        #[cfg(all(target_arch = "wasm32", feature = "threads"))]
        return in_spin_region(out, chunk_len, f);
        #[allow(unreachable_code)]
        {
            use rayon::prelude::*;
            out.par_chunks_mut(chunk_len).enumerate().for_each(|(i, chunk)| f(i, chunk));
        }
    } else {
        out.chunks_mut(chunk_len).enumerate().for_each(|(i, chunk)| f(i, chunk));
    }
}

/// `for_each_chunk` in the threaded wasm build: the calling thread and spinning helpers share
/// the chunks (see `spin_region`), so a region costs no Worker wake-up.
#[cfg(all(target_arch = "wasm32", feature = "threads"))]
fn in_spin_region<T, F>(out: &mut [T], chunk_len: usize, f: F)
where
    T: Send,
    F: Fn(usize, &mut [T]) + Sync + Send,
{
    /// `out`'s base, shared by the threads; each chunk index is claimed once, so the slices
    /// made from it never overlap.
    struct Base<T>(*mut T);
    // SAFETY: only disjoint chunks are made from it, one per claimed index; T is Send.
    unsafe impl<T: Send> Sync for Base<T> {}
    impl<T> Base<T> {
        /// Elements [start, end) of `out`.
        /// SAFETY: the caller makes each range once, inside `out`, never overlapping another.
        unsafe fn range<'a>(&self, start: usize, end: usize) -> &'a mut [T] {
            unsafe { std::slice::from_raw_parts_mut(self.0.add(start), end - start) }
        }
    }
    let (base, len) = (Base(out.as_mut_ptr()), out.len());
    let run = |i: usize| {
        let start = i * chunk_len;
        // SAFETY: [start, end) lies inside `out` and index i is run exactly once.
        f(i, unsafe { base.range(start, (start + chunk_len).min(len)) })
    };
    super::spin_region::run_region(len.div_ceil(chunk_len), threads() - 1, &run, |help| rayon::spawn(help));
}

/// Elements below which one thread is faster than waking the pool (a wake-up costs microseconds).
const PARALLEL_MIN_ELEMENTS: usize = 1 << 15;

/// `f(first_row, rows)` over blocks of whole `cols`-long rows of `out`: one block per thread
/// when `out` is large enough to pay for it, else one block.
pub(crate) fn for_each_row_block<F>(out: &mut [f32], cols: usize, f: F)
where
    F: Fn(usize, &mut [f32]) + Sync + Send,
{
    let cols = cols.max(1);
    let rows = out.len() / cols;
    let parts = if out.len() >= PARALLEL_MIN_ELEMENTS { threads() } else { 1 };
    let rows_per = rows.div_ceil(parts).max(1);
    for_each_chunk(out, rows_per * cols, |i, block| f(i * rows_per, block));
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
    fn row_blocks_cover_every_row_once() {
        for len in [0, 7 * 3, PARALLEL_MIN_ELEMENTS * 3 + 9] {
            let mut out = vec![0.0f32; len];
            for_each_row_block(&mut out, 3, |row0, block| {
                for (r, row) in block.chunks_exact_mut(3).enumerate() {
                    row.iter_mut().for_each(|v| *v += (row0 + r) as f32);
                }
            });
            let wrong = out.iter().enumerate().position(|(i, &v)| v != (i / 3) as f32);
            assert_eq!(wrong, None, "len {len}");
        }
    }

    #[test]
    fn natively_the_pool_has_every_core() {
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        assert_eq!(threads(), cores);
    }
}
