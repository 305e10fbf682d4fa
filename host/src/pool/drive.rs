//! Driving a pool with many requests at once, optionally killing browsers along the way:
//! the workload behind `accelerate pool` and `bench --suite pool`.

use super::{BrowserPool, EmbedOutcome, EmbedRequest};
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

/// Run `count` requests like `request` (more if the faults need them), `in_flight` at a time;
/// each text gets the request's number appended, so every request is really computed.
pub async fn drive(pool: &BrowserPool, request: &EmbedRequest, count: usize, in_flight: usize, faults: Option<Faults>) -> DriveReport {
    use futures_util::stream::{self, StreamExt};
    let started = Instant::now();
    let done = AtomicUsize::new(0);
    let kills_done = AtomicUsize::new(0);
    let target_kills = faults.map_or(0, |f| f.kills);
    let before: Vec<usize> = pool.slots().iter().map(|s| s.recoveries_ms.lock().map(|r| r.len()).unwrap_or(0)).collect();
    let done = &done;
    let requests = stream::iter(0..)
        .take_while(|i| std::future::ready(*i < count || kills_done.load(Ordering::SeqCst) < target_kills))
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
        let Some(f) = faults.filter(|f| f.every > 0) else { return 0 };
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
