//! Latency for shapes never measured: per backend, a straight line through its measured
//! (work, milliseconds) points — a fixed cost plus a cost per unit of work — and its honest
//! error, found by leaving each measured point out in turn and predicting it from the rest.

/// `ms ≈ fixed_ms + ms_per_unit · work`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CostLine {
    pub fixed_ms: f64,
    pub ms_per_unit: f64,
}

impl CostLine {
    pub fn predict(&self, work: f64) -> f64 {
        self.fixed_ms + self.ms_per_unit * work
    }

    /// Least squares through `(work, ms)` points, constrained to be physical: a negative fixed
    /// cost or slope is refitted without it. None with fewer than two distinct amounts of work.
    pub fn fit(points: &[(f64, f64)]) -> Option<CostLine> {
        let n = points.len() as f64;
        let (mean_x, mean_y) = (points.iter().map(|p| p.0).sum::<f64>() / n, points.iter().map(|p| p.1).sum::<f64>() / n);
        let sxx: f64 = points.iter().map(|p| (p.0 - mean_x).powi(2)).sum();
        if points.len() < 2 || sxx <= 1e-12 * mean_x.abs().max(1.0).powi(2) {
            return None;
        }
        let sxy: f64 = points.iter().map(|p| (p.0 - mean_x) * (p.1 - mean_y)).sum();
        let line = CostLine { fixed_ms: mean_y - sxy / sxx * mean_x, ms_per_unit: sxy / sxx };
        if line.fixed_ms < 0.0 {
            // Through the origin: ms = slope · work.
            let slope = points.iter().map(|p| p.0 * p.1).sum::<f64>() / points.iter().map(|p| p.0 * p.0).sum::<f64>();
            return Some(CostLine { fixed_ms: 0.0, ms_per_unit: slope.max(0.0) });
        }
        if line.ms_per_unit < 0.0 {
            return Some(CostLine { fixed_ms: mean_y, ms_per_unit: 0.0 });
        }
        Some(line)
    }
}

/// A fitted line with its leave-one-out error.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CostModel {
    pub line: CostLine,
    /// Mean |predicted − measured| / measured over held-out points.
    pub cv_relative_error: f64,
    /// How many points were held out (one at a time).
    pub held_out: usize,
}

/// Needs three points: two to fit each held-out line, one to test it.
pub fn fit_with_cross_validation(points: &[(f64, f64)]) -> Option<CostModel> {
    if points.len() < 3 {
        return None;
    }
    let line = CostLine::fit(points)?;
    let mut errors = Vec::new();
    for i in 0..points.len() {
        let rest: Vec<(f64, f64)> = points.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, p)| *p).collect();
        if let Some(held_line) = CostLine::fit(&rest) {
            let (work, ms) = points[i];
            errors.push((held_line.predict(work) - ms).abs() / ms);
        }
    }
    if errors.is_empty() {
        return None;
    }
    let held_out = errors.len();
    Some(CostModel { line, cv_relative_error: errors.iter().sum::<f64>() / held_out as f64, held_out })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_exact_line_is_recovered_and_cross_validates_to_zero_error() {
        let points: Vec<(f64, f64)> = [1.0, 2.0, 5.0, 9.0].iter().map(|&x| (x, 3.0 + 2.0 * x)).collect();
        let m = fit_with_cross_validation(&points).unwrap();
        assert!((m.line.fixed_ms - 3.0).abs() < 1e-9 && (m.line.ms_per_unit - 2.0).abs() < 1e-9, "{m:?}");
        assert!(m.cv_relative_error < 1e-9 && m.held_out == 4, "{m:?}");
        assert!((m.line.predict(20.0) - 43.0).abs() < 1e-9);
    }

    #[test]
    fn noise_shows_up_as_cross_validated_error() {
        let points = [(1.0, 5.5), (2.0, 6.5), (5.0, 13.8), (9.0, 20.0)];
        let m = fit_with_cross_validation(&points).unwrap();
        assert!(m.cv_relative_error > 0.01 && m.cv_relative_error < 0.3, "{m:?}");
    }

    #[test]
    fn unphysical_fits_are_refitted_and_too_few_points_give_nothing() {
        // A negative intercept becomes a line through the origin.
        let l = CostLine::fit(&[(1.0, 0.5), (2.0, 2.5), (3.0, 4.5)]).unwrap();
        assert_eq!(l.fixed_ms, 0.0);
        assert!(l.ms_per_unit > 0.0);
        assert!(fit_with_cross_validation(&[(1.0, 1.0), (2.0, 2.0)]).is_none());
        assert!(CostLine::fit(&[(2.0, 1.0), (2.0, 3.0)]).is_none(), "one amount of work cannot give a slope");
    }
}
