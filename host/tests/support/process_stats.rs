//! This test process's own figures from /proc (Linux): open file descriptors and memory.
//! Shared by the soak and memory tests; each is its own test binary, so the figures are its own.
#![allow(dead_code)] // each test binary that includes this module reads only some of it

pub fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map(|d| d.count()).expect("/proc/self/fd lists this process's descriptors")
}

/// Resident memory now (`VmRSS`), in bytes.
pub fn rss() -> u64 {
    status_bytes("VmRSS:")
}

/// The most resident memory so far (`VmHWM`), in bytes.
pub fn peak_rss() -> u64 {
    status_bytes("VmHWM:")
}

/// A `kB` field of /proc/self/status, in bytes. Panics rather than answering 0: a memory bound
/// checked against a figure that could not be read would pass without measuring anything.
fn status_bytes(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status is readable");
    let kib = status.lines().find(|l| l.starts_with(field)).and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok());
    kib.unwrap_or_else(|| panic!("/proc/self/status has no {field} line")) * 1024
}
