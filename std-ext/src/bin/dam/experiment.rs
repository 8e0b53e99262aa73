//! `dam experiment <name>`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use clap::{Args as ClapArgs, FromArgMatches, ValueEnum};
use dam_std::data::mnist;
use dam_std::experiments::{capacity, hyperparameters, prototype};

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
    /// MNIST directory (prototype-transition only).
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
    let dir = dir.unwrap_or_else(mnist::default_dir);
    let data = mnist::load(&dir)?;
    let models = prototype::run(&config, &data.train, &data.test)?;
    print!("{}", prototype::table(&config, &models));
    let png = out.join("prototype-transition.png");
    prototype::draw(&png, &models, 25)?;
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
    let png = out.join("drdam-error.png");
    let mut argv = vec!["drdam-error".to_string(), "--png".into()];
    argv.push(png.display().to_string());
    if quick {
        argv.extend(
            [
                "--features",
                "500,2000",
                "--queries",
                "20",
                "--dims",
                "8,16",
            ]
            .map(String::from),
        );
    }
    let command = <drdam_error::Args as ClapArgs>::augment_args(clap::Command::new("drdam-error"));
    let matches = command.try_get_matches_from(argv)?;
    drdam_error::run(drdam_error::Args::from_arg_matches(&matches)?)?;
    Ok(vec![png])
}
