//! Training settings derived from the data, for `dam train` with no other
//! flag on a dataset it has never seen.
//!
//! These are the settings of the \[KH16\] classifier. Square images of at
//! least 16×16 pixels and 1 000 rows ([`is_large_image`]) train Potts
//! hidden units by default instead (`crate::potts::defaults`); with
//! `--kind kh16` they get \[KH16\]'s notebook settings for pixels
//! ([`pixel_config`]) with the derived `β`. Everything else gets settings
//! derived from the data alone:
//!
//! What is derived, and from what:
//! * **the form and `β`**: the normalized form of \[McA\] with `β` set so
//!   that one memory equal to a training sample (its class's label units
//!   `+1`, the others `−1`) moves that class's score by 1, the linear range
//!   of `tanh`: with `ρ = mean_b(|x_b|² + Nc)/D` the mean self-overlap,
//!   `F(β(ρ + 2/D)) − F(βρ) = 1`, so `β = ((ρ + 2/D)^n − ρ^n)^(−1/n)`.
//!   Scores then start unsaturated whatever `D`, `Nc` and the data's scale
//!   (on MNIST `β = 1.25`, near the notebook's `D/T = 1.47`);
//! * **the initial memories**: copies of training samples, class by class
//!   in turn (prototypes to refine, as in the \[TT\] Potts trainer), instead
//!   of the notebook's `N(−0.3, 0.3)`, which suits only inputs whose
//!   background is `−1`;
//! * **`K`**: `20` memories per class, at least 100 and at most 1 000,
//!   never more than the training rows;
//! * **the degree `n`**: 6, between \[KH16\]'s feature and prototype
//!   regimes, as the start; `dam train` then chooses among 6, 3 and 10 on
//!   held-out rows ([`super::select`]) unless `-n` is given;
//! * **the minibatch and the epochs**: about 200 rows a minibatch (at most
//!   1/20 of the training rows, at least 1), and epochs for about 8 000
//!   optimizer steps, between 15 and 400 epochs; `ε0` is 0.025 scaled by
//!   `√(batch/1000)` (the notebook's 0.04 at its minibatch of 1 000 made
//!   small datasets oscillate), decaying to 2% over the epochs;
//!   training stops early when the validation accuracy has not improved
//!   for a quarter of the epochs, and the best epoch's memories are kept;
//! * **augmentation**: only for square images of at least 16×16 pixels,
//!   small affine distortions (±8°, ±8% scale, ±1 pixel), as in the
//!   headline runs.

use dam_core::Interaction;

use super::kh16::{Config, Init, Scale};
use crate::data::Split;

/// Optimizer steps aimed at in a run.
pub const TARGET_STEPS: usize = 8_000;

/// What the data are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataShape {
    /// Training rows.
    pub rows: usize,
    /// Features `Nv`.
    pub features: usize,
    /// Classes `Nc`.
    pub classes: usize,
    /// `(height, width)` for image data.
    pub image: Option<(usize, usize)>,
}

/// `β` for the normalized form from the training inputs and the degree
/// `n` (see the module docs); `1` if there are no rows.
///
/// ```
/// use dam_std::data::Split;
/// use dam_std::train::defaults::beta_for;
/// // Inputs at ±1, 2 features, 2 classes: ρ = 1, D = 4, so
/// // β = ((1 + 1/2)^3 − 1)^(−1/3).
/// let s = Split { images: vec![1.0, -1.0, -1.0, 1.0], labels: vec![0, 1], dim: 2 };
/// assert!((beta_for(&s, 2, 3) - (1.5f32.powi(3) - 1.0).powf(-1.0 / 3.0)).abs() < 1e-6);
/// ```
pub fn beta_for(train: &Split, classes: usize, n: u32) -> f32 {
    let Some(rho) = self_overlap(train, classes) else {
        return 1.0;
    };
    let d = (train.dim + classes) as f64;
    let n = f64::from(n.max(1));
    let gap = (rho + 2.0 / d).powf(n) - rho.powf(n);
    let beta = gap.powf(-1.0 / n);
    if beta.is_finite() && beta > 0.0 {
        beta as f32
    } else {
        1.0
    }
}

/// The mean self-overlap `ρ = mean_b(|x_b|² + Nc)/D` of the training rows
/// (`None` without rows): the overlap, divided by `D`, of a memory copied
/// from a row with its class's label units `+1` and the others `−1`.
pub fn self_overlap(train: &Split, classes: usize) -> Option<f64> {
    if train.is_empty() {
        return None;
    }
    let sq: f64 = train
        .images
        .iter()
        .map(|&x| f64::from(x) * f64::from(x))
        .sum();
    Some((sq / train.len() as f64 + classes as f64) / (train.dim + classes) as f64)
}

/// The number of memories `K` (see the module docs).
pub fn memories_for(shape: &DataShape) -> usize {
    (20 * shape.classes).clamp(100, 1000).min(shape.rows.max(1))
}

/// The minibatch size (see the module docs).
pub fn batch_for(rows: usize) -> usize {
    (rows / 20).clamp(1, 200)
}

/// The number of epochs for [`TARGET_STEPS`] steps of `batch`.
pub fn epochs_for(rows: usize, batch: usize) -> usize {
    let steps_per_epoch = rows.div_ceil(batch.max(1)).max(1);
    TARGET_STEPS.div_ceil(steps_per_epoch).clamp(15, 400)
}

