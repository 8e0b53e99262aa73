//! The Potts settings `dam train` derives from the data, so that
//! `dam train --data X` with no other flag trains a good Potts model on
//! images it has never seen.
//!
//! Large square images (those of [`is_large_image`]: at least 16×16
//! pixels and 1 000 rows) get the recipe measured on MNIST
//! (`BENCHMARKS.md`, "Potts memories"), which needs no quantity tuned to one
//! dataset:
//! * **memories on the sphere** of radius `√D` ([`Constraint::Sphere`]):
//!   the overlaps divided by `D` are then cosines times the input's
//!   length over `√D`, which the input map puts near 1 whatever the data's
//!   scale, so the operating point `β = 120` of the normalized overlap
//!   does not move with `D` or the pixel range (the role of \[McA\]'s
//!   normalized form for the \[KH16\] classifier);
//! * **augmentation**: the training images rotated by up to 8°, scaled by
//!   up to 8 % and moved by up to a pixel, drawn anew each epoch (the
//!   distortions any image class survives);
//! * **`P`**: 25 memories per class, at least 100 and at most 1 000,
//!   never more than the training rows, copied from training samples;
//! * **about 2 400 optimizer steps** ([`TARGET_STEPS`]: the recipe's 20
//!   epochs of MNIST's 120 minibatches of 500), so at least 20 epochs and
//!   at most 400, the learning rates decaying to `0.9^20` (12 %) of their
//!   start over the run (0.9 an epoch at 20 epochs): a dataset of a few
//!   thousand images gets as many updates as MNIST, not 60.
//!
//! Everything else keeps [`Config::default`] (the box constraint, no
//! augmentation, `P = 100`), the settings of the first design.

use super::train::{Config, Constraint};
use crate::train::augment::Augmentation;
use crate::train::defaults::{DataShape, is_large_image};

/// Memories per class for large images.
pub const MEMORIES_PER_CLASS: usize = 25;

/// The number of memories `P` for large images (see the module docs).
///
/// ```
/// use dam_std::potts::defaults::memories_for;
/// use dam_std::train::defaults::DataShape;
/// let mnist = DataShape { rows: 60_000, features: 784, classes: 10, image: Some((28, 28)) };
/// assert_eq!(memories_for(&mnist), 250);
/// ```
pub fn memories_for(shape: &DataShape) -> usize {
    (MEMORIES_PER_CLASS * shape.classes)
        .clamp(100, 1000)
        .min(shape.rows.max(1))
}

/// Optimizer steps the derived settings aim at (MNIST's 20 epochs of 120
/// minibatches).
pub const TARGET_STEPS: usize = 2400;

/// Epochs for about [`TARGET_STEPS`] minibatches of `batch` over `rows`
/// rows, between 20 and 400.
///
/// ```
/// use dam_std::potts::defaults::epochs_for;
/// assert_eq!(epochs_for(60_000, 500), 20);
/// assert_eq!(epochs_for(4_000, 500), 300);
/// assert_eq!(epochs_for(1_000, 500), 400);
/// ```
pub fn epochs_for(rows: usize, batch: usize) -> usize {
    let steps = rows.div_ceil(batch.max(1)).max(1);
    TARGET_STEPS.div_ceil(steps).clamp(20, 400)
}

/// The decay per epoch that brings the learning rates to `0.9^20` of
/// their start after `epochs` epochs.
///
/// ```
/// use dam_std::potts::defaults::decay_for;
/// assert!((decay_for(20) - 0.9).abs() < 1e-6);
/// assert!((decay_for(40) - 0.9f32.sqrt()).abs() < 1e-6);
/// ```
pub fn decay_for(epochs: usize) -> f32 {
    0.9f64.powf(20.0 / epochs.max(1) as f64) as f32
}

/// The derived settings for supervised training on data of `shape`, with
/// `seed` (see the module docs).
///
/// ```
/// use dam_std::potts::{Constraint, defaults::config};
/// use dam_std::train::defaults::DataShape;
/// let mnist = DataShape { rows: 60_000, features: 784, classes: 10, image: Some((28, 28)) };
/// let c = config(&mnist, 3);
/// assert_eq!((c.p, c.constraint, c.epochs, c.seed), (250, Constraint::Sphere, 20, 3));
/// let table = DataShape { rows: 150, features: 4, classes: 3, image: None };
/// assert_eq!(config(&table, 0).constraint, Constraint::Box);
/// c.validate()?;
/// # Ok::<(), anyhow::Error>(())
/// ```
pub fn config(shape: &DataShape, seed: u64) -> Config {
    if is_large_image(shape) {
        let batch = Config::default().batch.min(shape.rows.max(1));
        let epochs = epochs_for(shape.rows, batch);
        Config {
            p: memories_for(shape),
            batch,
            epochs,
            decay: decay_for(epochs),
            constraint: Constraint::Sphere,
            augmentation: Augmentation::new(1, 8.0, 0.08),
            seed,
            ..Config::default()
        }
    } else {
        Config {
            seed,
            ..Config::default()
        }
    }
}
