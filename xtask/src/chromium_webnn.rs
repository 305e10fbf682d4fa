//! A Chromium with a working WebNN backend (TFLite/XNNPACK on the CPU): the headless shell
//! from npm `@sparticuz/chromium`, brotli-packed. Unpacked into .deps/chromium-webnn/ as
//! `chromium` + `lib/` + SwiftShader, by download → verify → unpack → rename. The host's
//! `chromium-webnn` browser runs it with LD_LIBRARY_PATH=<dir>/lib:<dir> (host/src/browser/).

use crate::run::{command, npm_tarball, workspace_root};
use std::ffi::OsStr;
use std::path::Path;

const NPM_SPEC: &str = "@sparticuz/chromium@153.0.0";
const TARBALL: &str = "sparticuz-chromium-153.0.0.tgz";
const TARBALL_SHA256: &str = "20e5656fcdcf4118ede85edfb9d6bb9cc1bbb7ffb8b75622fffbcf36a835c3c0";
/// The brotli-packed parts under `package/bin/`: the browser itself, then tar archives of its
/// libraries (NSS, expat), SwiftShader, and fonts.
const BROTLI_BINARY: &str = "chromium.br";
const BROTLI_TARS: [&str; 3] = ["al2023.tar.br", "swiftshader.tar.br", "fonts.tar.br"];

/// Decompress `argv[1]` (brotli) to `argv[2]`, executable when `argv[3]` is "x". Node's zlib
/// has brotli; node is already needed for `npm pack`, so no new tool is required.
const BROTLI_JS: &str = "const fs = require('fs'), zlib = require('zlib'); const [src, dst, exec] = process.argv.slice(1); \
     fs.writeFileSync(dst, zlib.brotliDecompressSync(fs.readFileSync(src)), { mode: exec === 'x' ? 0o755 : 0o644 });";

pub fn install() -> Result<(), String> {
    let deps = workspace_root().join(".deps");
    let dest = deps.join("chromium-webnn");
    if dest.join("chromium").is_file() {
        return Ok(());
    }
    let started = std::time::Instant::now();
    let tarball = npm_tarball(NPM_SPEC, TARBALL, TARBALL_SHA256)?;
    let staging = deps.join("chromium-webnn.partial");
    let _ = std::fs::remove_dir_all(&staging);
    unpack(&tarball, &staging)?;
    let _ = std::fs::remove_dir_all(&dest);
    std::fs::rename(&staging, &dest).map_err(|e| format!("moving Chromium (WebNN) into {}: {e}", dest.display()))?;
    println!("xtask: Chromium with WebNN in {} ({:.1} s)", dest.display(), started.elapsed().as_secs_f64());
    Ok(())
}

/// Everything into `staging`; the packed sources are deleted as each part is unpacked.
fn unpack(tarball: &Path, staging: &Path) -> Result<(), String> {
    std::fs::create_dir_all(staging).map_err(|e| format!("creating {}: {e}", staging.display()))?;
    command(
        OsStr::new("tar"),
        &["xzf".as_ref(), tarball.as_os_str(), "-C".as_ref(), staging.as_os_str(), "--strip-components=2".as_ref(), "package/bin".as_ref()],
    )?;
    brotli(&staging.join(BROTLI_BINARY), &staging.join("chromium"), true)?;
    for packed in BROTLI_TARS {
        let tar = staging.join(packed.trim_end_matches(".br"));
        brotli(&staging.join(packed), &tar, false)?;
        command(OsStr::new("tar"), &["xf".as_ref(), tar.as_os_str(), "-C".as_ref(), staging.as_os_str()])?;
        std::fs::remove_file(&tar).map_err(|e| format!("removing {}: {e}", tar.display()))?;
    }
    Ok(())
}

fn brotli(src: &Path, dst: &Path, executable: bool) -> Result<(), String> {
    let mode = if executable { "x" } else { "-" };
    command(OsStr::new("node"), &["-e".as_ref(), BROTLI_JS.as_ref(), src.as_os_str(), dst.as_os_str(), mode.as_ref()])?;
    std::fs::remove_file(src).map_err(|e| format!("removing {}: {e}", src.display()))
}