/// The learning-rate decay per epoch that reaches 2% of `ε0` after
/// `epochs`.
pub fn decay_for(epochs: usize) -> f32 {
    0.02f64.powf(1.0 / epochs.max(1) as f64) as f32
}

/// The smallest square image side that gets augmented by default: below
/// it one pixel of shift is a large part of the image.
pub const MIN_AUGMENTED_SIDE: usize = 16;

/// The degree `n` of the derived settings: `6`, between \[KH16\]'s
/// feature and prototype regimes (their `20` is kept for large images, see
/// [`pixel_config`]).
pub const DEGREE: u32 = 6;

/// `ε0` at a minibatch of 1 000 in the derived settings.
pub const EPS0_AT_1000: f64 = 0.025;

/// The initial learning rate for minibatches of `batch`: [`EPS0_AT_1000`]
/// scaled by `√(batch/1000)` (the square-root rule: the same step for the
/// same gradient noise, which grows as `1/√batch`).
pub fn eps0_for(batch: usize) -> f32 {
    (EPS0_AT_1000 * (batch.max(1) as f64 / 1000.0).sqrt()) as f32
}

/// The whole default configuration for `train` (whose inputs are already
/// mapped into `[−1, 1]`), with `seed`.
///
/// ```
/// use dam_std::data::Split;
/// use dam_std::train::defaults::{DataShape, auto_config};
/// let s = Split { images: vec![0.5; 300 * 4], labels: (0..300).map(|i| (i % 3) as u16).collect(), dim: 4 };
/// let shape = DataShape { rows: 300, features: 4, classes: 3, image: None };
/// let c = auto_config(&s, &shape, 0);
/// assert_eq!((c.k, c.batch, c.interaction.degree()), (100, 15, Some(6)));
/// c.validate()?;
/// # Ok::<(), anyhow::Error>(())
/// ```
pub fn auto_config(train: &Split, shape: &DataShape, seed: u64) -> Config {
    if is_large_image(shape) {
        return pixel_config(train, shape, seed);
    }
    let batch = batch_for(shape.rows);
    let epochs = epochs_for(shape.rows, batch);
    let square = shape
        .image
        .is_some_and(|(h, w)| h == w && h >= MIN_AUGMENTED_SIDE && shape.features == h * w);
    Config {
        k: memories_for(shape),
        interaction: Interaction::RectifiedPolynomial { n: DEGREE },
        scale: Scale::Normalized {
            beta: beta_for(train, shape.classes, DEGREE),
        },
        m: 30,
        eps0: eps0_for(batch),
        decay: decay_for(epochs),
        momentum: 0.6,
        batch,
        epochs,
        init: Init::Samples,
        seed,
        shift: usize::from(square),
        rotate: if square { 8.0 } else { 0.0 },
        zoom: if square { 0.08 } else { 0.0 },
        ..Config::default()
    }
}

/// Square images of at least [`MIN_AUGMENTED_SIDE`] pixels a side, with
/// at least 1 000 training rows: the data \[KH16\]'s notebook was made for.
pub fn is_large_image(shape: &DataShape) -> bool {
    shape.rows >= 1000
        && shape
            .image
            .is_some_and(|(h, w)| h == w && h >= MIN_AUGMENTED_SIDE && shape.features == h * w)
}

/// The mean self-overlap at which \[KH16\]'s notebook temperature
/// `T = 540` puts MNIST: `β = D/T = 794/540` times its mean self-overlap
/// `ρ = 0.926`.
pub const NOTEBOOK_OVERLAP: f64 = 1.361;

/// `β` for pixels: the notebook's operating point, `β = 1.361/ρ` with `ρ`
/// the mean self-overlap (on MNIST exactly the notebook's `D/T`).
pub fn pixel_beta(train: &Split, classes: usize) -> f32 {
    let Some(rho) = self_overlap(train, classes) else {
        return 1.0;
    };
    let beta = NOTEBOOK_OVERLAP / rho;
    if beta.is_finite() && beta > 0.0 {
        beta as f32
    } else {
        1.0
    }
}

/// The settings for large images: \[KH16\]'s notebook (10 memories per
/// class, `n = 20`, `m = 30`, minibatch 1 000, `ε0 = 0.04`, momentum 0.6,
/// memories from `N(−0.3, 0.3)`, which suits pixels mapped to `[−1, 1]`
/// with a background at `−1`) with the normalized `β` of [`pixel_beta`],
/// 300 epochs with the learning rate decaying to 2%, and no augmentation
/// (the distortions need many more epochs to pay off).
pub fn pixel_config(train: &Split, shape: &DataShape, seed: u64) -> Config {
    let epochs = 300;
    Config {
        k: (10 * shape.classes).clamp(100, 1000),
        interaction: Interaction::RectifiedPolynomial { n: 20 },
        scale: Scale::Normalized {
            beta: pixel_beta(train, shape.classes),
        },
        m: 30,
        eps0: 0.04,
        decay: decay_for(epochs),
        momentum: 0.6,
        batch: 1000,
        epochs,
        init: Init::Normal,
        seed,
        ..Config::default()
    }
}

/// Epochs without a better validation accuracy after which a run stops.
pub fn patience_for(epochs: usize) -> usize {
    (epochs / 4).max(5)
}
