//! \[McA\]'s hyperparameter maps: autoassociative training
//! ([`crate::train::mca`]) of random bipolar patterns over a grid of inverse
//! temperature × initial learning rate, for several degrees `n`, in the raw
//! and the normalized form; each cell is the mean Euclidean distance between
//! a learned pattern and the state retrieval relaxes it to.
//!
//! The two forms differ only in where `β` sits (math.md §2, §4):
//! raw \[KH16\] `tanh(β Σ F(ξ·x))`, normalized \[McA\] `tanh(Σ F(β ξ·x / D))`.
//! For a homogeneous `F` of degree `n`, `β_raw Σ F(m) = Σ F(β_raw^{1/n} m)`,
//! so the raw model with outside factor `β_raw` is trained, exactly and
//! without overflow, as the normalized one with `β = D β_raw^{1/n}`.
//! A raw grid fixed across `n` therefore samples normalized temperatures
//! that drift with `n`: that is the effect \[McA\] report.

use anyhow::Result;
use dam_core::Interaction;
use rayon::prelude::*;

use super::figure::{Heatmaps, Panel};
use crate::patterns::random_bipolar;
use crate::train::mca::{self, relaxation_flips};

/// Where `β` sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// \[KH16\]: outside factor `β` on `Σ F(ξ·x)`.
    Raw,
    /// \[McA\]: `F(β ξ·x / D)`, `β = 1/T`.
    Normalized,
}

/// What to run.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Degrees trained in both forms.
    pub degrees: Vec<u32>,
    /// Further degrees trained in the normalized form only.
    pub normalized_only: Vec<u32>,
    /// Normalized inverse temperatures `1/T`.
    pub betas: Vec<f32>,
    /// Raw outside factors `β` (the same for every `n`, as a user would keep them).
    pub raw_betas: Vec<f64>,
    /// Initial learning rates.
    pub rates: Vec<f32>,
    /// Patterns learned.
    pub patterns: usize,
    /// Dimension `D`.
    pub dim: usize,
    /// Independent repeats per cell (patterns and initial memories).
    pub repeats: usize,
    /// Training settings other than `n`, `β` and the rate (\[McA\]: `m = 1`,
    /// no momentum, decay 0.999).
    pub training: mca::Config,
}

impl Config {
    /// The full experiment: \[McA\]'s 20 patterns, `D = 100`, 5 repeats.
    pub fn full() -> Self {
        Config {
            degrees: vec![2, 5, 10, 20, 30],
            normalized_only: vec![50, 100],
            betas: vec![0.5, 0.9, 1.2, 1.6, 2.2, 3.0],
            raw_betas: (0..6).map(|i| 10f64.powi(2 * i - 10)).collect(),
            rates: vec![0.05, 0.2],
            patterns: 20,
            dim: 100,
            repeats: 5,
            training: mca::Config {
                // [McA] do not give K; with K = 20 = A, memories collapse
                // onto shared patterns at large n (see docs/experiments).
                k: 40,
                interaction: Interaction::Polynomial { n: 2 },
                beta: 1.0,
                m: 1,
                eps0: 0.1,
                decay: 0.999,
                momentum: 0.0,
                epochs: 150,
                init_std: 0.1,
                seed: 0,
            },
        }
    }

    /// The reduced run of `--quick` and of the tests.
    pub fn quick() -> Self {
        let full = Config::full();
        Config {
            degrees: vec![2, 10, 30],
            normalized_only: vec![],
            betas: vec![0.5, 0.9, 1.6, 3.0],
            raw_betas: (0..4).map(|i| 10f64.powi(2 * i - 6)).collect(),
            rates: vec![0.05],
            repeats: 2,
            training: mca::Config {
                epochs: 100,
                ..full.training
            },
            ..full
        }
    }

    /// The grid values of `form` as normalized `β` for degree `n`.
    fn normalized_betas(&self, form: Form, n: u32) -> Vec<f32> {
        match form {
            Form::Normalized => self.betas.clone(),
            Form::Raw => self
                .raw_betas
                .iter()
                .map(|&b| (self.dim as f64 * b.powf(1.0 / f64::from(n))) as f32)
                .collect(),
        }
    }
}

