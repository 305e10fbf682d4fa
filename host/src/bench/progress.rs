//! Progress of a bench run. On a terminal: a bar per suite (environments done of planned,
//! elapsed, ETA, the current step) with the step lines scrolling above it. Anywhere else (CI
//! logs, pipes): the step lines only, as plain stderr lines, so logs stay greppable.
//!
//! The unit is an environment (one backend, in one browser for browser backends): the one
//! count every suite knows before it starts. Environments differ in length, so the ETA is a
//! rate estimate that settles as the run goes on.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Duration;

/// The bar of the suite running now; `None` between suites and when stderr is not a terminal.
static BAR: Mutex<Option<ProgressBar>> = Mutex::new(None);

fn with_bar<T>(f: impl FnOnce(Option<&ProgressBar>) -> T) -> T {
    // A panic while the lock was held leaves the bar itself usable.
    let guard = BAR.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    f(guard.as_ref())
}

/// The bar of one suite's run; cleared when dropped, whether the suite finished or failed.
pub struct SuiteProgress(());

impl SuiteProgress {
    /// Starts the bar of `suite` (`label` says which of how many suites it is) with
    /// `environments` planned. Draws nothing unless stderr is a terminal.
    pub fn start(label: &str, environments: usize) -> SuiteProgress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::with_draw_target(Some(environments as u64), ProgressDrawTarget::stderr());
            let style = ProgressStyle::with_template("{prefix} {elapsed:>4} {wide_bar} {pos}/{len} environments, ETA {eta}\n  {wide_msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            bar.set_prefix(label.to_string());
            bar.enable_steady_tick(Duration::from_millis(500));
            bar
        });
        *BAR.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = bar;
        SuiteProgress(())
    }
}

impl Drop for SuiteProgress {
    fn drop(&mut self) {
        if let Some(bar) = BAR.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).take() {
            bar.finish_and_clear();
        }
    }
}

/// A step of the run: printed above the bar (or as a plain stderr line) and shown as the
/// bar's current step.
pub fn step(line: impl AsRef<str>) {
    let line = format!("  {}", line.as_ref());
    with_bar(|bar| match bar {
        Some(bar) => {
            bar.println(&line);
            bar.set_message(line.trim().to_string());
        }
        None => eprintln!("{line}"),
    });
}

/// `count` planned environments finished (measured, failed or unavailable alike).
pub fn environments_finished(count: usize) {
    with_bar(|bar| {
        if let Some(bar) = bar {
            bar.inc(count as u64);
        }
    });
}

/// How many environments a suite plans for `backends` in `browsers` browsers: one per native
/// backend (and the `precision` study), one per browser for each `browser-…` backend.
pub fn planned_environments(backends: &[String], browsers: usize) -> usize {
    backends.iter().map(|b| if b.starts_with("browser-") { browsers } else { 1 }).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browser_backends_count_once_per_browser() {
        let backends: Vec<String> = ["native-cpu", "browser-cpu", "browser-webgpu", "precision"].map(String::from).to_vec();
        assert_eq!(planned_environments(&backends, 2), 6);
        assert_eq!(planned_environments(&backends, 0), 2);
    }
}
