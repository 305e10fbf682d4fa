//! Did a case get slower? Two views of the raw samples of two runs: a one-sided Mann–Whitney U
//! test (no assumption about the shape of timing distributions) and a bootstrap confidence
//! interval of the ratio of medians (how much slower, with its uncertainty).

/// How `candidate`'s samples differ from `base`'s.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shift {
    /// median(candidate) / median(base): above 1 is slower.
    pub ratio: f64,
    /// 95 % bootstrap percentile interval of that ratio.
    pub ci_low: f64,
    pub ci_high: f64,
    /// One-sided p-values: that the candidate is slower, and that it is faster.
    pub p_slower: f64,
    pub p_faster: f64,
}

const BOOTSTRAP_DRAWS: usize = 2000;

/// None when either side has no samples or a median of zero (nothing to take a ratio of).
pub fn shift(base: &[f64], candidate: &[f64]) -> Option<Shift> {
    let (base_median, cand_median) = (median(base)?, median(candidate)?);
    if base_median <= 0.0 {
        return None;
    }
    let (p_slower, p_faster) = mann_whitney(base, candidate);
    let (ci_low, ci_high) = bootstrap_ratio_interval(base, candidate);
    Some(Shift { ratio: cand_median / base_median, ci_low, ci_high, p_slower, p_faster })
}

