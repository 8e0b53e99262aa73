//! Random square patches of images (the unsupervised setting of \[TT\]
//! Figure 5: 6×6 patches of MNIST).

use anyhow::{Result, bail};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::data::mnist::Split;

/// `count` patches of `size × size` pixels cut at seeded random places of
/// random images of `images` (square images), as a split whose labels are
/// all 0 (there are none).
///
/// ```
/// use dam_std::data::mnist::Split;
/// use dam_std::potts::patches::patches;
/// let img: Vec<u8> = (0..16).collect(); // one 4×4 image
/// let split = Split::from_bytes(&img, &[3], 16, "toy")?;
/// let p = patches(&split, 2, 5, 1)?;
/// assert_eq!((p.len(), p.dim), (5, 4));
/// // Each patch is a 2×2 window: right and lower neighbours differ by 1 and 4 grey levels.
/// let step = 2.0 / 255.0;
/// assert!(p.images.chunks(4).all(|q| (q[1] - q[0] - step).abs() < 1e-6 && (q[2] - q[0] - 4.0 * step).abs() < 1e-6));
/// # Ok::<(), anyhow::Error>(())
/// ```
pub fn patches(images: &Split, size: usize, count: usize, seed: u64) -> Result<Split> {
    let side = (images.dim as f64).sqrt().round() as usize;
    if side * side != images.dim || size == 0 || size > side || images.is_empty() {
        bail!(
            "cannot cut {size}×{size} patches from images of {} pixels",
            images.dim
        );
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out = Vec::with_capacity(count * size * size);
    for _ in 0..count {
        let img = images.image(rng.random_range(0..images.len()));
        let (x, y) = (
            rng.random_range(0..=side - size),
            rng.random_range(0..=side - size),
        );
        for row in img.chunks_exact(side).skip(y).take(size) {
            out.extend_from_slice(&row[x..x + size]);
        }
    }
    Ok(Split {
        images: out,
        labels: vec![0; count],
        dim: size * size,
    })
}
