//! \[KH16\]'s feature-to-prototype transition: the one-step classifier
//! trained on MNIST with rectified polynomials of degree `n = 2, 3, 20, 30`.
//! At small `n` a memory is a feature detector (strokes, blobs, many of them
//! vote on each digit); at large `n` it is a prototype (a whole digit).
//!
//! "Prototype-ness" is measured, not eyeballed: the mean over memories of
//! the correlation (cosine after removing each vector's mean, so the dark
//! background every image and the negative initial memories share does
//! not count) between a memory's pixels and the most similar training
//! image. A prototype looks like one digit (high), a feature or an
//! untrained memory looks like none (low).

use std::time::Instant;

use anyhow::{Result, bail};
use dam_core::Interaction;
use plotters::prelude::*;
use rayon::prelude::*;

use super::figure::render;
use crate::data::mnist::{CLASSES, Split};
use crate::plot::bwr;
use crate::train::kh16::{self, Scale, Trainer, evaluate};

/// What to run.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Degrees `n` of the rectified polynomial.
    pub degrees: Vec<u32>,
    /// Training images used (the first of the training set).
    pub train_images: usize,
    /// Test images used for the error.
    pub test_images: usize,
    /// Training images the prototype statistic compares memories with.
    pub reference_images: usize,
    /// Everything else of the training (\[KH16\]'s notebook, shorter).
    pub training: kh16::Config,
}

impl Config {
    /// The full run: 60 000 training images, 20 epochs per model.
    pub fn full() -> Self {
        Config {
            degrees: vec![2, 3, 20, 30],
            train_images: 60_000,
            test_images: 10_000,
            reference_images: 5_000,
            training: kh16::Config {
                // The notebook's temperature T = 540 at D = 794, in the
                // normalized form (β = D/T) so every n shares it.
                scale: Scale::Normalized {
                    beta: 794.0 / 540.0,
                },
                epochs: 20,
                ..kh16::Config::default()
            },
        }
    }

    /// The reduced run of `--quick` and of the tests.
    pub fn quick() -> Self {
        Config {
            degrees: vec![2, 30],
            train_images: 10_000,
            test_images: 2_000,
            reference_images: 2_000,
            training: kh16::Config {
                k: 50,
                // Smaller minibatches: 600 steps instead of 60.
                batch: 100,
                epochs: 6,
                ..Config::full().training
            },
        }
    }
}

/// One trained model.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    /// Degree `n`.
    pub n: u32,
    /// Memories, `K × (784 + 10)`.
    pub memories: Vec<f32>,
    /// Test error (fraction).
    pub test_error: f64,
    /// Mean over memories of the best correlation with a training image.
    pub prototype_score: f64,
    /// Training wall time, seconds.
    pub seconds: f64,
}

/// `v` minus its mean, scaled to unit length (zero if `v` is constant).
fn standardized(v: &[f32]) -> Vec<f32> {
    let mean = v.iter().sum::<f32>() / v.len().max(1) as f32;
    let centred: Vec<f32> = v.iter().map(|x| x - mean).collect();
    let norm = centred.iter().map(|x| x * x).sum::<f32>().sqrt();
    let scale = if norm > 0.0 { 1.0 / norm } else { 0.0 };
    centred.iter().map(|x| x * scale).collect()
}

/// Mean over memories (visible part) of the largest correlation with any
/// of `reference`'s images.
///
/// ```
/// use dam_std::data::mnist::Split;
/// use dam_std::experiments::prototype::prototype_score;
/// let reference = Split { images: vec![1.0, -1.0, 1.0, -1.0], labels: vec![0], dim: 4 };
/// // One memory equal to the image (plus a label unit), one unrelated.
/// let memories = [0.5, -0.5, 0.5, -0.5, 0.0, 1.0, 1.0, -1.0, -1.0, 0.0];
/// let score = prototype_score(&memories, 4, 1, &reference);
/// assert!((score - 0.5).abs() < 1e-6);
/// ```
pub fn prototype_score(memories: &[f32], nv: usize, nc: usize, reference: &Split) -> f64 {
    let refs: Vec<Vec<f32>> = reference
        .images
        .chunks_exact(nv)
        .map(standardized)
        .collect();
    let rows: Vec<&[f32]> = memories.chunks_exact(nv + nc).collect();
    let best: Vec<f32> = rows
        .par_iter()
        .map(|row| {
            let v = standardized(&row[..nv]);
            refs.iter()
                .map(|img| v.iter().zip(img).map(|(a, b)| a * b).sum::<f32>())
                .fold(f32::MIN, f32::max)
        })
        .collect();
    best.iter().map(|&b| f64::from(b)).sum::<f64>() / best.len().max(1) as f64
}

