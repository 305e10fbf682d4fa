//! Where should a model run for a given batch and length? Every browser × backend × dtype that
//! has run the model gets an estimate with its provenance — measured (median over the runs that
//! measured that shape), predicted (a cost line fitted to what the candidate measured on models of
//! the same weight type, with its cross-validated error), failing, or missing — and the fastest
//! measured one is picked.

use super::predict::{fit_with_cross_validation, CostModel};
use super::significance::median;
use crate::backends::models::ModelSpec;
use crate::store::HistoryRow;
use std::collections::BTreeMap;

/// Where a model can run: the browser (None natively), the backend label and the weight type.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Placement {
    pub browser: Option<String>,
    pub backend: String,
    pub dtype: String,
}

impl Placement {
    pub fn label(&self) -> String {
        format!("{} × {} × {}", self.browser.as_deref().unwrap_or("native"), self.backend, self.dtype)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Estimate {
    Measured {
        ms: f64,
        runs: usize,
        lowest: f64,
        highest: f64,
        newest_run: String,
    },
    Predicted {
        ms: f64,
        model: CostModel,
        points: usize,
    },
    /// Its newest run of this shape failed: never recommended.
    Fails(String),
    Missing(String),
}

impl Estimate {
    pub fn ms(&self) -> Option<f64> {
        match self {
            Estimate::Measured { ms, .. } | Estimate::Predicted { ms, .. } => Some(*ms),
            _ => None,
        }
    }

    /// Where the figure comes from, said beside it every time.
    pub fn provenance(&self) -> String {
        match self {
            Estimate::Measured { runs, lowest, highest, newest_run, .. } => {
                format!("measured: median of {runs} run(s), {lowest:.2}–{highest:.2} ms, newest {newest_run}")
            }
            Estimate::Predicted { model, points, .. } => format!(
                "predicted from {points} measured shape(s): cross-validated error ±{:.0} % over {} held-out",
                100.0 * model.cv_relative_error,
                model.held_out
            ),
            Estimate::Fails(why) => format!("fails: {why}"),
            Estimate::Missing(why) => format!("missing: {why}"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Ranked {
    pub placement: Placement,
    pub estimate: Estimate,
    /// The placement's newest accuracy figure for this model (1 − cos for embeddings).
    pub accuracy: Option<f64>,
    /// CPU-emulated GPU: listed, never picked, never presented as a GPU figure.
    pub software_adapter: bool,
}

#[derive(Debug, Clone)]
pub struct Recommendation {
    pub model: String,
    pub batch: usize,
    pub seq: usize,
    /// Fastest first: measured, then predicted, then failing and missing.
    pub ranked: Vec<Ranked>,
    /// Index into `ranked`, and why.
    pub pick: Option<(usize, String)>,
}

/// The (batch, padded length) a stored case ran at, for steady-state workloads only (not the
/// load or the first, cold call).
pub fn case_shape(row: &HistoryRow) -> Option<(usize, usize)> {
    let p = &row.params;
    let batch = p["batch"].as_u64().filter(|&b| b > 0)? as usize;
    if p["workload"].as_str().is_some_and(|w| w.starts_with("first call")) || row.key.shape.starts_with("first call") {
        return None;
    }
    let seq = p["seq"].as_u64().map(|s| s as usize).or_else(|| p["tokens"].as_str().and_then(|t| t.parse().ok()))?;
    Some((batch, seq))
}

pub fn recommend(history: &[HistoryRow], model: &str, batch: usize, seq: usize) -> Recommendation {
    let of_model: Vec<&HistoryRow> = history.iter().filter(|r| r.key.kernel == model).collect();
    let mut placements: BTreeMap<Placement, Vec<&HistoryRow>> = BTreeMap::new();
    for row in &of_model {
        placements.entry(placement_of(row)).or_default().push(row);
    }
    let mut ranked: Vec<Ranked> = placements
        .iter()
        .map(|(placement, rows)| Ranked {
            placement: placement.clone(),
            estimate: estimate(placement, rows, history, model, batch, seq),
            accuracy: rows.iter().find_map(|r| r.max_abs_err),
            software_adapter: rows.iter().any(|r| r.software_adapter),
        })
        .collect();
    let order = |e: &Estimate| match e {
        Estimate::Measured { .. } => 0,
        Estimate::Predicted { .. } => 1,
        Estimate::Fails(_) => 2,
        Estimate::Missing(_) => 3,
    };
    ranked.sort_by(|a, b| {
        order(&a.estimate)
            .cmp(&order(&b.estimate))
            .then(a.estimate.ms().unwrap_or(f64::INFINITY).total_cmp(&b.estimate.ms().unwrap_or(f64::INFINITY)))
    });
    let pick = pick(&ranked);
    Recommendation { model: model.into(), batch, seq, ranked, pick }
}

fn placement_of(row: &HistoryRow) -> Placement {
    Placement { browser: row.key.browser.clone(), backend: row.key.backend.clone(), dtype: row.dtype.clone() }
}

fn estimate(placement: &Placement, rows: &[&HistoryRow], history: &[HistoryRow], model: &str, batch: usize, seq: usize) -> Estimate {
    let at_shape: Vec<&&HistoryRow> = rows.iter().filter(|r| case_shape(r) == Some((batch, seq))).collect();
    // Rows are newest first: the newest result at this shape decides whether it works today.
    if let Some(newest) = at_shape.first().filter(|r| r.status != "ok") {
        return Estimate::Fails(format!("{} in run {}: {}", newest.status, newest.run_id, newest.error.as_deref().unwrap_or("no message")));
    }
    let medians: Vec<f64> = at_shape.iter().filter(|r| r.status == "ok").filter_map(|r| r.median_ms).collect();
    if let (Some(ms), Some(newest)) = (median(&medians), at_shape.first()) {
        let (lowest, highest) = medians.iter().fold((f64::INFINITY, 0.0f64), |(lo, hi), &m| (lo.min(m), hi.max(m)));
        return Estimate::Measured { ms, runs: medians.len(), lowest, highest, newest_run: newest.run_id.clone() };
    }
    predict(placement, history, model, batch, seq)
}

/// Fit the placement's cost line over every BERT model it ran with the same weight type, work
/// measured in GFLOP of the forward pass.
fn predict(placement: &Placement, history: &[HistoryRow], model: &str, batch: usize, seq: usize) -> Estimate {
    let Ok(spec) = ModelSpec::find(model) else {
        return Estimate::Missing(format!("never measured at b{batch}×{seq}, and {model} has no cost model to predict from"));
    };
    let mut by_point: BTreeMap<(String, usize, usize), Vec<f64>> = BTreeMap::new();
    for row in history.iter().filter(|r| r.status == "ok" && placement_of(r) == *placement) {
        if let (Some(shape), Some(ms)) = (case_shape(row), row.median_ms) {
            by_point.entry((row.key.kernel.clone(), shape.0, shape.1)).or_default().push(ms);
        }
    }
    let points: Vec<(f64, f64)> = by_point
        .iter()
        .filter_map(|((kernel, b, s), ms)| {
            let spec = ModelSpec::find(kernel).ok()?;
            Some((spec.shape.forward_flops(*b, *s) / 1e9, median(ms)?))
        })
        .collect();
    match fit_with_cross_validation(&points) {
        Some(cost) => {
            Estimate::Predicted { ms: cost.line.predict(spec.shape.forward_flops(batch, seq) / 1e9), model: cost, points: points.len() }
        }
        None => Estimate::Missing(format!(
            "never measured at b{batch}×{seq}; {} measured shape(s) of {} models are too few to predict from (3 needed)",
            points.len(),
            placement.dtype
        )),
    }
}

fn pick(ranked: &[Ranked]) -> Option<(usize, String)> {
    let usable = |r: &&Ranked| !r.software_adapter;
    let measured: Vec<(usize, &Ranked)> =
        ranked.iter().enumerate().filter(|(_, r)| usable(r) && matches!(r.estimate, Estimate::Measured { .. })).collect();
    let pool = if measured.is_empty() {
        ranked.iter().enumerate().filter(|(_, r)| usable(r) && matches!(r.estimate, Estimate::Predicted { .. })).collect()
    } else {
        measured
    };
    let (index, best) = *pool.first()?;
    let ms = best.estimate.ms()?;
    let mut why = format!("{ms:.2} ms, {}", best.estimate.provenance());
    match pool.get(1) {
        Some((_, next)) => {
            let next_ms = next.estimate.ms().unwrap_or(f64::NAN);
            why.push_str(&format!("; {:.2}× faster than the runner-up {} ({next_ms:.2} ms)", next_ms / ms, next.placement.label()));
        }
        None => why.push_str("; the only placement with a figure of this kind"),
    }
    if let Some(acc) = best.accuracy {
        why.push_str(&format!("; accuracy {acc:.1e}"));
    }
    Some((index, why))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::CaseKey;

    fn row(
        browser: Option<&str>,
        backend: &str,
        model: &str,
        (batch, seq): (usize, usize),
        ms: f64,
        status: &str,
        run: &str,
    ) -> HistoryRow {
        HistoryRow {
            key: CaseKey {
                backend: backend.into(),
                browser: browser.map(String::from),
                kernel: model.into(),
                shape: format!("b{batch}×{seq}"),
            },
            dtype: crate::backends::models::weight_dtype(model, backend).into(),
            params: serde_json::json!({ "model": model, "workload": format!("b{batch}×{seq}"), "batch": batch, "seq": seq }),
            status: status.into(),
            error: (status != "ok").then(|| "wrong output".into()),
            software_adapter: false,
            median_ms: Some(ms),
            max_abs_err: Some(1e-5),
            run_id: run.into(),
            started_at: String::new(),
            git_commit: None,
        }
    }

    #[test]
    fn the_measured_winner_is_picked_and_the_reason_names_the_runner_up() {
        let history = vec![
            row(Some("chromium"), "browser-cpu", "minilm", (8, 128), 600.0, "ok", "r2"),
            row(None, "native-cpu", "minilm", (8, 128), 250.0, "ok", "r2"),
            row(None, "native-cpu", "minilm", (8, 128), 270.0, "ok", "r1"),
            row(None, "native-ort-cpu", "minilm", (8, 128), 300.0, "ok", "r1"),
        ];
        let rec = recommend(&history, "minilm", 8, 128);
        let (i, why) = rec.pick.clone().unwrap();
        assert_eq!(rec.ranked[i].placement.label(), "native × native-cpu × f32");
        assert!(why.contains("260.00 ms") && why.contains("2 run(s)") && why.contains("native-ort-cpu") && why.contains("1.15×"), "{why}");
    }

    #[test]
    fn a_placement_whose_newest_run_failed_is_never_picked() {
        let history = vec![
            row(None, "native-cpu", "minilm", (1, 128), 5.0, "mismatch", "new"),
            row(None, "native-cpu", "minilm", (1, 128), 4.0, "ok", "old"),
            row(None, "native-candle-cpu", "minilm", (1, 128), 9.0, "ok", "old"),
        ];
        let rec = recommend(&history, "minilm", 1, 128);
        let (i, _) = rec.pick.clone().unwrap();
        assert_eq!(rec.ranked[i].placement.backend, "native-candle-cpu");
        let failing = rec.ranked.iter().find(|r| r.placement.backend == "native-cpu").unwrap();
        assert!(matches!(&failing.estimate, Estimate::Fails(w) if w.contains("mismatch in run new")), "{:?}", failing.estimate);
    }

    #[test]
    fn unmeasured_shapes_are_predicted_from_the_same_weight_type_with_their_error() {
        // 0.5 ms fixed + 2 ms per GFLOP, measured on L6 and L3; asked for an L3 shape never run.
        let l6 = ModelSpec::find("minilm").unwrap().shape;
        let l3 = ModelSpec::find("minilm-l3").unwrap().shape;
        let cost = |s: crate::backends::models::BertShape, b, q| 0.5 + 2.0 * s.forward_flops(b, q) / 1e9;
        let mut history = Vec::new();
        for (b, q) in [(1, 16), (1, 128), (8, 16), (8, 128)] {
            history.push(row(None, "native-cpu", "minilm", (b, q), cost(l6, b, q), "ok", "r"));
        }
        history.push(row(None, "native-cpu", "minilm-l3", (1, 16), cost(l3, 1, 16), "ok", "r"));
        // int8 results on the same backend must not feed the f32 line.
        history.push(row(None, "native-cpu", "minilm-int8", (8, 128), 1.0, "ok", "r"));
        let rec = recommend(&history, "minilm-l3", 4, 64);
        let (i, why) = rec.pick.clone().unwrap();
        match &rec.ranked[i].estimate {
            Estimate::Predicted { ms, model, points } => {
                assert!((ms - cost(l3, 4, 64)).abs() < 1e-6, "{ms}");
                assert_eq!(*points, 5);
                assert!(model.cv_relative_error < 1e-9);
            }
            other => panic!("{other:?}"),
        }
        assert!(why.contains("predicted from 5 measured shape(s)"), "{why}");
    }

    #[test]
    fn nothing_to_go_on_is_said_as_missing() {
        let history = vec![row(None, "native-cpu", "minilm", (1, 128), 5.0, "ok", "r")];
        let rec = recommend(&history, "minilm", 8, 64);
        assert!(rec.pick.is_none());
        assert!(matches!(&rec.ranked[0].estimate, Estimate::Missing(w) if w.contains("too few")), "{:?}", rec.ranked[0].estimate);
        assert!(recommend(&history, "unknown-model", 1, 1).ranked.is_empty());
    }
}
