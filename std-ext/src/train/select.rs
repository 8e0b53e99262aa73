//! Choosing the degree `n` of the interaction function on held-out rows,
//! for `dam train` with no `-n` on data that are not large images.
//!
//! \[KH16\] show the degree moving the classifier from a feature regime
//! (`n = 2, 3`: memories combine like the features of a network) to a
//! prototype regime (`n ≥ 20`: each memory is a template), and which one a
//! dataset wants is a property of the data, not something a fixed default
//! can know. The derived settings therefore try a short ladder,
//! [`DEGREES`], and score every degree by its held-out accuracy:
//!
//! * with a validation split of at least [`MIN_HELD`] rows, each candidate
//!   trains on the training split and is scored on the validation rows at
//!   its best epoch (early stopping as in the final run);
//! * with a smaller one or none, by stratified [`FOLDS`]-fold
//!   cross-validation on the training split (every training row is held out
//!   once), at each fold's last epoch (the final run then keeps its last
//!   epoch too: the best of many epochs on a few held-out rows would be an
//!   optimistic score).
//!
//! The default degree ([`super::defaults::DEGREE`]) comes first, and
//! another replaces it only on evidence of the kind the held-out rows can
//! give:
//!
//! * scored on a validation split, the candidates are the very runs the
//!   final one would be (same training rows, early stopping on the same
//!   validation rows), so the most accurate is kept; ties keep the default;
//! * scored by cross-validation, they are proxies: each held-out row is
//!   classified by a fold model trained on 4/5 of the rows, a different
//!   model per fold and none of them the final one. A few rows of
//!   difference then say little about the final run, and picking the best
//!   of three such scores trades the default for whichever degree the
//!   folds happened to favour. So every candidate is compared with the
//!   default on the same rows by the exact McNemar test
//!   ([`super::paired`]), and only those better at the level [`ALPHA`]
//!   compete; the most accurate of them is kept (the first of equals in
//!   the order of [`DEGREES`]), the default if there is none. On the
//!   100–400 rows a small dataset has, 5 rows won and none lost is not
//!   enough at 5%.
//!
//! Every candidate gets the `β` derived for its own degree
//! ([`super::defaults::beta_for`]), so the comparison is between degrees at
//! the same operating point, not between badly and well scaled runs.

use anyhow::{Result, bail};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use super::defaults::beta_for;
use super::kh16::{CHUNK, Config, Net, Scale, Trainer};
use super::paired::Paired;
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

/// The significance level at which a candidate must beat the default
/// (two-sided exact McNemar test on the held-out rows) to replace it: the
/// conventional 5%.
pub const ALPHA: f64 = 0.05;

/// How the candidates were scored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Held {
    /// On the validation split.
    Validation,
    /// By cross-validation with this many folds.
    Folds(usize),
}

/// One candidate degree's held-out result.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Score {
    /// The degree.
    pub degree: u32,
    /// Its held-out accuracy.
    pub accuracy: f64,
    /// Its discordant rows against the default degree (none for the
    /// default itself).
    pub against_default: Paired,
}

impl Score {
    /// Whether it beats the default beyond the noise: more rows won than
    /// lost, with a McNemar p-value below [`ALPHA`].
    pub fn beats_default(&self) -> bool {
        let p = self.against_default;
        p.wins > p.losses && p.p_value() < ALPHA
    }
}

/// The degree kept and every candidate's score.
#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    /// The degree kept.
    pub degree: u32,
    /// Every candidate's score, in [`DEGREES`] order.
    pub scores: Vec<Score>,
    /// How the scores were measured.
    pub held: Held,
}

