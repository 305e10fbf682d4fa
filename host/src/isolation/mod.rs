//! Browsers confined away from everyone but this host process: they run as a dedicated
//! unprivileged user (so Chromium keeps its sandbox) inside a private network namespace (so
//! their WebDriver servers, Marionette and any DevTools endpoint listen on a loopback that only
//! this process can reach). Needs root to set up; see docs/security.md.

mod browser_user;
mod connector;
mod loopback;
mod private_network;

pub use browser_user::{BrowserUser, BROWSER_USER};
pub use connector::LoopbackConnector;
pub use loopback::Loopback;
pub use private_network::PrivateNetwork;

use std::path::Path;
use std::sync::OnceLock;

/// Set to `off` to run browsers without the jail (e.g. a workspace the browser user cannot read).
pub const ISOLATION_ENV: &str = "ACCELERATE_ISOLATION";

/// Where browsers of this process run: as whom, on which loopback.
pub struct Jail {
    pub user: BrowserUser,
    pub network: PrivateNetwork,
}

/// The jail, set up once per process, or why browsers run without one.
pub fn jail() -> Result<&'static Jail, &'static str> {
    static JAIL: OnceLock<Result<Jail, String>> = OnceLock::new();
    JAIL.get_or_init(set_up).as_ref().map_err(String::as_str)
}

fn set_up() -> Result<Jail, String> {
    if std::env::var(ISOLATION_ENV).is_ok_and(|v| v == "off") {
        return Err(format!("turned off by {ISOLATION_ENV}=off"));
    }
    if !running_as_root() {
        return Err("the host is not root: browsers run as the current user, their drivers on the shared loopback".into());
    }
    let user = BrowserUser::find()?;
    let network = PrivateNetwork::create().map_err(|e| format!("creating a private network namespace: {e}"))?;
    Ok(Jail { user, network })
}

impl Jail {
    /// Make `command` start inside the jail: in the private network, as the browser user,
    /// with `home` (a directory the user owns) as its home.
    pub fn confine(&'static self, command: &mut tokio::process::Command, home: &Path) {
        command.env("HOME", home).env("USER", BROWSER_USER).env("LOGNAME", BROWSER_USER);
        self.network.enter_on_exec(command, &self.user);
    }
}

pub fn running_as_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}
