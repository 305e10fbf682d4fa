//! Parallel regions for the threaded wasm build, without a wake-up per region.
//!
//! rayon's workers go to sleep within microseconds of running out of work, and waking a Web
//! Worker costs tens of microseconds, more than half of a decode step's projection: measured,
//! splitting every product of a token through rayon made decoding 1.5× slower than one thread.
//! Here the calling thread takes part: chunks are claimed from a shared counter, so the caller
//! never waits for a helper to wake (it does the chunks itself if none has come). Helpers are
//! rayon tasks that stay and spin for the next region for about 10 ms (`IDLE_SPINS`) before
//! they leave, so the products of one token, microseconds apart, find them awake.

use std::cell::Cell;
use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};

/// One region: `run(i)` for every chunk index below `chunks`, each claimed exactly once.
struct Region {
    run: *const (dyn Fn(usize) + Sync),
    chunks: usize,
    next: AtomicUsize,
}

/// The region being run, or null.
static CURRENT: AtomicPtr<Region> = AtomicPtr::new(std::ptr::null_mut());
/// Helpers that may be reading `CURRENT`'s region right now; the caller waits for 0 before its
/// region (on its stack) goes away.
static READERS: AtomicUsize = AtomicUsize::new(0);
/// Helpers alive (spinning or working).
static HELPERS: AtomicUsize = AtomicUsize::new(0);
/// Spins with no region before a helper leaves: about 10 ms natively (2^20 spins measured
/// 40 ms), longer than the gap between a generation's tokens, short enough that an idle page
/// gives its cores back soon.
const IDLE_SPINS: usize = 1 << 18;

thread_local! {
    /// This thread is inside a region (as its caller or as a helper): a nested region runs
    /// in order, on this thread.
    static INSIDE: Cell<bool> = const { Cell::new(false) };
}

/// `run(i)` for i in 0..chunks, shared with up to `helpers` other threads; returns when all
/// are done. `spawn` starts one helper (a rayon task in the browser; a thread in tests).
pub(crate) fn run_region(chunks: usize, helpers: usize, run: &(dyn Fn(usize) + Sync), spawn: fn(fn())) {
    if chunks <= 1 || helpers == 0 || INSIDE.with(Cell::get) {
        return (0..chunks).for_each(run);
    }
    // SAFETY: the region outlives every use of `run` through it: it is withdrawn from CURRENT
    // and every reader has left before this function returns.
    let run: &'static (dyn Fn(usize) + Sync) = unsafe { std::mem::transmute(run) };
    let region = Region { run, chunks, next: AtomicUsize::new(0) };
    let ptr = &region as *const Region as *mut Region;
    if CURRENT.compare_exchange(std::ptr::null_mut(), ptr, Ordering::SeqCst, Ordering::SeqCst).is_err() {
        // Another thread's region is running (not the engine's usual case): run in order.
        return (0..chunks).for_each(run);
    }
    for _ in HELPERS.load(Ordering::SeqCst)..helpers.min(chunks - 1) {
        HELPERS.fetch_add(1, Ordering::SeqCst);
        spawn(help);
    }
    INSIDE.with(|c| c.set(true));
    work(&region);
    CURRENT.store(std::ptr::null_mut(), Ordering::SeqCst);
    // Readers that saw the region finish their claimed chunks; later ones see null.
    while READERS.load(Ordering::SeqCst) != 0 {
        std::hint::spin_loop();
    }
    INSIDE.with(|c| c.set(false));
}

/// Claims and runs chunks until none is left.
fn work(region: &Region) {
    loop {
        let i = region.next.fetch_add(1, Ordering::SeqCst);
        if i >= region.chunks {
            return;
        }
        // SAFETY: `run` stays valid while the region is CURRENT or has readers (see run_region).
        unsafe { (*region.run)(i) };
    }
}

/// A helper: joins every region that comes, and leaves after IDLE_SPINS without one.
fn help() {
    INSIDE.with(|c| c.set(true));
    let mut idle = 0;
    while idle < IDLE_SPINS {
        READERS.fetch_add(1, Ordering::SeqCst);
        let ptr = CURRENT.load(Ordering::SeqCst);
        if !ptr.is_null() {
            // SAFETY: counted in READERS before loading, so the caller keeps the region alive.
            work(unsafe { &*ptr });
            idle = 0;
        } else {
            idle += 1;
        }
        READERS.fetch_sub(1, Ordering::SeqCst);
        std::hint::spin_loop();
    }
    HELPERS.fetch_sub(1, Ordering::SeqCst);
    INSIDE.with(|c| c.set(false));
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU32;

    fn spawn_thread(f: fn()) {
        std::thread::spawn(f);
    }

    #[test]
    fn every_chunk_runs_once_across_many_regions_and_a_nested_one_runs_in_order() {
        let counts: Vec<AtomicU32> = (0..97).map(|_| AtomicU32::new(0)).collect();
        for round in 0..200 {
            let chunks = 1 + round % 97;
            run_region(
                chunks,
                1,
                &|i| {
                    counts[i].fetch_add(1, Ordering::SeqCst);
                    if i == 0 && round == 7 {
                        // A region inside a region: runs on this thread, in order.
                        run_region(3, 1, &|_| {}, spawn_thread);
                    }
                },
                spawn_thread,
            );
        }
        for (i, c) in counts.iter().enumerate() {
            let want = (0..200).filter(|round| i < 1 + round % 97).count() as u32;
            assert_eq!(c.load(Ordering::SeqCst), want, "chunk {i}");
        }
        assert!(CURRENT.load(Ordering::SeqCst).is_null());

        // Slow chunks: a helper takes some of them, so two threads share the region.
        let threads = std::sync::Mutex::new(std::collections::HashSet::new());
        run_region(
            8,
            1,
            &|_| {
                std::thread::sleep(std::time::Duration::from_millis(5));
                threads.lock().map(|mut t| t.insert(std::thread::current().id())).ok();
            },
            spawn_thread,
        );
        assert_eq!(threads.lock().map(|t| t.len()).ok(), Some(2), "the caller and one helper");
    }
}
