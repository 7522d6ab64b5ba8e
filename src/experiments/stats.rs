//! Significance of a difference in rates between variants: the pooled
//! two-proportion z-test for two arms, Pearson's chi-square test of
//! independence (successes × variants) for more. Distributions from `statrs`.

use serde::Serialize;
use statrs::distribution::{ChiSquared, ContinuousCDF, Normal};

/// A test's result; `p_value` is the chance of a difference at least this large
/// if the variants were in truth alike.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Significance {
    pub test: &'static str,
    pub statistic: f64,
    pub p_value: f64,
}

/// `successes` out of `trials` for each variant. `None` when the test is
/// undefined: fewer than two arms with trials, or every outcome the same.
pub fn compare(arms: &[(u64, u64)]) -> Option<Significance> {
    let arms: Vec<(u64, u64)> = arms.iter().copied().filter(|(_, n)| *n > 0).collect();
    match arms.len() {
        0 | 1 => None,
        2 => two_proportion_z(arms[0], arms[1]),
        _ => chi_square(&arms),
    }
}

/// Pooled two-proportion z-test, two-sided.
pub fn two_proportion_z((x1, n1): (u64, u64), (x2, n2): (u64, u64)) -> Option<Significance> {
    let (x1, n1, x2, n2) = (x1 as f64, n1 as f64, x2 as f64, n2 as f64);
    if n1 == 0.0 || n2 == 0.0 {
        return None;
    }
    let pooled = (x1 + x2) / (n1 + n2);
    let se = (pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2)).sqrt();
    if se == 0.0 {
        return None;
    }
    let z = (x1 / n1 - x2 / n2) / se;
    let normal = Normal::standard();
    Some(Significance {
        test: "two_proportion_z",
        statistic: z,
        p_value: (2.0 * normal.sf(z.abs())).min(1.0),
    })
}

/// Pearson's chi-square on the 2 × k table of successes and failures.
pub fn chi_square(arms: &[(u64, u64)]) -> Option<Significance> {
    let total_n: f64 = arms.iter().map(|(_, n)| *n as f64).sum();
    let total_x: f64 = arms.iter().map(|(x, _)| *x as f64).sum();
    if total_n == 0.0 || total_x == 0.0 || total_x == total_n || arms.len() < 2 {
        return None;
    }
    let rate = total_x / total_n;
    let statistic: f64 = arms
        .iter()
        .map(|(x, n)| {
            let (x, n) = (*x as f64, *n as f64);
            let (ex, ey) = (n * rate, n * (1.0 - rate));
            (x - ex).powi(2) / ex + ((n - x) - ey).powi(2) / ey
        })
        .sum();
    let df = (arms.len() - 1) as f64;
    let dist = ChiSquared::new(df).ok()?;
    Some(Significance {
        test: "chi_square",
        statistic,
        p_value: dist.sf(statistic),
    })
}

/// The 95% Wilson score interval of a rate of `successes` in `trials`, as
/// (low, high); `None` without trials. Unlike the normal approximation it stays
/// within 0–1 and is not zero-width at 0 or n successes, which small arms need.
pub fn wilson(successes: u64, trials: u64) -> Option<(f64, f64)> {
    if trials == 0 {
        return None;
    }
    let (x, n) = (successes as f64, trials as f64);
    let z = Normal::standard().inverse_cdf(0.975);
    let p = x / n;
    let z2n = z * z / n;
    let centre = (p + z2n / 2.0) / (1.0 + z2n);
    let half = z * (p * (1.0 - p) / n + z2n / (4.0 * n)).sqrt() / (1.0 + z2n);
    Some(((centre - half).max(0.0), (centre + half).min(1.0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_proportion_z_matches_a_worked_example() {
        // 30/100 vs 15/100: pooled 0.225, se 0.05906, z 2.540, p 0.0111.
        let s = two_proportion_z((30, 100), (15, 100)).unwrap();
        assert!((s.statistic - 2.540).abs() < 1e-3, "{s:?}");
        assert!((s.p_value - 0.0111).abs() < 1e-3, "{s:?}");
        // Equal rates: no evidence at all.
        let same = two_proportion_z((10, 50), (20, 100)).unwrap();
        assert!(same.statistic.abs() < 1e-12 && (same.p_value - 1.0).abs() < 1e-9);
    }

    #[test]
    fn chi_square_on_two_arms_equals_z_squared() {
        let z = two_proportion_z((30, 100), (15, 100)).unwrap();
        let c = chi_square(&[(30, 100), (15, 100)]).unwrap();
        assert!((c.statistic - z.statistic.powi(2)).abs() < 1e-9);
        assert!((c.p_value - z.p_value).abs() < 1e-9);
    }

    #[test]
    fn three_arms_use_chi_square_with_two_degrees_of_freedom() {
        // Expected 15 successes and 35 failures per arm: 2 × (25/15 + 25/35) = 100/21;
        // with two degrees of freedom the survival function is exp(-x/2).
        let s = compare(&[(10, 50), (20, 50), (15, 50)]).unwrap();
        assert_eq!(s.test, "chi_square");
        assert!((s.statistic - 100.0 / 21.0).abs() < 1e-9, "{s:?}");
        assert!((s.p_value - (-50.0f64 / 21.0).exp()).abs() < 1e-9, "{s:?}");
    }

    #[test]
    fn wilson_intervals_match_published_values() {
        let close = |a: f64, b: f64| (a - b).abs() < 5e-4;
        let (lo, hi) = wilson(5, 10).unwrap();
        assert!(close(lo, 0.2366) && close(hi, 0.7634), "{lo} {hi}");
        let (lo, hi) = wilson(0, 10).unwrap();
        assert!(lo == 0.0 && close(hi, 0.2775), "{lo} {hi}");
        let (lo, hi) = wilson(10, 10).unwrap();
        assert!(close(lo, 0.7225) && close(hi, 1.0), "{lo} {hi}");
        let (lo, hi) = wilson(81, 263).unwrap();
        assert!(close(lo, 0.2553) && close(hi, 0.3662), "{lo} {hi}");
        assert_eq!(wilson(0, 0), None);
    }

    #[test]
    fn undefined_cases_give_none() {
        assert!(compare(&[(1, 10)]).is_none());
        assert!(compare(&[(0, 10), (0, 12)]).is_none());
        assert!(compare(&[(3, 10), (0, 0)]).is_none());
    }
}
