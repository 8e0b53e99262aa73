//! `dam experiment <name>`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use clap::{Args as ClapArgs, ValueEnum};
use dam_std::data::mnist;
use dam_std::drdam_error::{ErrorGrid, QueryKind, measure};
use dam_std::experiments::figure::{Line, LogLogChart, PALETTE};
use dam_std::experiments::{capacity, hyperparameters, prototype};
use dam_std::potts::figure as potts_figure;
use dam_std::potts::{Comparison, growth_vs_direct};
use plotters::chart::SeriesLabelPosition;

use crate::drdam_error;

/// Options of `dam experiment`: one of the papers' experiments, its table
/// on stdout and its figure(s) as PNG (pages in docs/experiments/).
#[derive(ClapArgs, Debug)]
pub struct Args {
    /// Which experiment.
    #[arg(value_enum)]
    name: Name,
    /// A reduced size (seconds instead of minutes; what the tests run).
    #[arg(long)]
    quick: bool,
    /// Directory for the PNG(s).
    #[arg(long, default_value = ".")]
    out: PathBuf,
    /// MNIST directory (prototype-transition, saddle-growth).
    #[arg(long)]
    mnist: Option<PathBuf>,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum Name {
    /// KH16: largest number of stable random memories against D, n = 2, 3, 4.
    Capacity,
    /// KH16: MNIST memories for n = 2, 3, 20, 30, features to prototypes.
    PrototypeTransition,
    /// McA: inverse temperature × learning rate maps, raw and normalized.
    Hyperparameters,
    /// DrDAM: approximation error against the number of random features.
    DrdamError,
    /// TT: Potts memories grown by splitting at saddles vs trained directly.
    SaddleGrowth,
    /// Occluded MNIST memories completed by the bipolar, log-sum-exp and DrDAM memories.
    Completion,
}

pub fn run(args: Args) -> Result<()> {
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let start = Instant::now();
    let written = match args.name {
        Name::Capacity => run_capacity(args.quick, &args.out)?,
        Name::PrototypeTransition => run_prototype(args.quick, &args.out, args.mnist)?,
        Name::Hyperparameters => run_hyperparameters(args.quick, &args.out)?,
        Name::DrdamError => run_drdam(args.quick, &args.out)?,
        Name::SaddleGrowth => run_saddle_growth(args.quick, &args.out, args.mnist)?,
        Name::Completion => run_completion(args.quick, &args.out, args.mnist)?,
    };
    for path in written {
        println!("wrote {}", path.display());
    }
    println!(
        "run time {:.1} s on {} threads",
        start.elapsed().as_secs_f64(),
        rayon::current_num_threads()
    );
    Ok(())
}

fn run_capacity(quick: bool, out: &Path) -> Result<Vec<PathBuf>> {
    let config = if quick {
        capacity::Config::quick()
    } else {
        capacity::Config::full()
    };
    let points = capacity::measure(&config)?;
    print!("{}", capacity::table(&points));
    let png = out.join("capacity.png");
    capacity::chart(&points).draw(&png, (800, 560))?;
    Ok(vec![png])
}

fn run_prototype(quick: bool, out: &Path, dir: Option<PathBuf>) -> Result<Vec<PathBuf>> {
    let config = if quick {
        prototype::Config::quick()
    } else {
        prototype::Config::full()
    };
    let dir = match dir {
        Some(d) => d,
        None => crate::common::shipped_mnist("--mnist")?,
    };
    let data = mnist::load(&dir)?;
    let models = prototype::run(&config, &data.train, &data.test)?;
    print!("{}", prototype::table(&config, &models));
    let png = out.join("prototype-transition.png");
    prototype::draw(&png, &models, 16)?;
    Ok(vec![png])
}

fn run_completion(quick: bool, out: &Path, dir: Option<PathBuf>) -> Result<Vec<PathBuf>> {
    use dam_std::experiments::completion;
    let config = if quick {
        completion::Config::quick()
    } else {
        completion::Config::full()
    };
    let dir = match dir {
        Some(d) => d,
        None => crate::common::shipped_mnist("--mnist")?,
    };
    let train = mnist::load_raw_split(&dir, "train")?;
    let points = completion::measure(&config, &train)?;
    print!("{}", completion::table(&points));
    let png = out.join("completion.png");
    completion::draw(&png, &points)?;
    Ok(vec![png])
}

fn run_hyperparameters(quick: bool, out: &Path) -> Result<Vec<PathBuf>> {
    use hyperparameters::Form;
    let config = if quick {
        hyperparameters::Config::quick()
    } else {
        hyperparameters::Config::full()
    };
    let cells = hyperparameters::measure(&config)?;
    print!("{}", hyperparameters::table(&config, &cells));
    let mut written = Vec::new();
    for (form, name) in [(Form::Raw, "raw"), (Form::Normalized, "normalized")] {
        let png = out.join(format!("hyperparameters-{name}.png"));
        hyperparameters::figure(&config, &cells, form).draw(&png, (300, 260))?;
        written.push(png);
    }
    Ok(written)
}

fn run_drdam(quick: bool, out: &Path) -> Result<Vec<PathBuf>> {
    // The paper's Figure 3 grid (500 binary patterns), smaller when quick.
    let grid = if quick {
        ErrorGrid {
            dims: vec![8, 16],
            betas: vec![1.0, 10.0],
            features: vec![500, 2000],
            patterns: 100,
            queries: 20,
            seed: 0,
        }
    } else {
        ErrorGrid {
            dims: vec![8, 32, 64],
            betas: vec![1.0, 10.0, 40.0],
            features: vec![1000, 4000, 16000, 64000],
            patterns: 500,
            queries: 100,
            seed: 0,
        }
    };
    let rows = measure(&grid)?;
    drdam_error::print_table(&rows);
    let mut lines = Vec::new();
    for &d in &grid.dims {
        for &beta in &grid.betas {
            lines.push(Line {
                points: rows
                    .iter()
                    .filter(|r| r.d == d && r.beta == beta && r.kind == QueryKind::Near)
                    .map(|r| (r.y as f64, r.energy_mae.max(1e-12)))
                    .collect(),
                colour: PALETTE[lines.len() % PALETTE.len()],
                reference: false,
                label: format!("D = {d}, β = {beta}"),
            });
        }
    }
    let png = out.join("drdam-error.png");
    LogLogChart {
        title: "DrDAM energy error, queries near stored patterns".into(),
        x_label: "random features Y".into(),
        y_label: "mean absolute energy error".into(),
        lines,
        x_base: 10.0,
        legend: SeriesLabelPosition::UpperRight,
    }
    .draw(&png, (800, 560))?;
    Ok(vec![png])
}

fn run_saddle_growth(quick: bool, out: &Path, dir: Option<PathBuf>) -> Result<Vec<PathBuf>> {
    let dir = match dir {
        Some(d) => d,
        None => crate::common::shipped_mnist("--mnist")?,
    };
    let data = mnist::load(&dir)?;
    let cmp = if quick {
        Comparison::quick()
    } else {
        Comparison::reduced()
    };
    let report = growth_vs_direct(&cmp, &data.train, &data.test, |grow, p| {
        println!(
            "{} P {:4}  epoch {:2}  ops {:.3e}  {:6.1} s  test {:.2}%",
            if grow { "growth" } else { "direct" },
            p.p,
            p.epoch,
            p.ops as f64,
            p.seconds,
            100.0 * p.accuracy.posterior
        );
    })?;
    print!("{}", report.summary());
    let png = out.join("saddle-growth.png");
    potts_figure::accuracy_vs_ops(&png, &report)?;
    Ok(vec![png])
}
