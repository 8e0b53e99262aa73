//! Whether one classifier is better than another on the same held-out
//! rows: the exact McNemar test.
//!
//! Two classifiers scored on the same rows differ only on the rows where
//! exactly one of them is right: `wins` where the challenger is right and
//! the incumbent wrong, `losses` the other way round. If both were equally
//! good, each such discordant row would go either way with probability
//! `1/2`, so `wins` would be binomial with `wins + losses` trials and
//! `p = 1/2`. The two-sided p-value ([`Paired::p_value`]) is the probability
//! of a split at least as uneven as the one seen. On the 100–400 rows a
//! small dataset holds out, a few rows of difference in accuracy are well
//! within this noise: 5 wins and no loss still has `p = 0.0625`.

/// The discordant rows of two classifiers on the same held-out rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Paired {
    /// Rows the challenger gets right and the incumbent wrong.
    pub wins: usize,
    /// Rows the incumbent gets right and the challenger wrong.
    pub losses: usize,
}

impl Paired {
    /// Counts the discordant rows of two per-row correctness vectors (rows
    /// beyond the shorter one are ignored).
    ///
    /// ```
    /// use dam_std::train::paired::Paired;
    /// let incumbent = [true, true, false, false, true];
    /// let challenger = [true, false, true, true, true];
    /// assert_eq!(Paired::count(&incumbent, &challenger), Paired { wins: 2, losses: 1 });
    /// ```
    pub fn count(incumbent: &[bool], challenger: &[bool]) -> Self {
        let mut p = Self::default();
        for (&a, &b) in incumbent.iter().zip(challenger) {
            p.wins += usize::from(b && !a);
            p.losses += usize::from(a && !b);
        }
        p
    }

    /// The two-sided exact p-value of the split under "equally good":
    /// `min(1, 2 P(X ≤ min(wins, losses)))` with `X ~ Binomial(wins +
    /// losses, 1/2)`; `1` without discordant rows.
    ///
    /// ```
    /// use dam_std::train::paired::Paired;
    /// // 5 to 0: 2 / 2^5.
    /// let p = Paired { wins: 5, losses: 0 }.p_value();
    /// assert!((p - 0.0625).abs() < 1e-12);
    /// // 6 to 0: 2 / 2^6, significant at 5%.
    /// assert!(Paired { wins: 0, losses: 6 }.p_value() < 0.05);
    /// assert_eq!(Paired { wins: 3, losses: 3 }.p_value(), 1.0);
    /// ```
    pub fn p_value(&self) -> f64 {
        let n = self.wins + self.losses;
        if n == 0 {
            return 1.0;
        }
        let k = self.wins.min(self.losses);
        // ln C(n, i) − n ln 2, summed in linear space: no underflow of
        // 2^−n for the thousands of rows a validation split may have.
        let ln_half_n = n as f64 * std::f64::consts::LN_2;
        let mut ln_c = 0.0f64;
        let mut tail = (-ln_half_n).exp();
        for i in 1..=k {
            ln_c += ((n - i + 1) as f64).ln() - (i as f64).ln();
            tail += (ln_c - ln_half_n).exp();
        }
        (2.0 * tail).min(1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tail by direct summation of binomial coefficients (small `n`).
    fn direct(n: u64, k: u64) -> f64 {
        let (mut c, mut sum) = (1u64, 1u64);
        for i in 1..=k {
            c = c * (n - i + 1) / i;
            sum += c;
        }
        (2.0 * sum as f64 / 2f64.powi(n as i32)).min(1.0)
    }

    #[test]
    fn p_value_matches_direct_sums_and_is_symmetric() {
        for wins in 0..20usize {
            for losses in 0..20usize {
                let p = Paired { wins, losses }.p_value();
                let q = Paired {
                    wins: losses,
                    losses: wins,
                }
                .p_value();
                assert_eq!(p, q);
                if wins + losses > 0 {
                    let d = direct((wins + losses) as u64, wins.min(losses) as u64);
                    assert!((p - d).abs() < 1e-12, "{wins} {losses}: {p} vs {d}");
                }
            }
        }
    }

    #[test]
    fn p_value_is_finite_on_many_rows_and_falls_with_the_imbalance() {
        let even = Paired {
            wins: 1500,
            losses: 1500,
        }
        .p_value();
        assert!((even - 1.0).abs() < 1e-9, "{even}");
        let mut last = 1.0;
        for wins in [1510, 1550, 1600, 1700] {
            let p = Paired {
                wins,
                losses: 3000 - wins,
            }
            .p_value();
            assert!(p.is_finite() && p < last, "{wins}: {p}");
            last = p;
        }
        assert!(last < 1e-6);
    }
}
