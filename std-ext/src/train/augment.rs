//! Random affine distortions of training images (rotation, scaling and
//! sub-pixel translation), the augmentation with which [Simard et al.,
//! ICDAR 2003] report taking a two-layer network on MNIST from 1.6% to 1.1% test
//! error: a KH16 classifier is such a network (one layer of `K` memories).
//!
//! Images are square, row-major, with background `−1` (the pixels of
//! [`crate::data::mnist`]); pixels that come from outside the image are
//! background, the others are interpolated bilinearly.

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// How each training image is changed before an epoch sees it: not at all,
/// moved by whole pixels, or distorted by a random affine map. The draw for
/// an image comes from its own seed, so it does not depend on the thread.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Augmentation {
    /// Moved by a whole number of pixels in `−shift..=shift` along each
    /// axis (0: unchanged, the notebook).
    Shift(usize),
    /// A random rotation, scale and continuous translation ([`Distortion`]).
    Affine(Distortion),
}

impl Augmentation {
    /// From `dam train`'s options: a rotation or zoom above 0 makes it
    /// [`Augmentation::Affine`] with `shift` as its translation range,
    /// otherwise whole-pixel shifts.
    pub fn new(shift: usize, rotate_deg: f32, zoom: f32) -> Self {
        if rotate_deg != 0.0 || zoom != 0.0 {
            Augmentation::Affine(Distortion {
                rotate_deg,
                zoom,
                shift: shift as f32,
            })
        } else {
            Augmentation::Shift(shift)
        }
    }

    /// Checks the ranges (see [`Distortion::validate`]).
    pub fn validate(&self) -> Result<(), String> {
        match self {
            Augmentation::Shift(_) => Ok(()),
            Augmentation::Affine(d) => d.validate(),
        }
    }

    /// Checks that images of `pixels` pixels can be augmented so: square,
    /// and, for whole-pixel shifts, wider than the shift.
    pub fn check_image(&self, pixels: usize) -> Result<(), String> {
        let width = pixels.isqrt();
        let square = width * width == pixels;
        match *self {
            Augmentation::Shift(0) => Ok(()),
            Augmentation::Shift(s) if !square || s >= width => Err(format!(
                "shifts need square images wider than the shift: {pixels} pixels, shift {s}"
            )),
            Augmentation::Affine(_) if !square => Err(format!(
                "rotation and zoom need square images: {pixels} pixels"
            )),
            _ => Ok(()),
        }
    }

    /// Appends `image` augmented with the draw of the generator seeded by
    /// `seed`.
    pub fn append(&self, image: &[f32], seed: u64, out: &mut Vec<f32>) {
        match *self {
            Augmentation::Shift(0) => out.extend_from_slice(image),
            Augmentation::Shift(s) => {
                let mut rng = ChaCha8Rng::seed_from_u64(seed);
                let s = s as i64;
                let (dx, dy) = (rng.random_range(-s..=s), rng.random_range(-s..=s));
                shifted_into(image, dx as isize, dy as isize, out);
            }
            Augmentation::Affine(ranges) => {
                let mut rng = ChaCha8Rng::seed_from_u64(seed);
                affine_into(image, ranges.draw(&mut rng), out);
            }
        }
    }
}

/// One pass's version of the training images: `augmentation` with the
/// pass's seed mixed with each image's index, so an image's draw depends on
/// the epoch and the image only, not on the thread that gathers it. Both
/// trainers (\[KH16\] and Potts) draw through this.
///
/// ```
/// use dam_std::train::augment::{Augmentation, Draw};
/// let image = [-1.0f32, 1.0, -1.0, -1.0]; // 2×2
/// let draw = Draw::for_epoch(Augmentation::Shift(1), 7, 3);
/// let (mut a, mut b) = (Vec::new(), Vec::new());
/// draw.append(&image, 5, &mut a);
/// draw.append(&image, 5, &mut b);
/// assert_eq!(a, b); // the same image in the same epoch: the same draw
/// let mut plain = Vec::new();
/// Draw::PLAIN.append(&image, 5, &mut plain);
/// assert_eq!(plain, image);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Draw {
    /// The augmentation (`Shift(0)`: the stored images).
    pub augmentation: Augmentation,
    /// Seed of this pass, mixed with each image's index.
    pub seed: u64,
}

