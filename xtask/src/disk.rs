//! Disk room for a test run. The target dir is kept between CI runs, and each run of a changed
//! tree leaves its test binaries beside the last ones: left alone it filled this machine's disk
//! (70 GB), and browsers on a full disk fail their IndexedDB writes, which failed the browser
//! tests. So a test run first drops stale debug builds when they grow big or the disk runs
//! low, then checks that the browsers' profiles will have room.

use std::path::Path;

/// Above this, the debug builds are mostly stale copies: dropped (a cold rebuild takes ~12 min).
const DEBUG_BUILDS_MAX_BYTES: u64 = 30 << 30;
/// Below this free on the target dir's disk, the debug builds are dropped too.
const TARGET_DISK_MIN_FREE: u64 = 20 << 30;
/// What the browser tests need free where their profiles live: each browser keeps ~100 MB of
/// weights in IndexedDB, and Chromium grants an origin nothing once less than 2 GB is free.
const PROFILES_MIN_FREE: u64 = 6 << 30;

/// Subfolders of `<target>/debug` that hold build products (the rest is small).
const DEBUG_BUILD_PARTS: [&str; 5] = ["deps", "incremental", "build", ".fingerprint", "examples"];

/// Drop the debug builds under `target` when they are too big or the disk too full.
pub fn prune_debug_builds(target: &Path) -> Result<(), String> {
    let debug = target.join("debug");
    let size: u64 = DEBUG_BUILD_PARTS.iter().map(|p| tree_bytes(&debug.join(p))).sum();
    let free = free_bytes(target)?;
    if size <= DEBUG_BUILDS_MAX_BYTES && free >= TARGET_DISK_MIN_FREE {
        return Ok(());
    }
    println!("xtask: dropping the debug builds in {} ({} GB, {} GB free on its disk)", debug.display(), size >> 30, free >> 30);
    for part in DEBUG_BUILD_PARTS {
        let dir = debug.join(part);
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(|e| format!("removing {}: {e}", dir.display()))?;
        }
    }
    Ok(())
}

/// Fail early, by name, when the browsers' profiles (in the temp dir) would not have room.
pub fn check_room_for_profiles() -> Result<(), String> {
    let temp = std::env::temp_dir();
    let free = free_bytes(&temp)?;
    if free < PROFILES_MIN_FREE {
        return Err(format!(
            "only {} MB free in {} (the temp dir, where browser profiles live); the browser tests need {} GB: \
             free some space or point TMPDIR at a disk with room",
            free >> 20,
            temp.display(),
            PROFILES_MIN_FREE >> 30
        ));
    }
    Ok(())
}

/// Bytes of the files under `dir` (0 when it does not exist). Links are not followed.
fn tree_bytes(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    entries
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => tree_bytes(&e.path()),
            Ok(t) if t.is_file() => e.metadata().map(|m| m.len()).unwrap_or(0),
            _ => 0,
        })
        .sum()
}

/// Bytes free to unprivileged users on the disk holding `path` (`df`; std has no statvfs).
fn free_bytes(path: &Path) -> Result<u64, String> {
    let out = std::process::Command::new("df")
        .args(["-Pk", "--"])
        .arg(path)
        .output()
        .map_err(|e| format!("could not run df on {}: {e}", path.display()))?;
    let text = String::from_utf8_lossy(&out.stdout);
    // POSIX format: a header, then "filesystem 1024-blocks used available capacity mount".
    let available = text.lines().nth(1).and_then(|l| l.split_whitespace().nth(3)).and_then(|k| k.parse::<u64>().ok());
    available.map(|k| k << 10).ok_or_else(|| format!("could not read the free space of {} from df: {text:?}", path.display()))
}
