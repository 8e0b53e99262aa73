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
//! * **20 epochs** of minibatches of 500, the learning rates decaying by
//!   0.9 an epoch (to 12 % at the end).
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
        Config {
            p: memories_for(shape),
            decay: 0.9,
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