impl Draw {
    /// The stored images, unchanged.
    pub const PLAIN: Draw = Draw {
        augmentation: Augmentation::Shift(0),
        seed: 0,
    };

    /// The draw of epoch `epoch` (from 0) of a run seeded `seed`.
    pub fn for_epoch(augmentation: Augmentation, seed: u64, epoch: usize) -> Self {
        Draw {
            augmentation,
            seed: seed ^ (epoch as u64).wrapping_mul(0xd134_2543_de82_ef95),
        }
    }

    /// Appends image number `index`, `image`, as this pass sees it.
    pub fn append(&self, image: &[f32], index: usize, out: &mut Vec<f32>) {
        self.augmentation
            .append(image, self.seed ^ index as u64, out);
    }
}

/// The ranges of a random affine distortion: each image gets its own
/// rotation, scale and translation, drawn uniformly from these ranges.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Distortion {
    /// Largest rotation either way, in degrees.
    pub rotate_deg: f32,
    /// Largest relative change of size: the scale is drawn from
    /// `[1 − zoom, 1 + zoom]`.
    pub zoom: f32,
    /// Largest translation along each axis, in pixels.
    pub shift: f32,
}

/// One drawn distortion: an affine map of the image about its centre.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Affine {
    /// Rotation in radians (positive: clockwise on screen, where `y` grows
    /// downwards).
    pub angle: f32,
    /// Scale factor (> 0).
    pub scale: f32,
    /// Translation `(dx, dy)` in pixels (right, down).
    pub translate: (f32, f32),
}

impl Distortion {
    /// Checks the ranges: finite, a rotation of at most 180°, `zoom` in
    /// `[0, 1)`, a translation of at least 0.
    pub fn validate(&self) -> Result<(), String> {
        let Distortion {
            rotate_deg,
            zoom,
            shift,
        } = *self;
        if !(rotate_deg.is_finite() && (0.0..=180.0).contains(&rotate_deg)) {
            return Err(format!(
                "rotation must be in [0, 180] degrees, got {rotate_deg}"
            ));
        }
        if !(zoom.is_finite() && (0.0..1.0).contains(&zoom)) {
            return Err(format!("zoom must be in [0, 1), got {zoom}"));
        }
        if !(shift.is_finite() && shift >= 0.0) {
            return Err(format!("shift must be finite and ≥ 0, got {shift}"));
        }
        Ok(())
    }

    /// Draws one distortion from these ranges (four uniform draws, always,
    /// so that the stream of draws does not depend on which ranges are 0).
    pub fn draw(&self, rng: &mut ChaCha8Rng) -> Affine {
        let mut uniform = |half: f32| half * (2.0 * rng.random::<f32>() - 1.0);
        let angle = uniform(self.rotate_deg).to_radians();
        let scale = 1.0 + uniform(self.zoom);
        let dx = uniform(self.shift);
        let dy = uniform(self.shift);
        Affine {
            angle,
            scale,
            translate: (dx, dy),
        }
    }
}

