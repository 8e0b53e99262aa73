//! Choosing the degree `n` of the interaction function on held-out rows,
//! for `dam train` with no `-n` on data that are not large images.
//!
//! \[KH16\] show the degree moving the classifier from a feature regime
//! (`n = 2, 3`: memories combine like the features of a network) to a
//! prototype regime (`n ≥ 20`: each memory is a template), and which one a
//! dataset wants is a property of the data, not something a fixed default
//! can know. The derived settings therefore try a short ladder,
//! [`DEGREES`], and keep the degree with the best held-out accuracy:
//!
//! * with a validation split of at least [`MIN_HELD`] rows, each candidate
//!   trains on the training split and is scored by its best validation
//!   accuracy over the epochs (early stopping as in the final run);
//! * with a smaller one or none, by stratified [`FOLDS`]-fold
//!   cross-validation on the training split (every training row is held out
//!   once), the accuracy of each fold's last epoch (the final run then
//!   keeps its last epoch too: the best of many epochs on a few held-out
//!   rows would be an optimistic score).
//!
//! The default degree ([`super::defaults::DEGREE`]) comes first and another
//! is kept only if it is strictly better, so ties keep the default. Every
//! candidate gets the `β` derived for its own degree
//! ([`super::defaults::beta_for`]), so the comparison is between degrees at
//! the same operating point, not between badly and well scaled runs.

use anyhow::{Result, bail};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::defaults::beta_for;
use super::kh16::{Config, Scale, Trainer, evaluate};
use crate::data::Split;
use dam_core::Interaction;

/// The candidate degrees, in order of preference: the default, then the
/// feature side, then the prototype side.
pub const DEGREES: [u32; 3] = [6, 3, 10];

/// Folds of the cross-validation when the validation split is too small.
pub const FOLDS: usize = 5;

/// The fewest validation rows to score candidates on (fewer move in steps
/// of more than a point per row).
pub const MIN_HELD: usize = 100;

/// How the candidates were scored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Held {
    /// On the validation split.
    Validation,
    /// By cross-validation with this many folds.
    Folds(usize),
}

/// The degree kept and every candidate's score.
#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    /// The degree kept.
    pub degree: u32,
    /// `(degree, held-out accuracy)` for every candidate, in [`DEGREES`] order.
    pub scores: Vec<(u32, f64)>,
    /// How the scores were measured.
    pub held: Held,
}

/// `base` with degree `n` and the `β` derived for it on `train`.
pub fn with_degree(base: &Config, train: &Split, classes: usize, n: u32) -> Config {
    Config {
        interaction: Interaction::RectifiedPolynomial { n },
        scale: Scale::Normalized {
            beta: beta_for(train, classes, n),
        },
        ..base.clone()
    }
}

/// A stratified assignment of the rows to `k` folds: each class's rows,
/// shuffled with `seed`, dealt in turn (fold sizes differ by at most one
/// per class).
///
/// ```
/// use dam_std::train::select::folds;
/// let labels = [0u16, 0, 0, 0, 1, 1, 1, 1, 1, 1];
/// let f = folds(&labels, 2, 2, 7);
/// for fold in 0..2 {
///     let rows: Vec<_> = (0..10).filter(|&i| f[i] == fold).collect();
///     assert_eq!(rows.iter().filter(|&&i| labels[i] == 0).count(), 2);
///     assert_eq!(rows.iter().filter(|&&i| labels[i] == 1).count(), 3);
/// }
/// ```
pub fn folds(labels: &[u16], classes: usize, k: usize, seed: u64) -> Vec<usize> {
    let k = k.max(1);
    let mut by_class: Vec<Vec<usize>> = vec![Vec::new(); classes];
    for (i, &l) in labels.iter().enumerate() {
        if let Some(rows) = by_class.get_mut(usize::from(l)) {
            rows.push(i);
        }
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0xf01d_5eed);
    let mut fold = vec![0usize; labels.len()];
    // Dealing continues across classes so that small classes do not all
    // land in the first folds.
    let mut next = 0usize;
    for rows in &mut by_class {
        for i in (1..rows.len()).rev() {
            rows.swap(i, rng.random_range(0..=i));
        }
        for &r in rows.iter() {
            fold[r] = next % k;
            next += 1;
        }
    }
    fold
}

/// Trains `config` on `fit` for its epochs and returns its accuracy on
/// `held`: with `patience` `Some(p)`, the best over the epochs (scored
/// after each), stopping after `p` epochs without a better one, as the
/// final run keeps its best validation epoch; with `None`, the last
/// epoch's, as the final run without a validation split keeps its last.
/// `None` if `stop()` turned true; a run whose loss stops being finite
/// scores 0.
pub fn held_accuracy(
    config: &Config,
    fit: &Split,
    held: &Split,
    classes: usize,
    patience: Option<usize>,
    stop: &(dyn Fn() -> bool + Sync),
) -> Result<Option<f64>> {
    let mut t = Trainer::for_data(config.clone(), fit, classes)?;
    let (mut best, mut since) = (0.0f64, 0usize);
    while t.epoch < config.epochs {
        let Some(stats) = t.run_epoch(fit, stop)? else {
            return Ok(None);
        };
        if !stats.loss.is_finite() {
            return Ok(Some(0.0));
        }
        let Some(patience) = patience else {
            continue;
        };
        let acc = evaluate(&t.net(), held)?.accuracy;
        if acc > best {
            (best, since) = (acc, 0);
        } else {
            since += 1;
            if since >= patience.max(1) {
                break;
            }
        }
    }
    if patience.is_none() {
        best = evaluate(&t.net(), held)?.accuracy;
    }
    Ok(Some(best))
}

