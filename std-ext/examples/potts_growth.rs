//! Growth by splitting against direct training (`docs/potts.md`).
//!
//! `cargo run --release -p dam-std --features plot --example potts_growth -- OUT` runs the
//! reduced comparison ([`dam_std::potts::Comparison::reduced`]: 10 000
//! training and 2 000 test images, `P_max = 64`);
//! `… -- OUT DIRECT.csv GROWTH.csv` instead reads the `metrics.csv` of two
//! `dam train --kind potts` runs (without and with `--grow`). Either way it
//! prints the operations and wall time each needs to reach the other's
//! best accuracy and draws `OUT/growth.png` (test accuracy against log10 of
//! the cumulative memory-sample operations; red growth, blue direct).

use std::path::Path;

use anyhow::{Context, Result};
use dam_std::data::mnist;
use dam_std::potts::growth::{Point, Report};
use dam_std::potts::{Accuracy, Comparison, figure, growth_vs_direct};

fn read(path: &Path) -> Result<Vec<Point>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    text.lines()
        .skip(1)
        .map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            let num = |i: usize| -> Result<f64> {
                f.get(i)
                    .and_then(|s| s.parse().ok())
                    .with_context(|| format!("{}: bad line {line}", path.display()))
            };
            Ok(Point {
                epoch: num(0)? as usize,
                loss: num(1)?,
                accuracy: Accuracy {
                    posterior: num(3)?,
                    nearest: num(4)?,
                },
                p: num(5)? as usize,
                ops: num(6)? as u64,
                seconds: num(7)?,
            })
        })
        .collect()
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let out = Path::new(args.get(1).map_or("out/potts-growth", |s| s));
    std::fs::create_dir_all(out)?;
    let report = match (args.get(2), args.get(3)) {
        (Some(direct), Some(growth)) => Report {
            direct: read(Path::new(direct))?,
            growth: read(Path::new(growth))?,
            split_curvature: Vec::new(),
        },
        _ => {
            let data = mnist::load(&mnist::default_dir()?)?;
            growth_vs_direct(
                &Comparison::reduced(),
                &data.train,
                &data.test,
                |grow, p| {
                    println!(
                        "{} P {:4}  epoch {:2}  ops {:.3e}  {:.1} s  test {:.2}%",
                        if grow { "growth" } else { "direct" },
                        p.p,
                        p.epoch,
                        p.ops as f64,
                        p.seconds,
                        100.0 * p.accuracy.posterior
                    );
                },
            )?
        }
    };
    print!("{}", report.summary());
    figure::accuracy_vs_ops(&out.join("growth.png"), &report)?;
    println!("{}", out.join("growth.png").display());
    Ok(())
}