/// Appends `image` (square, row-major, background `−1`) transformed by
/// `map` about its centre: the output pixel at `p` takes the input at
/// `R(−angle)·(p − centre − translate)/scale + centre`, interpolated
/// bilinearly, with background outside the image. A non-square image is
/// copied unchanged.
///
/// ```
/// use dam_std::train::augment::{Affine, affine_into};
/// // 2 × 2 moved one pixel right: [a b; c d] → [−1 a; −1 c].
/// let mut out = Vec::new();
/// let right = Affine { angle: 0.0, scale: 1.0, translate: (1.0, 0.0) };
/// affine_into(&[0.1, 0.2, 0.3, 0.4], right, &mut out);
/// assert_eq!(out, [-1.0, 0.1, -1.0, 0.3]);
/// ```
pub fn affine_into(image: &[f32], map: Affine, out: &mut Vec<f32>) {
    let w = image.len().isqrt();
    let start = out.len();
    if w * w != image.len() {
        out.extend_from_slice(image);
        return;
    }
    out.resize(start + image.len(), -1.0);
    let dst = &mut out[start..];
    let centre = (w as f32 - 1.0) / 2.0;
    let (sin, cos) = map.angle.sin_cos();
    let inv = 1.0 / map.scale;
    let pixel = |x: isize, y: isize| -> f32 {
        if (0..w as isize).contains(&x) && (0..w as isize).contains(&y) {
            image[y as usize * w + x as usize]
        } else {
            -1.0
        }
    };
    for (y, row) in dst.chunks_exact_mut(w).enumerate() {
        let py = y as f32 - centre - map.translate.1;
        for (x, px) in row.iter_mut().enumerate() {
            let qx = x as f32 - centre - map.translate.0;
            // The inverse rotation of the output offset, then the inverse scale.
            let sx = (cos * qx + sin * py) * inv + centre;
            let sy = (-sin * qx + cos * py) * inv + centre;
            let (fx, fy) = (sx.floor(), sy.floor());
            if !(fx > -2.0 && fy > -2.0 && fx < w as f32 && fy < w as f32) {
                continue;
            }
            let (tx, ty) = (sx - fx, sy - fy);
            let (ix, iy) = (fx as isize, fy as isize);
            let top = pixel(ix, iy) * (1.0 - tx) + pixel(ix + 1, iy) * tx;
            let bottom = pixel(ix, iy + 1) * (1.0 - tx) + pixel(ix + 1, iy + 1) * tx;
            *px = top * (1.0 - ty) + bottom * ty;
        }
    }
}

