//! Comparison runtimes, pinned and sha256-checked: ONNX Runtime's shared library (from the
//! PyPI wheel) for the native host, and onnxruntime-web + transformers.js (from npm) served to
//! the browser by the host. Each lands in .deps/ by download → verify → unpack → rename.

use crate::run::{command, npm_tarball, verify_sha256, workspace_root};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

const ORT_WHEEL: &str = "onnxruntime-1.32.0-cp311-cp311-manylinux_2_28_x86_64.whl";
const ORT_WHEEL_SHA256: &str = "5a34fc4dfeb5a7b4a74c95dcba1e773d722abda720b474edf1b0c419dc6d163d";
const ORT_LIBRARY_IN_WHEEL: &str = "onnxruntime/capi/libonnxruntime.so.1.32.0";

struct NpmPackage {
    /// Directory under .deps/js/.
    dir: &'static str,
    spec: &'static str,
    tarball: &'static str,
    sha256: &'static str,
}

// transformers.js 4.3.1 pins exactly this onnxruntime-web build. React 18 (the last with UMD
// builds, which the runner page loads without a bundler) runs the `ipfs-accelerate/react` hooks.
const NPM_PACKAGES: [NpmPackage; 4] = [
    NpmPackage {
        dir: "onnxruntime-web",
        spec: "onnxruntime-web@1.31.0-dev.20260914-8d85527a0",
        tarball: "onnxruntime-web-1.31.0-dev.20260914-8d85527a0.tgz",
        sha256: "0de27582f3e3189dec4a2082513a0af1ea79ae7fd3039bbfe634a526e173cbe0",
    },
    NpmPackage {
        dir: "transformers",
        spec: "@huggingface/transformers@4.3.1",
        tarball: "huggingface-transformers-4.3.1.tgz",
        sha256: "0325441d6bd7bc7697fccb32ee6e5febc7f89691e42402d071adc678237b8015",
    },
    NpmPackage {
        dir: "react",
        spec: "react@18.3.1",
        tarball: "react-18.3.1.tgz",
        sha256: "8d9bed01a672e7eaf387942d781ad47c6a43089a30a0306060f9fd5ac7870347",
    },
    NpmPackage {
        dir: "react-dom",
        spec: "react-dom@18.3.1",
        tarball: "react-dom-18.3.1.tgz",
        sha256: "031d4427a99f2f3f6cac18bbbf308594a67e4f47d10f4896fdec446505b040e0",
    },
];

fn deps() -> PathBuf {
    workspace_root().join(".deps")
}

pub(crate) fn create_dir(dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))
}

/// Move a fully unpacked staging directory into place.
pub(crate) fn promote(staging: &Path, dest: &Path) -> Result<(), String> {
    let _ = std::fs::remove_dir_all(dest);
    std::fs::rename(staging, dest).map_err(|e| format!("moving {} into place: {e}", dest.display()))
}

/// .deps/onnxruntime/libonnxruntime.so (what ORT_DYLIB_PATH in .cargo/config.toml names).
pub fn onnxruntime() -> Result<(), String> {
    let dest = deps().join("onnxruntime");
    if dest.join("libonnxruntime.so").is_file() {
        return Ok(());
    }
    let download = deps().join("download");
    create_dir(&download)?;
    let wheel = download.join(ORT_WHEEL);
    if !wheel.is_file() {
        // The wheel for CPython 3.11 on manylinux x86_64 whatever python runs setup: only its
        // C library is used, and the pin stays one file with one hash.
        let args = ["-m", "pip", "download", "--no-deps", "--quiet", "--only-binary=:all:", "--python-version", "3.11"];
        let args: Vec<&OsStr> = args
            .iter()
            .chain(&["--platform", "manylinux_2_28_x86_64", "onnxruntime==1.32.0", "-d"])
            .map(OsStr::new)
            .chain([download.as_os_str()])
            .collect();
        command(OsStr::new("python3"), &args)?;
    }
    verify_sha256(&wheel, ORT_WHEEL_SHA256)?;
    let staging = deps().join("onnxruntime.partial");
    let _ = std::fs::remove_dir_all(&staging);
    command(
        OsStr::new("unzip"),
        &["-q".as_ref(), "-o".as_ref(), wheel.as_os_str(), ORT_LIBRARY_IN_WHEEL.as_ref(), "-d".as_ref(), staging.as_os_str()],
    )?;
    std::fs::rename(staging.join(ORT_LIBRARY_IN_WHEEL), staging.join("libonnxruntime.so"))
        .map_err(|e| format!("renaming the ONNX Runtime library: {e}"))?;
    let _ = std::fs::remove_dir_all(staging.join("onnxruntime"));
    promote(&staging, &dest)
}

/// .deps/js/<package>/ for each pinned npm package (its `package/` contents).
pub fn npm_packages() -> Result<(), String> {
    for p in &NPM_PACKAGES {
        let dest = deps().join("js").join(p.dir);
        if dest.join("package.json").is_file() {
            continue;
        }
        let tarball = npm_tarball(p.spec, p.tarball, p.sha256)?;
        let staging = deps().join("js").join(format!("{}.partial", p.dir));
        let _ = std::fs::remove_dir_all(&staging);
        create_dir(&staging)?;
        command(
            OsStr::new("tar"),
            &["xzf".as_ref(), tarball.as_os_str(), "-C".as_ref(), staging.as_os_str(), "--strip-components=1".as_ref()],
        )?;
        promote(&staging, &dest)?;
    }
    Ok(())
}
