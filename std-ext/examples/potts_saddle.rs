//! The saddle at a duplicated point, on MNIST (`docs/potts.md`): trains
//! `P` hidden states on 10 000 training images, duplicates them, and
//! measures the Hessian's lowest eigenvalue (power iteration on
//! finite-difference Hessian-vector products over 2 000 images) before and
//! after, and the splitting curvature.
//!
//! `cargo run --release -p dam-std --example potts_saddle -- [P] [EPOCHS]`

use anyhow::Result;
use dam_std::data::mnist;
use dam_std::potts::growth::{self, HessianProbe};
use dam_std::potts::{Config, Task, Trainer, evaluate};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let p = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(8);
    let epochs = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(15);
    let data = mnist::load(&mnist::default_dir()?)?;
    let train = data.train.head(10_000);
    let task = Task::Supervised { classes: 10 };
    let mut t = Trainer::new(
        Config {
            p,
            epochs,
            ..Config::default()
        },
        task,
        &train,
    )?;
    for _ in 0..epochs {
        t.run_epoch(&train, &|| false)?;
    }
    let idx: Vec<usize> = (0..2_000).collect();
    let probe = HessianProbe::default();
    let lambda = |params: &dam_std::potts::Params| {
        growth::hessian_min_eigenvalue(params, 0.0, task, &t.marginal, &train, &idx, &probe)
    };
    let before = lambda(&t.params);
    let dup = t.params.duplicated();
    let after = lambda(&dup);
    let splits = growth::split_directions(&t, &train, &idx, 50, 1);
    let mean = splits.curvature.iter().sum::<f32>() / p as f32;
    println!(
        "P = {p}, {epochs} epochs, test accuracy {:.2}%",
        100.0 * evaluate(&t.params, &data.test).posterior
    );
    println!(
        "lowest Hessian eigenvalue (mean loss over 2000 images): trained P = {p}: {before:.3e}; duplicated P = {}: {after:.3e}",
        2 * p
    );
    println!(
        "splitting curvature per hidden state: mean {mean:.3e}, max {:.3e}",
        splits.curvature.iter().copied().fold(f32::MIN, f32::max)
    );
    Ok(())
}
