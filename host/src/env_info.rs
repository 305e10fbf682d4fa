//! Facts about the machine and build recorded with every run.

use serde::Serialize;
use std::process::Command;

#[derive(Debug, Clone, Serialize, Default)]
pub struct HostInfo {
    pub host_name: String,
    pub os: String,
    pub kernel: String,
    pub cpu_model: String,
    pub cpu_cores: usize,
    pub memory_bytes: u64,
    pub cpu_features: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct BuildInfo {
    pub tool_version: String,
    pub git_commit: Option<String>,
    pub git_dirty: Option<bool>,
    pub profile: String,
}

pub fn host() -> HostInfo {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    HostInfo {
        host_name: read_trimmed("/etc/hostname").or_else(|| command_output("hostname", &[])).unwrap_or_default(),
        os: os_release().unwrap_or_else(|| std::env::consts::OS.to_string()),
        kernel: command_output("uname", &["-r"]).unwrap_or_default(),
        cpu_model: field(&cpuinfo, "model name").unwrap_or_else(|| std::env::consts::ARCH.to_string()),
        cpu_cores: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        memory_bytes: field(&meminfo, "MemTotal")
            .and_then(|v| v.split_whitespace().next().and_then(|kb| kb.parse::<u64>().ok()))
            .map(|kb| kb * 1024)
            .unwrap_or(0),
        cpu_features: cpu_features(),
    }
}

pub fn build() -> BuildInfo {
    BuildInfo {
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        git_commit: command_output("git", &["rev-parse", "HEAD"]),
        git_dirty: command_stdout("git", &["status", "--porcelain", "--untracked-files=no"]).map(|s| !s.is_empty()),
        profile: if cfg!(debug_assertions) { "debug" } else { "release" }.to_string(),
    }
}

fn cpu_features() -> Vec<String> {
    #[allow(unused_mut)]
    let mut found = Vec::new();
    #[cfg(target_arch = "x86_64")]
    {
        macro_rules! probe {
            ($($f:tt),*) => { $( if std::arch::is_x86_feature_detected!($f) { found.push($f.to_string()); } )* };
        }
        probe!("sse4.2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vnni");
    }
    #[cfg(target_arch = "aarch64")]
    {
        macro_rules! probe {
            ($($f:tt),*) => { $( if std::arch::is_aarch64_feature_detected!($f) { found.push($f.to_string()); } )* };
        }
        probe!("neon", "fp16", "dotprod", "sve");
    }
    found
}

fn os_release() -> Option<String> {
    let text = std::fs::read_to_string("/etc/os-release").ok()?;
    text.lines().find_map(|l| l.strip_prefix("PRETTY_NAME=")).map(|v| v.trim_matches('"').to_string())
}

fn field(text: &str, key: &str) -> Option<String> {
    text.lines().find(|l| l.starts_with(key)).and_then(|l| l.split_once(':')).map(|(_, v)| v.trim().to_string())
}

fn read_trimmed(path: &str) -> Option<String> {
    std::fs::read_to_string(path).ok().map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

/// Trimmed stdout of a successful command (possibly empty); None if it failed to run or failed.
fn command_stdout(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Like [`command_stdout`], but None when it printed nothing.
pub(crate) fn command_output(program: &str, args: &[&str]) -> Option<String> {
    command_stdout(program, args).filter(|s| !s.is_empty())
}
