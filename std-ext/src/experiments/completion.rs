//! Pattern completion on MNIST: how often an occluded cue completes to the
//! memory it came from, against the fraction of pixels hidden, for the
//! bipolar memory (\[KH16\], `F = s^n` at several `n`), the log-sum-exp
//! memory and its random-feature approximation (\[DrDAM\]).
//!
//! The `K` memories are the first `K` training images (bipolar: pixel
//! `> 127 → +1`, else `−1`; log-sum-exp: `2p/255 − 1`). Each cue is one
//! of the first `cues` stored images with a random fraction of its pixels
//! hidden (set to `−1`,
//! the background, and free to change); the visible pixels are clamped.
//! A completion counts as correct when its nearest memory (largest
//! overlap) is the one the cue came from.

use anyhow::{Result, anyhow, bail};
use dam_core::{
    DrDam, EnergyModel, Form, Interaction, SeededProjection, Similarity, StoredProjection,
};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use crate::data::mnist::RawSplit;
use crate::families::{Family, Known, Order, RecallOptions, nearest, recall};

/// What to measure.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Memories `K` (the first `K` training images).
    pub k: usize,
    /// Fractions of pixels hidden.
    pub fractions: Vec<f64>,
    /// Degrees `n` of the bipolar memory (`F = s^n`, normalized form).
    pub degrees: Vec<u32>,
    /// `β` of the log-sum-exp memory (Euclidean similarity).
    pub beta: f64,
    /// Random features `Y` of DrDAM.
    pub features: usize,
    /// Cues per fraction: the first `cues` memories, occluded.
    pub cues: usize,
    /// Sweeps (bipolar) or steps (log-sum-exp, DrDAM).
    pub steps: usize,
    /// Seed of the occlusions and of DrDAM's projection.
    pub seed: u64,
}

impl Config {
    /// The documented run (about a minute on 2 cores).
    pub fn full() -> Self {
        Config {
            k: 1000,
            fractions: (1..=9).map(|i| f64::from(i) / 10.0).collect(),
            degrees: vec![2, 3, 10],
            beta: 0.1,
            features: 4000,
            cues: 100,
            steps: 20,
            seed: 0,
        }
    }

    /// A reduced run for the tests (seconds).
    pub fn quick() -> Self {
        Config {
            k: 20,
            fractions: vec![0.2, 0.6],
            degrees: vec![2, 10],
            features: 500,
            cues: 10,
            steps: 5,
            ..Config::full()
        }
    }
}

/// One measured point.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// The memory: `bipolar n = 3`, `log-sum-exp`, `DrDAM`.
    pub memory: String,
    /// The fraction hidden.
    pub fraction: f64,
    /// Cues that completed to their own memory.
    pub correct: usize,
    /// Cues tried.
    pub cues: usize,
}

impl Point {
    /// `correct / cues`.
    pub fn accuracy(&self) -> f64 {
        self.correct as f64 / self.cues.max(1) as f64
    }
}

/// Runs the experiment on the training images of `train`.
pub fn measure(config: &Config, train: &RawSplit) -> Result<Vec<Point>> {
    let d = train.dim;
    let k = config.k;
    if k == 0 || train.pixels.len() < k * d {
        bail!(
            "completion: need {k} training images, have {}",
            train.pixels.len() / d.max(1)
        );
    }
    let pixels = &train.pixels[..k * d];
    let bipolar: Vec<f64> = pixels
        .iter()
        .map(|&p| if p > 127 { 1.0 } else { -1.0 })
        .collect();
    let continuous: Vec<f64> = pixels.iter().map(|&p| f64::from(p) / 127.5 - 1.0).collect();
    let mut points = Vec::new();
    for (fi, &fraction) in config.fractions.iter().enumerate() {
        if !(0.0..=1.0).contains(&fraction) {
            bail!("completion: fraction {fraction} is not in [0, 1]");
        }
        let mut rng = ChaCha8Rng::seed_from_u64(config.seed ^ (fi as u64 + 1));
        let cues = config.cues.min(k);
        let hidden: Vec<bool> = (0..cues * d).map(|_| rng.random_bool(fraction)).collect();
        let known: Vec<bool> = hidden.iter().map(|&h| !h).collect();
        // The first `cues` memories with their hidden pixels at −1.
        let cue = |stored: &[f64]| -> Vec<f64> {
            stored
                .iter()
                .zip(&hidden)
                .map(|(&x, &h)| if h { -1.0 } else { x })
                .collect()
        };
        let opts = RecallOptions {
            steps: config.steps,
            step: 1.0,
            order: Order::Sequential,
        };
        for &n in &config.degrees {
            let family = Family::Bipolar {
                f: Interaction::Polynomial { n },
                form: Form::Normalized { beta: 1.0 },
            };
            let (_, reports) = recall(
                &bipolar,
                d,
                &cue(&bipolar),
                family,
                opts,
                Known::PerQuery(&known),
            )?;
            points.push(point(
                format!("bipolar n = {n}"),
                fraction,
                &reports_nearest(&reports),
            ));
        }
        let family = Family::Lse {
            beta: config.beta,
            similarity: Similarity::Euclidean,
        };
        let (_, reports) = recall(
            &continuous,
            d,
            &cue(&continuous),
            family,
            opts,
            Known::PerQuery(&known),
        )?;
        points.push(point(
            "log-sum-exp".into(),
            fraction,
            &reports_nearest(&reports),
        ));
        let found = drdam(config, &continuous, d, &cue(&continuous), &known)?;
        points.push(point(
            format!("DrDAM Y = {}", config.features),
            fraction,
            &found,
        ));
    }
    Ok(points)
}

