//! A usable browser and its WebDriver server, and where executables are looked up.

use super::BrowserKind;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct BrowserInstall {
    pub kind: BrowserKind,
    pub binary: PathBuf,
    pub driver: PathBuf,
    pub version: String,
    /// Extra arguments for the WebDriver server.
    pub driver_args: Vec<String>,
    /// Extra environment for the WebDriver server (the browser it starts inherits it).
    pub driver_env: Vec<(String, String)>,
}

/// An absolute path, or a name looked up in .deps/bin (where setup copies geckodriver, for the
/// browser user to run), on PATH and in ~/.cargo/bin (where `cargo install` puts it).
pub(super) fn find_executable(name: &str) -> Option<PathBuf> {
    let path = Path::new(name);
    if path.is_absolute() {
        return path.is_file().then(|| path.to_path_buf());
    }
    let mut dirs = vec![crate::paths::deps_dir().join("bin")];
    dirs.extend(std::env::var_os("PATH").map(|p| std::env::split_paths(&p).collect::<Vec<_>>()).unwrap_or_default());
    if let Some(home) = std::env::var_os("HOME") {
        dirs.push(PathBuf::from(home).join(".cargo").join("bin"));
    }
    dirs.into_iter().map(|d| d.join(name)).find(|p| p.is_file())
}
