//! Running commands from the workspace root with the environment the project needs.

use std::ffi::OsStr;
use std::path::PathBuf;
use std::process::Command;

/// The workspace `cargo xtask` was invoked in: the nearest directory up from the current one
/// holding `xtask/Cargo.toml`. Not the compile-time source path: with a target dir shared
/// between clones (CI keeps one under ~/.cache), cargo may reuse an xtask binary built in
/// another clone, whose baked-in path points there.
pub fn workspace_root() -> PathBuf {
    let here = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    here.ancestors()
        .find(|dir| dir.join("xtask/Cargo.toml").is_file() && dir.join("Cargo.toml").is_file())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".."))
}

pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| workspace_root().join("target"))
}

/// Run a program in the workspace root; fail with its command line if it fails.
pub fn command(program: &OsStr, args: &[&OsStr]) -> Result<(), String> {
    command_with_env(program, args, &[])
}

/// `command` with extra environment variables.
pub fn command_with_env(program: &OsStr, args: &[&OsStr], env: &[(&str, &str)]) -> Result<(), String> {
    let shown = format!("{} {}", program.to_string_lossy(), args.iter().map(|a| a.to_string_lossy()).collect::<Vec<_>>().join(" "));
    println!("xtask: $ {shown}");
    let status = Command::new(program)
        .args(args)
        .envs(env.iter().copied())
        .current_dir(workspace_root())
        // wgpu's GL backend wants a runtime dir; headless machines often have none.
        .env("XDG_RUNTIME_DIR", std::env::var_os("XDG_RUNTIME_DIR").unwrap_or_else(|| std::env::temp_dir().into_os_string()))
        .status()
        .map_err(|e| format!("could not start `{shown}`: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{shown}` failed ({status})"))
    }
}

pub fn cargo(args: &[&str]) -> Result<(), String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let args: Vec<&OsStr> = args.iter().map(OsStr::new).collect();
    command(&cargo, &args)
}

/// Is `program` runnable (found on PATH and answering `--version`)?
pub fn version_of(program: &OsStr) -> Option<String> {
    let out = Command::new(program).arg("--version").output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Check a download against its pinned sha256; a mismatch deletes the file (so the next
/// setup downloads it again) and is an error.
pub fn verify_sha256(file: &std::path::Path, expected: &str) -> Result<(), String> {
    let out = std::process::Command::new("sha256sum").arg(file).output().map_err(|e| format!("sha256sum: {e}"))?;
    let got = String::from_utf8_lossy(&out.stdout).split_whitespace().next().unwrap_or("").to_string();
    if got != expected {
        let _ = std::fs::remove_file(file);
        return Err(format!("{}: sha256 {got} is not the pinned {expected}; the download was removed, run setup again", file.display()));
    }
    Ok(())
}

/// The npm tarball `file` of `spec` in .deps/download (packed there by `npm pack` unless already
/// present), checked against its pinned sha256.
pub fn npm_tarball(spec: &str, file: &str, sha256: &str) -> Result<PathBuf, String> {
    let download = workspace_root().join(".deps/download");
    std::fs::create_dir_all(&download).map_err(|e| format!("creating {}: {e}", download.display()))?;
    let tarball = download.join(file);
    if !tarball.is_file() {
        command(
            OsStr::new("npm"),
            &["pack".as_ref(), spec.as_ref(), "--silent".as_ref(), "--pack-destination".as_ref(), download.as_os_str()],
        )?;
    }
    verify_sha256(&tarball, sha256)?;
    Ok(tarball)
}
