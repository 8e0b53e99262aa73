//! The `ς` measurement of `docs/potts.md`: Potts training on an MNIST
//! subset with and without the regularization, over several seeds; writes
//! `smoothing.csv` (one row per run and epoch) and `smoothing.png` (test
//! accuracy per epoch, red with `ς`, blue without) into the output
//! directory, and prints the final accuracies.
//!
//! `cargo run --release -p dam-std --features plot --example potts_smoothing -- OUT [SMOOTHING] [SEEDS] [BETA] [EPS0]`

use std::io::Write;

use anyhow::Result;
use dam_std::data::mnist;
use dam_std::plot;
use dam_std::potts::{Config, Task, Trainer, evaluate};
use plotters::style::RGBColor;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let out = std::path::PathBuf::from(args.get(1).map_or("out/potts-smoothing", |s| s));
    let arg = |i: usize, default: f32| args.get(i).and_then(|s| s.parse().ok()).unwrap_or(default);
    let (smoothing, seeds, beta, eps0) =
        (arg(2, 0.25), arg(3, 5.0) as u64, arg(4, 400.0), arg(5, 0.1));
    let data = mnist::load(&mnist::default_dir()?)?;
    let (train, test) = (data.train.head(10_000), data.test.head(2_000));
    std::fs::create_dir_all(&out)?;
    let mut csv = std::fs::File::create(out.join("smoothing.csv"))?;
    writeln!(csv, "smoothing,seed,epoch,loss,test_accuracy")?;
    let mut curves = Vec::new();
    for s in [0.0, smoothing] {
        let mut finals = Vec::new();
        for seed in 0..seeds {
            let config = Config {
                p: 100,
                beta,
                eps0,
                // The setting measured in BENCHMARKS.md.
                logit_rate: 0.5,
                smoothing: s,
                epochs: 15,
                seed,
                ..Config::default()
            };
            let mut t = Trainer::new(config.clone(), Task::Supervised { classes: 10 }, &train)?;
            let mut curve = Vec::new();
            for _ in 0..config.epochs {
                let stats = t.run_epoch(&train, &|| false)?.expect("never stopped");
                let acc = evaluate(&t.params, &test).posterior;
                writeln!(csv, "{s},{seed},{},{:.6},{acc:.4}", stats.epoch, stats.loss)?;
                curve.push((stats.epoch as f64, 100.0 * acc));
            }
            finals.push(curve.last().map_or(0.0, |p| p.1 / 100.0));
            curves.push((s, curve));
        }
        let mean = finals.iter().sum::<f64>() / finals.len() as f64;
        let sd =
            (finals.iter().map(|a| (a - mean).powi(2)).sum::<f64>() / finals.len() as f64).sqrt();
        println!(
            "ς = {s}: final test accuracy {} (mean {:.2}%, sd {:.2} points)",
            finals
                .iter()
                .map(|a| format!("{:.2}%", 100.0 * a))
                .collect::<Vec<_>>()
                .join(" "),
            100.0 * mean,
            100.0 * sd
        );
    }
    let without = "without ς".to_string();
    let with = format!("ς = {smoothing}");
    let lines: Vec<plot::Line<'_>> = curves
        .iter()
        .map(|(s, c)| {
            let (name, colour) = if *s > 0.0 {
                (with.as_str(), RGBColor(220, 40, 40))
            } else {
                (without.as_str(), RGBColor(40, 80, 220))
            };
            plot::Line {
                name,
                points: c,
                colour,
            }
        })
        .collect();
    plot::lines(
        &out.join("smoothing.png"),
        &lines,
        &plot::Axes {
            title: &format!("Potts on 10 000 MNIST digits, {seeds} seeds each"),
            x_label: "epoch",
            y_label: "test accuracy (%)",
            y_range: Some((50.0, 100.0)),
        },
    )?;
    println!(
        "{} and smoothing.png written",
        out.join("smoothing.csv").display()
    );
    Ok(())
}