/// The degree to keep from `scores` (in [`DEGREES`] order, the default
/// first), measured as `held` says (see the module docs): on a validation
/// split, the most accurate; by cross-validation, the most accurate of
/// those that [beat the default](Score::beats_default), the default if none
/// does. The first of equals either way; [`super::defaults::DEGREE`] if
/// `scores` is empty.
///
/// ```
/// use dam_std::train::paired::Paired;
/// use dam_std::train::select::{Held, Score, kept};
/// let s = |degree, accuracy, wins, losses| Score {
///     degree, accuracy, against_default: Paired { wins, losses },
/// };
/// let folds = Held::Folds(5);
/// // 5 rows better, none worse: within the noise, the default stays.
/// assert_eq!(kept(&[s(6, 0.90, 0, 0), s(3, 0.95, 5, 0), s(10, 0.89, 1, 2)], folds), 6);
/// // 8 to 1: beyond it.
/// assert_eq!(kept(&[s(6, 0.90, 0, 0), s(3, 0.97, 8, 1), s(10, 0.89, 1, 2)], folds), 3);
/// // On a validation split, the most accurate.
/// assert_eq!(kept(&[s(6, 0.90, 0, 0), s(3, 0.91, 3, 2)], Held::Validation), 3);
/// ```
pub fn kept(scores: &[Score], held: Held) -> u32 {
    let Some(default) = scores.first() else {
        return super::defaults::DEGREE;
    };
    let mut best = default;
    for s in &scores[1..] {
        let eligible = match held {
            Held::Validation => true,
            Held::Folds(_) => s.beats_default(),
        };
        if eligible && s.accuracy > best.accuracy {
            best = s;
        }
    }
    best.degree
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

/// Whether `net` classifies each row of `split` correctly.
fn correct(net: &Net<'_>, split: &Split) -> Vec<bool> {
    let preds: Result<Vec<Vec<usize>>> = split
        .images
        .par_chunks(CHUNK * net.visible())
        .map(|v| net.predict(v))
        .collect();
    // Scores that overflow f32: a diverged model, every row wrong.
    let Ok(preds) = preds else {
        return vec![false; split.len()];
    };
    preds
        .concat()
        .iter()
        .zip(&split.labels)
        .map(|(&p, &l)| p == usize::from(l))
        .collect()
}

/// Trains `config` on `fit` for its epochs and returns, for each row of
/// `held`, whether it is classified correctly: with `patience` `Some(p)`,
/// at the best epoch by accuracy on `held` (scored after each, the first
/// of equals), stopping after `p` epochs without a better one, as the
/// final run keeps its best validation epoch; with `None`, at the last
/// epoch, as the final run without a validation split keeps its last.
/// `None` if `stop()` turned true; a run whose loss stops being finite
/// gets every row wrong.
pub fn held_correct(
    config: &Config,
    fit: &Split,
    held: &Split,
    classes: usize,
    patience: Option<usize>,
    stop: &(dyn Fn() -> bool + Sync),
) -> Result<Option<Vec<bool>>> {
    if held.dim != fit.dim || held.labels.iter().any(|&l| usize::from(l) >= classes) {
        bail!(
            "held-out rows do not match the training rows ({} vs {} features, {classes} classes)",
            held.dim,
            fit.dim
        );
    }
    let mut t = Trainer::for_data(config.clone(), fit, classes)?;
    let (mut best, mut best_count, mut since) = (vec![false; held.len()], 0usize, 0usize);
    let listed = t.listed(fit);
    while t.epoch < config.epochs {
        let Some(stats) = t.run_epoch_listed(&listed, stop)? else {
            return Ok(None);
        };
        if !stats.loss.is_finite() {
            return Ok(Some(vec![false; held.len()]));
        }
        let Some(patience) = patience else {
            continue;
        };
        let now = correct(&t.net()?, held);
        let count = now.iter().filter(|&&c| c).count();
        if count > best_count {
            (best, best_count, since) = (now, count, 0);
        } else {
            since += 1;
            if since >= patience.max(1) {
                break;
            }
        }
    }
    if patience.is_none() {
        best = correct(&t.net()?, held);
    }
    Ok(Some(best))
}

/// Chooses the degree among [`DEGREES`] (see the module docs) for `base`
/// (whose other settings are kept) on `train`, with the validation split
/// `val` if it has at least [`MIN_HELD`] rows, else by cross-validation.
/// `report(score)` is called as each candidate finishes.
/// Returns `None` if `stop()` turned true.
pub fn choose_degree(
    base: &Config,
    train: &Split,
    val: Option<&Split>,
    classes: usize,
    patience: usize,
    stop: &(dyn Fn() -> bool + Sync),
    mut report: impl FnMut(&Score),
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
    // The default's per-row results, which the others are compared with.
    let mut default_rows: Option<Vec<bool>> = None;
    for n in DEGREES {
        let config = with_degree(base, train, classes, n);
        let rows = match val {
            Some(v) => match held_correct(&config, train, v, classes, Some(patience), stop)? {
                Some(c) => c,
                None => return Ok(None),
            },
            None => {
                // Indexed by training row, each from the fold holding it out.
                let mut rows = vec![false; train.len()];
                for f in 0..k {
                    let (fit, out): (Vec<usize>, Vec<usize>) =
                        (0..train.len()).partition(|&i| assignment[i] != f);
                    let (fit_rows, out_rows) = (train.select(&fit), train.select(&out));
                    let Some(c) = held_correct(&config, &fit_rows, &out_rows, classes, None, stop)?
                    else {
                        return Ok(None);
                    };
                    for (&i, c) in out.iter().zip(c) {
                        rows[i] = c;
                    }
                }
                rows
            }
        };
        let against_default = match &default_rows {
            Some(d) => Paired::count(d, &rows),
            None => Paired::default(),
        };
        let score = Score {
            degree: n,
            accuracy: rows.iter().filter(|&&c| c).count() as f64 / rows.len().max(1) as f64,
            against_default,
        };
        report(&score);
        scores.push(score);
        default_rows.get_or_insert(rows);
    }
    Ok(Some(Choice {
        degree: kept(&scores, held),
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

    fn score(degree: u32, accuracy: f64, wins: usize, losses: usize) -> Score {
        Score {
            degree,
            accuracy,
            against_default: Paired { wins, losses },
        }
    }

    #[test]
    fn by_folds_the_default_stays_unless_beaten_beyond_the_noise() {
        let f = Held::Folds(5);
        // A tie, and a lead of a few rows, keep the default.
        assert_eq!(kept(&[score(6, 0.9, 0, 0), score(3, 0.9, 4, 4)], f), 6);
        assert_eq!(kept(&[score(6, 0.90, 0, 0), score(3, 0.94, 5, 0)], f), 6);
        // Significant but worse (more rows lost than won) never replaces it.
        assert_eq!(kept(&[score(6, 0.9, 0, 0), score(10, 0.8, 0, 9)], f), 6);
        // Beyond the noise: replaced, by the most accurate of those
        // beyond it, not the most significant.
        assert_eq!(kept(&[score(6, 0.90, 0, 0), score(3, 0.96, 6, 0)], f), 3);
        assert_eq!(
            kept(
                &[
                    score(6, 0.80, 0, 0),
                    score(3, 0.86, 6, 0),
                    score(10, 0.90, 14, 4)
                ],
                f
            ),
            10
        );
        // The more accurate one within the noise does not block one beyond it.
        assert_eq!(
            kept(
                &[
                    score(6, 0.80, 0, 0),
                    score(3, 0.86, 6, 0),
                    score(10, 0.87, 9, 2)
                ],
                f
            ),
            3
        );
        // First of equals.
        assert_eq!(
            kept(
                &[
                    score(6, 0.80, 0, 0),
                    score(3, 0.90, 10, 0),
                    score(10, 0.90, 14, 4)
                ],
                f
            ),
            3
        );
        // Nothing to choose from: the default degree.
        assert_eq!(kept(&[], f), crate::train::defaults::DEGREE);
    }

    #[test]
    fn on_a_validation_split_the_most_accurate_is_kept() {
        let v = Held::Validation;
        assert_eq!(kept(&[score(6, 0.90, 0, 0), score(3, 0.905, 2, 0)], v), 3);
        assert_eq!(
            kept(
                &[
                    score(6, 0.90, 0, 0),
                    score(3, 0.91, 4, 0),
                    score(10, 0.92, 8, 0)
                ],
                v
            ),
            10
        );
        // Ties keep the default.
        assert_eq!(kept(&[score(6, 0.9, 0, 0), score(3, 0.9, 4, 4)], v), 6);
    }

    #[test]
    fn held_correct_marks_each_row() {
        let (fit, held) = (blobs(200, 5), blobs(40, 6));
        let shape = DataShape {
            rows: 200,
            features: 4,
            classes: 2,
            image: None,
        };
        let config = Config {
            epochs: 5,
            ..auto_config(&fit, &shape, 0)
        };
        for patience in [None, Some(2)] {
            let c = held_correct(&config, &fit, &held, 2, patience, &|| false)
                .unwrap()
                .unwrap();
            assert_eq!(c.len(), held.len());
            // Separable data: most rows right, each marked on its own.
            assert!(c.iter().filter(|&&x| x).count() > 32, "{c:?}");
        }
        let other = Split {
            dim: 3,
            ..held.clone()
        };
        assert!(held_correct(&config, &fit, &other, 2, None, &|| false).is_err());
    }

    #[test]
    fn choice_scores_every_candidate_against_the_default() {
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
        let c = choose_degree(&base, &train, None, 2, 3, &|| false, |s| seen.push(*s))
            .unwrap()
            .unwrap();
        assert_eq!(c.held, Held::Folds(FOLDS));
        assert_eq!(c.scores, seen);
        assert_eq!(
            c.scores.iter().map(|s| s.degree).collect::<Vec<_>>(),
            DEGREES.to_vec()
        );
        assert_eq!(c.degree, kept(&c.scores, c.held));
        // The default is compared with nothing; the others' discordant
        // rows account for their difference in accuracy.
        assert_eq!(c.scores[0].against_default, Paired::default());
        for s in &c.scores[1..] {
            let p = s.against_default;
            let diff = (s.accuracy - c.scores[0].accuracy) * train.len() as f64;
            assert!(
                (diff - (p.wins as f64 - p.losses as f64)).abs() < 1e-9,
                "{s:?}"
            );
        }
        // Separable data: cross-validated accuracy well above chance.
        let best = c.scores.iter().map(|s| s.accuracy).fold(f64::MIN, f64::max);
        assert!(best > 0.8, "{c:?}");
        // With a validation split of enough rows, that is used instead.
        let val = blobs(120, 4);
        let c = choose_degree(&base, &train, Some(&val), 2, 3, &|| false, |_| {})
            .unwrap()
            .unwrap();
        assert_eq!(c.held, Held::Validation);
        // A stop request ends the choice without a result.
        assert!(
            choose_degree(&base, &train, None, 2, 3, &|| true, |_| {})
                .unwrap()
                .is_none()
        );
    }
}
