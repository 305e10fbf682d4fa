//! Circuit breaker of one pool slot: a failure opens it (the slot takes no work) until the
//! session has been restarted; repeated failed restarts back off.

use std::time::{Duration, Instant};

/// After this many failures in a row the slot stays out for `BACKOFF` per failure.
const BACKOFF: Duration = Duration::from_millis(500);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Taking requests.
    Closed,
    /// Out of rotation: its browser failed and is being (or will be) restarted.
    Open { since: Instant, retry_at: Instant },
}

#[derive(Debug, Clone)]
pub struct Health {
    pub state: State,
    pub consecutive_failures: u32,
    pub failures: u64,
    pub restarts: u64,
}

impl Default for Health {
    fn default() -> Self {
        Health { state: State::Closed, consecutive_failures: 0, failures: 0, restarts: 0 }
    }
}

impl Health {
    pub fn available(&self) -> bool {
        self.state == State::Closed
    }

    pub fn record_success(&mut self) {
        self.consecutive_failures = 0;
    }

    /// The session failed (crashed, hung, or unreachable): take it out of rotation.
    pub fn record_failure(&mut self) {
        self.failures += 1;
        self.consecutive_failures += 1;
        let now = Instant::now();
        let since = match self.state {
            State::Open { since, .. } => since,
            State::Closed => now,
        };
        self.state = State::Open { since, retry_at: now + BACKOFF * (self.consecutive_failures - 1) };
    }

    /// When a restart may be tried (now, or after the back-off).
    pub fn retry_at(&self) -> Option<Instant> {
        match self.state {
            State::Open { retry_at, .. } => Some(retry_at),
            State::Closed => None,
        }
    }

    /// A fresh session is up: back in rotation. How long the slot was out.
    pub fn restarted(&mut self) -> Option<Duration> {
        self.restarts += 1;
        let out = match self.state {
            State::Open { since, .. } => Some(since.elapsed()),
            State::Closed => None,
        };
        self.state = State::Closed;
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_opens_the_breaker_until_restart_and_repeated_ones_back_off() {
        let mut h = Health::default();
        assert!(h.available());
        h.record_failure();
        assert!(!h.available());
        assert!(h.retry_at().is_some_and(|t| t <= Instant::now()), "the first restart is immediate");
        assert!(h.restarted().is_some());
        assert!(h.available());
        h.record_failure();
        h.restarted();
        h.record_failure();
        assert!(h.retry_at().is_some_and(|t| t > Instant::now()), "a slot failing again and again backs off");
        h.record_success();
        assert_eq!((h.consecutive_failures, h.failures, h.restarts), (0, 3, 2));
    }
}