/// Chooses the degree among [`DEGREES`] (see the module docs) for `base`
/// (whose other settings are kept) on `train`, with the validation split
/// `val` if it has at least [`MIN_HELD`] rows, else by cross-validation.
/// `report(degree, accuracy)` is called as each candidate finishes.
/// Returns `None` if `stop()` turned true.
pub fn choose_degree(
    base: &Config,
    train: &Split,
    val: Option<&Split>,
    classes: usize,
    patience: usize,
    stop: &(dyn Fn() -> bool + Sync),
    mut report: impl FnMut(u32, f64),
) -> Result<Option<Choice>> {
    if train.is_empty() {
        bail!("no training rows to choose the degree on");
    }
    let val = val.filter(|v| v.len() >= MIN_HELD);
    let k = FOLDS.min(train.len());
    let held = match val {
        Some(_) => Held::Validation,
        None => Held::Folds(k),
    };
    let assignment = match val {
        Some(_) => Vec::new(),
        None => folds(&train.labels, classes, k, base.seed),
    };
    let mut scores = Vec::with_capacity(DEGREES.len());
    for n in DEGREES {
        let config = with_degree(base, train, classes, n);
        let score = match val {
            Some(v) => match held_accuracy(&config, train, v, classes, Some(patience), stop)? {
                Some(a) => a,
                None => return Ok(None),
            },
            None => {
                let mut total = 0.0;
                for f in 0..k {
                    let (fit, out): (Vec<usize>, Vec<usize>) =
                        (0..train.len()).partition(|&i| assignment[i] != f);
                    let (fit, out) = (train.select(&fit), train.select(&out));
                    let Some(a) = held_accuracy(&config, &fit, &out, classes, None, stop)? else {
                        return Ok(None);
                    };
                    total += a * out.len() as f64;
                }
                total / train.len() as f64
            }
        };
        report(n, score);
        scores.push((n, score));
    }
    let mut degree = DEGREES[0];
    let mut best = f64::NEG_INFINITY;
    for &(n, s) in &scores {
        if s > best {
            (degree, best) = (n, s);
        }
    }
    Ok(Some(Choice {
        degree,
        scores,
        held,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::defaults::{DataShape, auto_config};

    /// Two classes separated along the first feature, plus noise features.
    fn blobs(rows: usize, seed: u64) -> Split {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut images = Vec::new();
        let mut labels = Vec::new();
        for i in 0..rows {
            let c = (i % 2) as u16;
            let centre = if c == 0 { -0.5 } else { 0.5 };
            images.push(centre + rng.random_range(-0.3..0.3f32));
            for _ in 0..3 {
                images.push(rng.random_range(-1.0..1.0f32));
            }
            labels.push(c);
        }
        Split {
            images,
            labels,
            dim: 4,
        }
    }

    #[test]
    fn folds_hold_every_row_out_once_and_are_seeded() {
        let labels: Vec<u16> = (0..53).map(|i| (i % 3) as u16).collect();
        let f = folds(&labels, 3, 5, 1);
        assert!(f.iter().all(|&x| x < 5));
        let sizes: Vec<usize> = (0..5)
            .map(|k| f.iter().filter(|&&x| x == k).count())
            .collect();
        assert!(sizes.iter().all(|&s| (10..=11).contains(&s)), "{sizes:?}");
        assert_eq!(folds(&labels, 3, 5, 1), f);
        assert_ne!(folds(&labels, 3, 5, 2), f);
    }

    #[test]
    fn choice_scores_every_candidate_and_keeps_the_best() {
        let train = blobs(200, 3);
        let shape = DataShape {
            rows: 200,
            features: 4,
            classes: 2,
            image: None,
        };
        let base = Config {
            epochs: 5,
            ..auto_config(&train, &shape, 0)
        };
        let mut seen = Vec::new();
        let c = choose_degree(&base, &train, None, 2, 3, &|| false, |n, a| {
            seen.push((n, a))
        })
        .unwrap()
        .unwrap();
        assert_eq!(c.held, Held::Folds(FOLDS));
        assert_eq!(c.scores, seen);
        assert_eq!(
            c.scores.iter().map(|s| s.0).collect::<Vec<_>>(),
            DEGREES.to_vec()
        );
        let best = c.scores.iter().map(|s| s.1).fold(f64::MIN, f64::max);
        assert_eq!(c.scores.iter().find(|s| s.0 == c.degree).unwrap().1, best);
        // Separable data: cross-validated accuracy well above chance.
        assert!(best > 0.8, "{c:?}");
        // With a validation split of enough rows, that is used instead.
        let val = blobs(120, 4);
        let c = choose_degree(&base, &train, Some(&val), 2, 3, &|| false, |_, _| {})
            .unwrap()
            .unwrap();
        assert_eq!(c.held, Held::Validation);
        // A stop request ends the choice without a result.
        assert!(
            choose_degree(&base, &train, None, 2, 3, &|| true, |_, _| {})
                .unwrap()
                .is_none()
        );
    }
}