/// Appends `image` (square, row-major, background `−1`) moved `dx` pixels
/// right and `dy` down; pixels moved in from outside are background.
///
/// ```
/// let mut out = Vec::new();
/// // 2 × 2: [a b; c d] moved one pixel right → [−1 a; −1 c].
/// dam_std::train::augment::shifted_into(&[0.1, 0.2, 0.3, 0.4], 1, 0, &mut out);
/// assert_eq!(out, [-1.0, 0.1, -1.0, 0.3]);
/// ```
pub fn shifted_into(image: &[f32], dx: isize, dy: isize, out: &mut Vec<f32>) {
    let w = image.len().isqrt();
    let start = out.len();
    out.resize(start + image.len(), -1.0);
    if w * w != image.len() {
        // Not square: no geometry to shift along (`Trainer::new` rejects this).
        out[start..].copy_from_slice(image);
        return;
    }
    let dst = &mut out[start..];
    for y in 0..w {
        let sy = y as isize - dy;
        if !(0..w as isize).contains(&sy) {
            continue;
        }
        let src = &image[sy as usize * w..][..w];
        let row = &mut dst[y * w..][..w];
        for (x, px) in row.iter_mut().enumerate() {
            let sx = x as isize - dx;
            if (0..w as isize).contains(&sx) {
                *px = src[sx as usize];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity() -> Affine {
        Affine {
            angle: 0.0,
            scale: 1.0,
            translate: (0.0, 0.0),
        }
    }

    #[test]
    fn identity_copies_after_what_was_there() {
        let img: Vec<f32> = (0..16).map(|i| i as f32 / 16.0).collect();
        let mut out = vec![7.0];
        affine_into(&img, identity(), &mut out);
        assert_eq!(out[0], 7.0);
        assert_eq!(out[1..], img[..]);
    }

    /// Whole-pixel translations are the integer shifts of `shifted_into`.
    #[test]
    fn whole_pixel_translation_is_a_shift() {
        let img: Vec<f32> = (0..25).map(|i| i as f32 / 25.0).collect();
        for (dx, dy) in [(1, 0), (-1, 2), (0, -3), (5, 0), (2, 2)] {
            let (mut a, mut b) = (Vec::new(), Vec::new());
            let map = Affine {
                translate: (dx as f32, dy as f32),
                ..identity()
            };
            affine_into(&img, map, &mut a);
            shifted_into(&img, dx, dy, &mut b);
            assert_eq!(a, b, "({dx}, {dy})");
        }
    }

    /// A quarter turn moves the top row to the right column (`y` down, so a
    /// positive angle turns clockwise on screen).
    #[test]
    fn quarter_turn_rotates_the_grid() {
        let img: Vec<f32> = (0..9).map(|i| i as f32).collect();
        let mut out = Vec::new();
        let map = Affine {
            angle: core::f32::consts::FRAC_PI_2,
            ..identity()
        };
        affine_into(&img, map, &mut out);
        // [0 1 2; 3 4 5; 6 7 8] turned clockwise: [6 3 0; 7 4 1; 8 5 2].
        let expected = [6., 3., 0., 7., 4., 1., 8., 5., 2.];
        for (i, (a, e)) in out.iter().zip(expected).enumerate() {
            assert!((a - e).abs() < 1e-4, "pixel {i}: {a} vs {e}");
        }
    }

    /// Half-pixel translations average neighbours; scaling about the centre
    /// keeps the centre pixel; everything stays within the input's range.
    #[test]
    fn interpolation_stays_in_range() {
        let img = [1.0, -1.0, -1.0, 1.0];
        let mut out = Vec::new();
        let half = Affine {
            translate: (0.5, 0.0),
            ..identity()
        };
        affine_into(&img, half, &mut out);
        // Column 0 mixes background with the old column 0; column 1 the two old columns.
        assert_eq!(out, [0.0, 0.0, -1.0, 0.0]);
        let img: Vec<f32> = (0..49)
            .map(|i| ((i * 37) % 11) as f32 / 5.0 - 1.0)
            .collect();
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let ranges = Distortion {
            rotate_deg: 15.0,
            zoom: 0.2,
            shift: 2.0,
        };
        for _ in 0..50 {
            let mut out = Vec::new();
            let map = ranges.draw(&mut rng);
            assert!(map.angle.abs() <= 15f32.to_radians() + 1e-6);
            assert!((0.8..=1.2).contains(&map.scale));
            affine_into(&img, map, &mut out);
            assert_eq!(out.len(), 49);
            assert!(out.iter().all(|p| (-1.0..=1.0).contains(p)), "{out:?}");
        }
        let zoom = Affine {
            scale: 1.3,
            ..identity()
        };
        let mut out = Vec::new();
        affine_into(&img, zoom, &mut out);
        assert_eq!(out[24], img[24]);
    }

    #[test]
    fn ranges_are_validated() {
        let ok = Distortion {
            rotate_deg: 10.0,
            zoom: 0.1,
            shift: 1.0,
        };
        assert!(ok.validate().is_ok());
        for bad in [
            Distortion {
                rotate_deg: -1.0,
                ..ok
            },
            Distortion {
                rotate_deg: f32::NAN,
                ..ok
            },
            Distortion { zoom: 1.0, ..ok },
            Distortion {
                shift: f32::INFINITY,
                ..ok
            },
        ] {
            assert!(bad.validate().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn shifted_images_move_and_fill_with_background() {
        // 3 × 3, pixel value = its index.
        let img: Vec<f32> = (0..9).map(|i| i as f32).collect();
        let mut out = vec![7.0];
        shifted_into(&img, 0, 0, &mut out);
        assert_eq!(out[1..], img[..], "no shift copies, after what was there");
        assert_eq!(out[0], 7.0);
        let mut out = Vec::new();
        shifted_into(&img, -1, 1, &mut out);
        // Up one row of background, then rows 0 and 1 moved one left.
        assert_eq!(out, [-1., -1., -1., 1., 2., -1., 4., 5., -1.]);
        let mut out = Vec::new();
        shifted_into(&img, 3, 0, &mut out);
        assert_eq!(out, [-1.0; 9]);
    }
}
