//! Driving a pool with many requests at once, optionally killing browsers along the way:
//! the workload behind `accelerate pool` and `bench --suite pool`.

use super::{BrowserPool, EmbedOutcome, EmbedRequest};
use crate::error::{HostError, Result};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

#[derive(Debug, Default)]
pub struct DriveReport {
    pub completed: Vec<EmbedOutcome>,
    /// Requests that ended in an error (none is ever dropped without one).
    pub failed: Vec<String>,
    pub wall_ms: f64,
    pub kills: usize,
    /// How long each killed slot was out of rotation (kill noticed → fresh browser serving).
    pub recoveries_ms: Vec<f64>,
}

impl DriveReport {
    pub fn requests_per_second(&self) -> f64 {
        self.completed.len() as f64 / (self.wall_ms / 1e3)
    }
}

/// Faults to inject while driving: kill a browser (slots in turn) after every `every`
/// completed requests, each kill waiting until the previous victim serves again; keep
/// sending requests until `kills` kills are done.
#[derive(Debug, Clone, Copy)]
pub struct Faults {
    pub every: usize,
    pub kills: usize,
}

impl Faults {
    /// A kill after every `every` completed requests, as many as `requests` allow
    /// (`--kill-every`); 0 is refused: it would never kill, and requests would be sent until
    /// the kills that never come were done.
    pub fn every(every: usize, requests: usize) -> Result<Faults> {
        if every == 0 {
            return Err(HostError::Invalid("--kill-every: must be at least 1 (kill a browser after every N completed requests)".into()));
        }
        Ok(Faults { every, kills: requests / every })
    }
}

/// Run `count` requests like `request` (more if the faults need them), `in_flight` at a time;
/// each text gets the request's number appended, so every request is really computed.
pub async fn drive(pool: &BrowserPool, request: &EmbedRequest, count: usize, in_flight: usize, faults: Option<Faults>) -> DriveReport {
    use futures_util::stream::{self, StreamExt};
    let started = Instant::now();
    if pool.slots().is_empty() {
        // `BrowserPool::start` refuses an empty pool; nothing here could ever answer.
        let failed = (0..count).map(|_| "the pool has no browser session".to_string()).collect();
        return DriveReport { failed, ..DriveReport::default() };
    }
    let done = AtomicUsize::new(0);
    let kills_done = AtomicUsize::new(0);
    // Faults that can never kill (every 0) are no faults: requests are not sent for them.
    let faults = faults.filter(|f| f.every > 0 && f.kills > 0);
    let target_kills = faults.map_or(0, |f| f.kills);
    let before: Vec<usize> = pool.slots().iter().map(|s| s.recoveries_ms.lock().map(|r| r.len()).unwrap_or(0)).collect();
    let done = &done;
    let recovered = || -> usize {
        let now = pool.slots().iter().map(|s| s.recoveries_ms.lock().map(|r| r.len()).unwrap_or(0));
        now.zip(&before).map(|(n, b)| n.saturating_sub(*b)).sum()
    };
    // Requests go on until every kill is done and noticed: a browser killed as the last
    // requests finish is only found dead (and relaunched) by a request that reaches it.
    let requests = stream::iter(0..)
        .take_while(|i| {
            let kills = kills_done.load(Ordering::SeqCst);
            let wanted = *i < count || kills < target_kills || recovered() < kills;
            // Bounded: a pool that can never relaunch must not be driven forever.
            std::future::ready(wanted && *i < count.saturating_mul(4).saturating_add(1000))
        })
        .map(|i| async move {
            // Distinct texts: every request is computed (none answered by the embedding cache).
            let unique = EmbedRequest { texts: request.texts.iter().map(|t| format!("{t} #{i}")).collect(), ..request.clone() };
            let r = pool.embed(&unique).await;
            done.fetch_add(1, Ordering::SeqCst);
            r
        })
        .buffer_unordered(in_flight.max(1))
        .collect::<Vec<_>>();
    let killer = async {
        let Some(f) = faults else { return 0 };
        let mut kills = 0;
        while kills < f.kills {
            let after = done.load(Ordering::SeqCst) + f.every;
            while done.load(Ordering::SeqCst) < after {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            let victim = kills % pool.slots().len();
            // Wait for the victim to be back from its previous kill.
            while !pool.slots()[victim].health().available() {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            if pool.kill_browser(victim).await > 0 {
                kills += 1;
                kills_done.store(kills, Ordering::SeqCst);
            }
        }
        kills
    };
    let (results, kills) = tokio::join!(requests, killer);
    let mut report = DriveReport { wall_ms: started.elapsed().as_secs_f64() * 1e3, kills, ..DriveReport::default() };
    for r in results {
        match r {
            Ok(o) => report.completed.push(o),
            Err(e) => report.failed.push(e.to_string()),
        }
    }
    // Recoveries still under way are waited for (bounded), so every kill is measured.
    let deadline = Instant::now() + Duration::from_secs(120);
    while pool.slots().iter().any(|s| !s.health().available()) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for (slot, skip) in pool.slots().iter().zip(before) {
        report.recoveries_ms.extend(slot.recoveries_ms.lock().map(|r| r[skip..].to_vec()).unwrap_or_default());
    }
    report
}

#[cfg(test)]
mod tests {
    use super::Faults;

    #[test]
    fn kill_every_zero_is_refused_by_name_and_one_kills_after_each_request() {
        let err = Faults::every(0, 10).unwrap_err().to_string();
        assert!(err.contains("--kill-every"), "{err}");
        let f = Faults::every(1, 10).unwrap();
        assert_eq!((f.every, f.kills), (1, 10));
        assert_eq!(Faults::every(20, 10).unwrap().kills, 0);
    }
}