pub fn median(samples: &[f64]) -> Option<f64> {
    if samples.is_empty() {
        return None;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    Some(if sorted.len() % 2 == 1 { sorted[mid] } else { (sorted[mid - 1] + sorted[mid]) / 2.0 })
}

/// (p that candidate > base, p that candidate < base) from the normal approximation of U with
/// mid-ranks for ties, the tie-corrected variance and a continuity correction.
fn mann_whitney(base: &[f64], candidate: &[f64]) -> (f64, f64) {
    let (n1, n2) = (base.len() as f64, candidate.len() as f64);
    let mut all: Vec<(f64, bool)> = base.iter().map(|&v| (v, false)).chain(candidate.iter().map(|&v| (v, true))).collect();
    all.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (mut rank_sum, mut tie_term, mut i) = (0.0, 0.0, 0);
    while i < all.len() {
        let mut j = i;
        while j + 1 < all.len() && all[j + 1].0 == all[i].0 {
            j += 1;
        }
        let mid_rank = (i + j) as f64 / 2.0 + 1.0;
        let tied = (j - i + 1) as f64;
        tie_term += tied * tied * tied - tied;
        rank_sum += mid_rank * all[i..=j].iter().filter(|(_, is_cand)| *is_cand).count() as f64;
        i = j + 1;
    }
    let n = n1 + n2;
    let u = rank_sum - n2 * (n2 + 1.0) / 2.0;
    let mean = n1 * n2 / 2.0;
    let variance = n1 * n2 / 12.0 * ((n + 1.0) - tie_term / (n * (n - 1.0)));
    if variance <= 0.0 || !variance.is_finite() {
        return (1.0, 1.0);
    }
    let sd = variance.sqrt();
    (1.0 - normal_cdf((u - mean - 0.5) / sd), normal_cdf((u - mean + 0.5) / sd))
}

/// Percentile interval of median(candidate*)/median(base*) over resamples of each side, from a
/// fixed seed so the same runs always give the same report.
fn bootstrap_ratio_interval(base: &[f64], candidate: &[f64]) -> (f64, f64) {
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let mut scratch = Vec::new();
    let mut draw_median = |samples: &[f64], rng: &mut XorShift| {
        scratch.clear();
        scratch.extend((0..samples.len()).map(|_| samples[rng.below(samples.len())]));
        median(&scratch).unwrap_or(f64::NAN)
    };
    let mut ratios: Vec<f64> =
        (0..BOOTSTRAP_DRAWS).map(|_| draw_median(candidate, &mut rng) / draw_median(base, &mut rng)).filter(|r| r.is_finite()).collect();
    if ratios.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    ratios.sort_by(f64::total_cmp);
    let at = |q: f64| ratios[((ratios.len() - 1) as f64 * q).round() as usize];
    (at(0.025), at(0.975))
}

/// z with Φ(z) = p, by bisection (p within (0, 1)).
pub fn normal_quantile(p: f64) -> f64 {
    let (mut lo, mut hi) = (-40.0, 40.0);
    for _ in 0..100 {
        let mid = (lo + hi) / 2.0;
        if normal_cdf(mid) < p {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    (lo + hi) / 2.0
}

/// Φ(z) through erfc (Numerical Recipes' Chebyshev fit, fractional error < 1.2e-7).
fn normal_cdf(z: f64) -> f64 {
    0.5 * erfc(-z / std::f64::consts::SQRT_2)
}

fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07 + t * (-1.135_203_98 + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

/// xorshift64*: enough randomness for resampling, and reproducible.
struct XorShift(u64);

impl XorShift {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as usize % n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_cdf_matches_tabulated_values() {
        for (z, want) in [(0.0, 0.5), (1.0, 0.841_344_7), (-1.959_964, 0.025), (3.0, 0.998_650_1)] {
            assert!((normal_cdf(z) - want).abs() < 1e-6, "Φ({z}) = {}", normal_cdf(z));
        }
    }

    #[test]
    fn normal_quantile_inverts_the_cdf() {
        // scipy.stats.norm.ppf; the erfc fit is good to ~1e-7 in Φ.
        assert!((normal_quantile(0.975) - 1.959_964).abs() < 1e-5);
        assert!(normal_quantile(0.5).abs() < 1e-6);
        assert!((normal_quantile(1.0 - 0.01 / 9.0) - 3.058_804).abs() < 1e-4);
    }

    #[test]
    fn mann_whitney_agrees_with_scipy_on_a_known_pair() {
        // scipy 1.17 `mannwhitneyu(cand, base, alternative="greater", method="asymptotic",
        // use_continuity=True)` gives these p-values; the second pair has ties.
        let (slower, faster) = mann_whitney(&[10.0, 11.0, 12.0, 13.0, 14.0], &[13.5, 15.0, 16.0, 17.0, 18.0]);
        assert!((slower - 0.010_785_87).abs() < 1e-6, "{slower}");
        assert!(faster > 0.98, "{faster}");
        let (slower, _) = mann_whitney(&[2.0, 2.0, 4.0, 5.0, 6.0, 6.0, 7.0, 9.0, 9.0], &[1.0, 2.0, 2.0, 3.0, 5.0, 5.0, 5.0, 9.0]);
        assert!((slower - 0.914_386_8).abs() < 1e-6, "{slower}");
    }

    #[test]
    fn all_tied_samples_give_no_evidence_either_way() {
        assert_eq!(mann_whitney(&[5.0; 4], &[5.0; 4]), (1.0, 1.0));
    }

    #[test]
    fn a_twenty_percent_shift_is_seen_and_bracketed() {
        let base: Vec<f64> = (0..10).map(|i| 100.0 + (i % 5) as f64).collect();
        let cand: Vec<f64> = base.iter().map(|v| v * 1.2).collect();
        let s = shift(&base, &cand).unwrap();
        assert!((s.ratio - 1.2).abs() < 1e-9, "{s:?}");
        assert!(s.p_slower < 1e-3 && s.p_faster > 0.99, "{s:?}");
        assert!(s.ci_low > 1.1 && s.ci_high < 1.3 && s.ci_low <= s.ratio && s.ratio <= s.ci_high, "{s:?}");
        assert_eq!(shift(&base, &cand), Some(s), "the bootstrap is seeded: same input, same interval");
    }

    #[test]
    fn no_samples_no_shift() {
        assert!(shift(&[], &[1.0]).is_none() && shift(&[1.0], &[]).is_none() && shift(&[0.0], &[1.0]).is_none());
    }
}
