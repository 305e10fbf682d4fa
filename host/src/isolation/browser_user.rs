//! The dedicated account browsers run as (created by `cargo xtask setup` when run as root).

use std::os::unix::fs::MetadataExt;
use std::path::Path;

pub const BROWSER_USER: &str = "ipfs-accelerate-browser";

#[derive(Debug, Clone, Copy)]
pub struct BrowserUser {
    pub uid: u32,
    pub gid: u32,
}

impl BrowserUser {
    /// The account from /etc/passwd; never root.
    pub fn find() -> Result<BrowserUser, String> {
        let passwd = std::fs::read_to_string("/etc/passwd").map_err(|e| format!("reading /etc/passwd: {e}"))?;
        let user = passwd.lines().find_map(|line| parse_entry(line, BROWSER_USER)).ok_or_else(|| {
            format!("user {BROWSER_USER} does not exist (`cargo xtask setup`, run as root, creates it); until then browsers run as root")
        })?;
        if user.uid == 0 || user.gid == 0 {
            return Err(format!("user {BROWSER_USER} has uid or gid 0: it must be an unprivileged account"));
        }
        Ok(user)
    }

    /// Become this user, dropping every privilege: supplementary groups, group, user — in that
    /// order, or a later step would be refused. Only async-signal-safe calls: it runs between
    /// fork and exec (`pre_exec`).
    pub fn assume(self) -> std::io::Result<()> {
        // SAFETY: plain system calls on integers; nothing allocates or locks.
        for rc in unsafe { [libc::setgroups(0, std::ptr::null()), libc::setgid(self.gid), libc::setuid(self.uid)] } {
            if rc != 0 {
                return Err(std::io::Error::last_os_error());
            }
        }
        Ok(())
    }

    /// Hand a directory the host created over to this user (its profile, its home).
    pub fn take_ownership(&self, dir: &Path) -> std::io::Result<()> {
        std::os::unix::fs::chown(dir, Some(self.uid), Some(self.gid))
    }

    /// An executable this user can run: every directory above it searchable and the file
    /// executable by it. Checked before a driver starts, so the error names the path.
    pub fn check_can_run(&self, executable: &Path) -> Result<(), String> {
        let not_reachable = |what: &Path, why: &str| {
            format!(
                "{} is not usable by the browser user {BROWSER_USER}: {} {why} (install it somewhere world-readable, or set {}=off)",
                executable.display(),
                what.display(),
                super::ISOLATION_ENV
            )
        };
        let meta = std::fs::metadata(executable).map_err(|e| format!("{}: {e}", executable.display()))?;
        if !self.may(&meta, 0o1) {
            return Err(not_reachable(executable, "is not executable by it"));
        }
        for dir in executable.ancestors().skip(1).filter(|d| !d.as_os_str().is_empty()) {
            let meta = std::fs::metadata(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            if !self.may(&meta, 0o1) {
                return Err(not_reachable(dir, "is not searchable by it"));
            }
        }
        Ok(())
    }

    /// Whether the permission bit `bit` (1 = execute/search) applies to this user.
    fn may(&self, meta: &std::fs::Metadata, bit: u32) -> bool {
        let mode = meta.mode();
        let shift = if meta.uid() == self.uid {
            6
        } else if meta.gid() == self.gid {
            3
        } else {
            0
        };
        (mode >> shift) & bit != 0
    }
}

/// `name:x:uid:gid:…` for `wanted`, if this line is that user's.
fn parse_entry(line: &str, wanted: &str) -> Option<BrowserUser> {
    let mut fields = line.split(':');
    if fields.next()? != wanted {
        return None;
    }
    let _password = fields.next()?;
    let uid = fields.next()?.parse().ok()?;
    let gid = fields.next()?.parse().ok()?;
    Some(BrowserUser { uid, gid })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwd_entries_parse_only_for_the_named_user() {
        let line = "ipfs-accelerate-browser:x:998:997::/nonexistent:/usr/sbin/nologin";
        let user = parse_entry(line, BROWSER_USER).unwrap();
        assert_eq!((user.uid, user.gid), (998, 997));
        assert!(parse_entry(line, "root").is_none());
        assert!(parse_entry("ipfs-accelerate-browser:x:abc:1::", BROWSER_USER).is_none());
        assert!(parse_entry("ipfs-accelerate-browser", BROWSER_USER).is_none());
    }

    #[test]
    fn a_private_directory_blocks_what_is_inside() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("acc-user-check-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let exe = dir.join("tool");
        std::fs::write(&exe, b"#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        // An id no file here belongs to: only the "other" bits apply.
        let stranger = BrowserUser { uid: 4_000_000_001, gid: 4_000_000_001 };
        assert!(stranger.check_can_run(&exe).is_ok());
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
        let err = stranger.check_can_run(&exe).unwrap_err();
        assert!(err.contains("is not searchable") && err.contains(&dir.display().to_string()), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