/// One cell of one map.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    /// The form.
    pub form: Form,
    /// Degree `n`.
    pub n: u32,
    /// Index into the form's `β` grid.
    pub beta_index: usize,
    /// The equivalent normalized `β`.
    pub normalized_beta: f32,
    /// Initial learning rate.
    pub rate: f32,
    /// Mean over patterns and repeats of `2 √flips`.
    pub distance: f64,
}

/// One map: the cells of one form and degree.
fn map_cells(config: &Config, form: Form, n: u32) -> Vec<(usize, f32, f32)> {
    let betas = config.normalized_betas(form, n);
    let mut cells = Vec::new();
    for &rate in &config.rates {
        for (i, &b) in betas.iter().enumerate() {
            cells.push((i, b, rate));
        }
    }
    cells
}

/// Trains every cell of `config` (in parallel) and returns them.
pub fn measure(config: &Config) -> Result<Vec<Cell>> {
    let mut maps: Vec<(Form, u32)> = Vec::new();
    for &n in &config.degrees {
        maps.push((Form::Raw, n));
        maps.push((Form::Normalized, n));
    }
    maps.extend(
        config
            .normalized_only
            .iter()
            .map(|&n| (Form::Normalized, n)),
    );
    let jobs: Vec<(Form, u32, usize, f32, f32)> = maps
        .iter()
        .flat_map(|&(form, n)| {
            map_cells(config, form, n)
                .into_iter()
                .map(move |(i, b, r)| (form, n, i, b, r))
        })
        .collect();
    jobs.par_iter()
        .map(|&(form, n, beta_index, beta, rate)| {
            let mut sum = 0.0;
            for rep in 0..config.repeats {
                let patterns = random_bipolar(config.patterns, config.dim, 1000 + rep as u64);
                let cfg = mca::Config {
                    interaction: Interaction::Polynomial { n },
                    beta,
                    eps0: rate,
                    seed: rep as u64,
                    ..config.training.clone()
                };
                let (xi, _) = mca::train(&patterns, config.dim, &cfg)?;
                let flips = relaxation_flips(&xi, &patterns, config.dim, &cfg)?;
                sum += flips.iter().map(|&f| 2.0 * (f as f64).sqrt()).sum::<f64>()
                    / flips.len().max(1) as f64;
            }
            Ok(Cell {
                form,
                n,
                beta_index,
                normalized_beta: beta,
                rate,
                distance: sum / config.repeats.max(1) as f64,
            })
        })
        .collect()
}

/// Where a map's good region is.
#[derive(Debug, Clone, PartialEq)]
pub struct Region {
    /// The form.
    pub form: Form,
    /// Degree `n`.
    pub n: u32,
    /// The lowest mean distance of the map.
    pub best: f64,
    /// Index of its `β` in the form's grid.
    pub best_beta_index: usize,
    /// The learning rate there.
    pub best_rate: f32,
    /// Cells with a mean distance below [`GOOD`].
    pub good_cells: usize,
}

/// A cell is "good" when its mean distance is below this: on average less
/// than one wrong bit per relaxed pattern (`2 √1`).
pub const GOOD: f64 = 2.0;

/// The good region of every map, in the order measured.
pub fn regions(cells: &[Cell]) -> Vec<Region> {
    let mut out: Vec<Region> = Vec::new();
    for c in cells {
        if !out.iter().any(|r| r.form == c.form && r.n == c.n) {
            out.push(Region {
                form: c.form,
                n: c.n,
                best: f64::INFINITY,
                best_beta_index: 0,
                best_rate: 0.0,
                good_cells: 0,
            });
        }
        let Some(r) = out.iter_mut().find(|r| r.form == c.form && r.n == c.n) else {
            continue;
        };
        if c.distance < r.best {
            (r.best, r.best_beta_index, r.best_rate) = (c.distance, c.beta_index, c.rate);
        }
        r.good_cells += usize::from(c.distance < GOOD);
    }
    out
}

/// Number of `β` values in `form`'s grid.
fn grid_len(config: &Config, form: Form) -> usize {
    match form {
        Form::Normalized => config.betas.len(),
        Form::Raw => config.raw_betas.len(),
    }
}