/// Trains one model per degree on `train` and scores it on `test`.
pub fn run(config: &Config, train: &Split, test: &Split) -> Result<Vec<Model>> {
    if train.dim != test.dim || train.is_empty() || test.is_empty() {
        bail!("training and test splits need images of the same size");
    }
    let train = train.head(config.train_images);
    let test = test.head(config.test_images);
    let reference = train.head(config.reference_images);
    let mut models = Vec::new();
    for &n in &config.degrees {
        let start = Instant::now();
        let cfg = kh16::Config {
            interaction: Interaction::RectifiedPolynomial { n },
            ..config.training.clone()
        };
        let mut t = Trainer::new(cfg, train.dim, CLASSES)?;
        for _ in 0..config.training.epochs {
            t.run_epoch(&train, &|| false)?;
        }
        let test_error = 1.0 - evaluate(&t.net()?, &test)?.accuracy;
        models.push(Model {
            n,
            prototype_score: prototype_score(&t.xi, train.dim, CLASSES, &reference),
            memories: t.xi,
            test_error,
            seconds: start.elapsed().as_secs_f64(),
        });
    }
    Ok(models)
}

/// The table: one row per model.
pub fn table(config: &Config, models: &[Model]) -> String {
    let t = &config.training;
    let mut out = format!(
        "KH16 classifier on MNIST: K = {}, rectified polynomial, {:?}, m = {}, {} epochs, \
         minibatch {}, {} training / {} test images\n\n\
            n   test error   prototype score   train s\n",
        t.k, t.scale, t.m, t.epochs, t.batch, config.train_images, config.test_images
    );
    for m in models {
        out.push_str(&format!(
            "{:>4} {:>11.2}% {:>17.3} {:>9.1}\n",
            m.n,
            100.0 * m.test_error,
            m.prototype_score,
            m.seconds
        ));
    }
    out.push_str(
        "\nprototype score: mean over memories of the best correlation between the \
         memory's pixels and a training image\n",
    );
    out
}

/// Draws the first `shown` memories of each model (blue −1, white 0, red
/// +1), one titled block per model, side by side.
pub fn draw(path: &std::path::Path, models: &[Model], shown: usize) -> Result<()> {
    const SIDE: usize = 28;
    let cols = (shown as f64).sqrt().ceil().max(1.0) as usize;
    let rows = shown.div_ceil(cols);
    let zoom = 2usize;
    let tile = SIDE * zoom + 2;
    let block = (cols * tile + 20, rows * tile + 50);
    let size = ((block.0 * models.len().max(1)) as u32, block.1 as u32);
    render(path, size, |root| {
        let blocks = root.split_evenly((1, models.len().max(1)));
        for (area, m) in blocks.iter().zip(models) {
            let title = format!("n = {}, test error {:.1}%", m.n, 100.0 * m.test_error);
            area.draw_text(&title, &("sans-serif", 15).into_text_style(area), (10, 10))?;
            let d = SIDE * SIDE + CLASSES;
            for (i, mem) in m.memories.chunks_exact(d).take(shown).enumerate() {
                let (x0, y0) = (10 + (i % cols) * tile, 40 + (i / cols) * tile);
                for (p, &v) in mem[..SIDE * SIDE].iter().enumerate() {
                    // 9 levels keep the figure readable and the PNG small.
                    let (r, g, b) = bwr((v * 4.0).round() / 4.0);
                    let (x, y) = (x0 + (p % SIDE) * zoom, y0 + (p / SIDE) * zoom);
                    area.draw(&Rectangle::new(
                        [(x as i32, y as i32), ((x + zoom) as i32, (y + zoom) as i32)],
                        RGBColor(r, g, b).filled(),
                    ))?;
                }
            }
        }
        Ok(())
    })
}