fn reports_nearest(reports: &[crate::families::QueryReport]) -> Vec<usize> {
    reports.iter().map(|r| r.nearest).collect()
}

fn point(memory: String, fraction: f64, nearest: &[usize]) -> Point {
    let correct = nearest.iter().enumerate().filter(|&(i, &m)| i == m).count();
    Point {
        memory,
        fraction,
        correct,
        cues: nearest.len(),
    }
}

/// The nearest memory of each completion by DrDAM.
fn drdam(
    config: &Config,
    memories: &[f64],
    d: usize,
    cues: &[f64],
    known: &[bool],
) -> Result<Vec<usize>> {
    let y = config.features;
    // The seeded projection written out once: a stored matrix is read, not
    // regenerated, at every step.
    let mut matrix = vec![0.0f64; y * d];
    SeededProjection::new(config.seed, y, d)?.fill(&mut matrix)?;
    let proj = StoredProjection::new(&matrix, y, d)?;
    let mut dam = DrDam::new(proj, config.beta, vec![0.0f64; 2 * y])?;
    let mut scratch = vec![0.0f64; dam.scratch_len() + d];
    for xi in memories.chunks_exact(d) {
        dam.store(xi, &mut scratch)
            .map_err(|e| anyhow!("DrDAM store: {e}"))?;
    }
    (0..cues.len() / d)
        .into_par_iter()
        .map_init(
            || vec![0.0f64; dam.scratch_len() + d],
            |scratch, i| {
                let mut x = cues[i * d..(i + 1) * d].to_vec();
                let mask = &known[i * d..(i + 1) * d];
                dam.descend(&mut x, Some(mask), 1.0, config.steps, scratch)
                    .map_err(|e| anyhow!("DrDAM cue {i}: {e}"))?;
                Ok(nearest(memories, d, &x).0)
            },
        )
        .collect()
}

/// The table: one row per memory, one column per fraction (% correct).
pub fn table(points: &[Point]) -> String {
    let mut fractions: Vec<f64> = points.iter().map(|p| p.fraction).collect();
    fractions.dedup();
    let mut memories: Vec<&str> = Vec::new();
    for p in points {
        if !memories.contains(&p.memory.as_str()) {
            memories.push(&p.memory);
        }
    }
    let mut s = String::from("| memory |");
    for f in &fractions {
        s += &format!(" {:.0}% hidden |", 100.0 * f);
    }
    s += "\n|---|";
    s += &"---:|".repeat(fractions.len());
    s += "\n";
    for m in memories {
        s += &format!("| {m} |");
        for f in &fractions {
            match points.iter().find(|p| p.memory == m && p.fraction == *f) {
                Some(p) => {
                    s += &format!(" {:.1} ({}/{}) |", 100.0 * p.accuracy(), p.correct, p.cues)
                }
                None => s += " – |",
            }
        }
        s += "\n";
    }
    s
}

/// Accuracy against the fraction hidden, one curve per memory.
pub fn draw(path: &std::path::Path, points: &[Point]) -> Result<()> {
    use crate::plot::{Axes, Line, PALETTE, lines};
    let mut names: Vec<&str> = Vec::new();
    for p in points {
        if !names.contains(&p.memory.as_str()) {
            names.push(&p.memory);
        }
    }
    let series: Vec<Vec<(f64, f64)>> = names
        .iter()
        .map(|m| {
            points
                .iter()
                .filter(|p| p.memory == *m)
                .map(|p| (100.0 * p.fraction, 100.0 * p.accuracy()))
                .collect()
        })
        .collect();
    let curves: Vec<Line<'_>> = names
        .iter()
        .zip(&series)
        .enumerate()
        .map(|(i, (name, pts))| Line {
            name,
            points: pts,
            colour: PALETTE[i % PALETTE.len()],
        })
        .collect();
    lines(
        path,
        &curves,
        &Axes {
            title: "Completion of occluded MNIST memories",
            x_label: "pixels hidden (%)",
            y_label: "cues completed to their memory (%)",
            y_range: Some((0.0, 100.0)),
        },
    )
}
