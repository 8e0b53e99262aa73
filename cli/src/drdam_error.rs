//! `dam drdam-error`.

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::Args as ClapArgs;
use dam_std::drdam_error::{ErrorGrid, ErrorRow, QueryKind, measure};
use plotters::style::RGBColor;

/// Options of `dam drdam-error`: DrDAM's approximation error against the
/// exact memory over a grid of Y, β and D (the paper's Figure 3).
#[derive(ClapArgs, Debug)]
pub struct Args {
    /// Dimensions D (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "8,32")]
    dims: Vec<usize>,
    /// Inverse temperatures β (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "1,10,40")]
    betas: Vec<f32>,
    /// Numbers of random features Y (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "1000,4000,16000")]
    features: Vec<usize>,
    /// Stored patterns K (binary, in {0, 1/√D}).
    #[arg(long, default_value_t = 100)]
    patterns: usize,
    /// Queries per kind.
    #[arg(long, default_value_t = 50)]
    queries: usize,
    /// Random seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Where to draw the energy error against Y (PNG).
    #[arg(long, default_value = "drdam-error.png")]
    png: PathBuf,
}

/// One plotted series: points, colour, legend line.
type Curve = (Vec<(f64, f64)>, RGBColor, String);

const COLOURS: [(u8, u8, u8, &str); 6] = [
    (31, 119, 180, "blue"),
    (255, 127, 14, "orange"),
    (44, 160, 44, "green"),
    (214, 39, 40, "red"),
    (148, 103, 189, "purple"),
    (140, 86, 75, "brown"),
];

/// Prints one line per measured point.
pub fn print_table(rows: &[ErrorRow]) {
    println!("     D   beta        Y  queries   energy MAE  gradient MAE");
    for r in rows {
        println!(
            "{:>6} {:>6} {:>8}  {:<7} {:>11.3e} {:>13.3e}",
            r.d,
            r.beta,
            r.y,
            format!("{:?}", r.kind).to_lowercase(),
            r.energy_mae,
            r.gradient_mae
        );
    }
}

pub fn run(args: Args) -> Result<()> {
    if args.dims.contains(&0)
        || args.features.contains(&0)
        || args.patterns == 0
        || args.queries == 0
    {
        bail!("--dims, --features, --patterns and --queries must be at least 1");
    }
    if let Some(b) = args.betas.iter().find(|b| !(b.is_finite() && **b > 0.0)) {
        bail!("every --betas value must be finite and > 0, got {b}");
    }
    let grid = ErrorGrid {
        dims: args.dims,
        betas: args.betas,
        features: args.features,
        patterns: args.patterns,
        queries: args.queries,
        seed: args.seed,
    };
    let rows = measure(&grid)?;
    print_table(&rows);
    // One curve per (D, β): log10 energy MAE at queries near the memories
    // against log10 Y.
    let mut curves: Vec<Curve> = Vec::new();
    for &d in &grid.dims {
        for &beta in &grid.betas {
            let i = curves.len() % COLOURS.len();
            let (r, g, b, name) = COLOURS[i];
            let pts = rows
                .iter()
                .filter(|x| x.d == d && x.beta == beta && x.kind == QueryKind::Near)
                .map(|x| ((x.y as f64).log10(), x.energy_mae.max(1e-12).log10()))
                .collect();
            curves.push((
                pts,
                RGBColor(r, g, b),
                format!("D = {d}, β = {beta} ({name})"),
            ));
        }
    }
    let lines: Vec<dam_std::plot::Line<'_>> = curves
        .iter()
        .map(|c| dam_std::plot::Line {
            name: &c.2,
            points: &c.0,
            colour: c.1,
        })
        .collect();
    dam_std::plot::lines(
        &args.png,
        &lines,
        &dam_std::plot::Axes {
            title: "DrDAM energy error at queries near the memories",
            x_label: "log₁₀ Y (random features)",
            y_label: "log₁₀ energy MAE",
            y_range: None,
        },
    )?;
    println!(
        "\n{}: log10(energy MAE) at queries near the memories against log10(Y)",
        args.png.display()
    );
    for c in &curves {
        println!("  {}", c.2);
    }
    Ok(())
}