/// The mean distance of one cell, `NaN` if it was not measured.
fn distance(cells: &[Cell], form: Form, n: u32, rate: f32, beta_index: usize) -> f64 {
    cells
        .iter()
        .find(|c| c.form == form && c.n == n && c.rate == rate && c.beta_index == beta_index)
        .map_or(f64::NAN, |c| c.distance)
}

fn form_name(form: Form) -> &'static str {
    match form {
        Form::Raw => "raw",
        Form::Normalized => "normalized",
    }
}

fn beta_label(config: &Config, form: Form, i: usize) -> String {
    match form {
        Form::Normalized => format!("{}", config.betas.get(i).copied().unwrap_or(f32::NAN)),
        Form::Raw => format!(
            "1e{}",
            config
                .raw_betas
                .get(i)
                .map_or(f64::NAN, |b| b.log10().round())
        ),
    }
}

/// The maps as text (rows: learning rate; columns: `β`), then the regions.
pub fn table(config: &Config, cells: &[Cell]) -> String {
    let mut out = format!(
        "McA maps: {} random bipolar patterns, D = {}, K = {}, {} epochs, m = {}, momentum {}, \
         decay {}, {} repeats;\ncell = mean distance between learned and relaxed state \
         (2·sqrt(wrong bits)); good < {GOOD}\n",
        config.patterns,
        config.dim,
        config.training.k,
        config.training.epochs,
        config.training.m,
        config.training.momentum,
        config.training.decay,
        config.repeats
    );
    for region in regions(cells) {
        let (form, n) = (region.form, region.n);
        let betas = grid_len(config, form);
        out.push_str(&format!(
            "\n{} form, n = {n}   (columns: {})\n   rate",
            form_name(form),
            match form {
                Form::Normalized => "normalized 1/T",
                Form::Raw => "raw outside factor beta",
            }
        ));
        for i in 0..betas {
            out.push_str(&format!("{:>7}", beta_label(config, form, i)));
        }
        out.push('\n');
        for &rate in &config.rates {
            out.push_str(&format!("{rate:>7}"));
            for i in 0..betas {
                out.push_str(&format!("{:>7.2}", distance(cells, form, n, rate, i)));
            }
            out.push('\n');
        }
    }
    out.push_str("\nbest cell and size of the good region per map\n");
    out.push_str("form         n   best dist   at beta   (normalized beta)   rate   good cells\n");
    for r in regions(cells) {
        let nb = cells
            .iter()
            .find(|c| c.form == r.form && c.n == r.n && c.beta_index == r.best_beta_index)
            .map_or(f32::NAN, |c| c.normalized_beta);
        out.push_str(&format!(
            "{:<10} {:>3} {:>11.2} {:>9} {:>19.3} {:>6} {:>12}\n",
            form_name(r.form),
            r.n,
            r.best,
            beta_label(config, r.form, r.best_beta_index),
            nb,
            r.best_rate,
            r.good_cells
        ));
    }
    out
}

/// One heatmap figure per form.
pub fn figure(config: &Config, cells: &[Cell], form: Form) -> Heatmaps {
    let max = cells
        .iter()
        .map(|c| c.distance)
        .fold(0.0f64, f64::max)
        .max(1.0);
    let count = grid_len(config, form);
    let panels = regions(cells)
        .iter()
        .filter(|r| r.form == form)
        .map(|r| Panel {
            title: format!("n = {}", r.n),
            values: config
                .rates
                .iter()
                .map(|&rate| {
                    (0..count)
                        .map(|i| distance(cells, form, r.n, rate, i))
                        .collect()
                })
                .collect(),
        })
        .collect();
    Heatmaps {
        title: match form {
            Form::Normalized => "McA normalized form: F(β ξ·x / D), β = 1/T".into(),
            Form::Raw => "KH16 raw form: β · Σ F(ξ·x), same β grid for every n".into(),
        },
        col_labels: (0..count).map(|i| beta_label(config, form, i)).collect(),
        row_labels: config.rates.iter().map(|r| format!("{r}")).collect(),
        x_label: match form {
            Form::Normalized => "inverse temperature 1/T".into(),
            Form::Raw => "outside factor β".into(),
        },
        y_label: "initial learning rate".into(),
        range: (0.0, max),
        bar_label: "mean distance between learned and relaxed state (lower = better)".into(),
        columns: 4,
        panels,
    }
}
