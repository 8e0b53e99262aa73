//! A training run on disk: checkpoints after every epoch, a metrics CSV,
//! and resuming from the last checkpoint.
//!
//! The output directory holds `model.dam` (the memories, a loadable model),
//! `momentum.npy` (the optimizer's velocity) and `metrics.csv` (one row per
//! epoch). Each file is replaced atomically, and they are written between
//! minibatches only, so an interrupted run leaves the last complete
//! checkpoint behind.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use dam_core::model::Model;

use super::kh16::{Config, EpochStats, Trainer, evaluate};
use crate::data::mnist::Mnist;
use crate::data::npy::{Elements, NpyArray};
use crate::model_io::{self, Entries};

/// The header line of `metrics.csv`.
pub const METRICS_HEADER: &str = "epoch,loss,train_accuracy,test_accuracy,learning_rate,seconds";

/// One row of `metrics.csv`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Record {
    /// Loss and training accuracy.
    pub stats: EpochStats,
    /// Test accuracy after the epoch.
    pub test_accuracy: f64,
    /// Wall time of the epoch's training (without evaluation), seconds.
    pub seconds: f64,
}

/// The files of a run in `dir`.
#[derive(Debug, Clone)]
pub struct Paths {
    /// `model.dam`.
    pub model: PathBuf,
    /// `momentum.npy`.
    pub momentum: PathBuf,
    /// `metrics.csv`.
    pub metrics: PathBuf,
}

impl Paths {
    /// The files of a run in `dir`.
    pub fn new(dir: &Path) -> Self {
        Paths {
            model: dir.join("model.dam"),
            momentum: dir.join("momentum.npy"),
            metrics: dir.join("metrics.csv"),
        }
    }
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Every epoch ran.
    Finished(Trainer),
    /// `stop()` turned true; the checkpoint is that of the last whole epoch.
    Interrupted {
        /// Epochs in the checkpoint.
        epoch: usize,
    },
}

/// Trains `config.epochs` epochs (in total, counting resumed ones), writing
/// a checkpoint and a metrics row after each and calling `on_epoch`.
pub fn run(
    config: Config,
    data: &Mnist,
    dir: &Path,
    resume: bool,
    stop: &(dyn Fn() -> bool + Sync),
    mut on_epoch: impl FnMut(&Record),
) -> Result<Outcome> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the output directory {}", dir.display()))?;
    let paths = Paths::new(dir);
    let nc = crate::data::mnist::CLASSES;
    let mut trainer = if resume {
        load_checkpoint(config, &paths, data.train.dim, nc)?
    } else {
        let t = Trainer::new(config, data.train.dim, nc)?;
        model_io::write_atomic(&paths.metrics, format!("{METRICS_HEADER}\n").as_bytes())?;
        t
    };
    while trainer.epoch < trainer.config.epochs {
        let start = Instant::now();
        let Some(stats) = trainer.run_epoch(&data.train, stop)? else {
            // Interrupted mid-epoch: the files on disk are the last whole epoch.
            return Ok(Outcome::Interrupted {
                epoch: trainer.epoch,
            });
        };
        let seconds = start.elapsed().as_secs_f64();
        let test_accuracy = evaluate(&trainer.net(), &data.test)?.accuracy;
        save_checkpoint(&trainer, &paths)?;
        let record = Record {
            stats,
            test_accuracy,
            seconds,
        };
        append_metrics(&paths.metrics, &record)?;
        on_epoch(&record);
    }
    Ok(Outcome::Finished(trainer))
}

fn save_checkpoint(t: &Trainer, paths: &Paths) -> Result<()> {
    let d = t.nv + t.nc;
    NpyArray {
        shape: vec![t.config.k, d],
        data: Elements::F32(t.opt.velocity.clone()),
    }
    .write(&paths.momentum)?;
    let labels: Vec<u32> = (0..t.nc as u32).collect();
    model_io::save(&paths.model, &t.header(), &labels, Entries::F32(&t.xi))
}

fn append_metrics(path: &Path, r: &Record) -> Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .with_context(|| format!("cannot append to {}", path.display()))?;
    writeln!(
        f,
        "{},{:.6e},{:.6},{:.6},{:.6e},{:.3}",
        r.stats.epoch,
        r.stats.loss,
        r.stats.train_accuracy,
        r.test_accuracy,
        r.stats.learning_rate,
        r.seconds
    )
    .with_context(|| format!("cannot append to {}", path.display()))
}

/// Reads `metrics.csv`: one [`Record`]-like row per epoch, as
/// `(epoch, loss, train_accuracy, test_accuracy)`.
pub fn read_metrics(path: &Path) -> Result<Vec<(usize, f64, f64, f64)>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let parse = |j: usize| -> Result<f64> {
            f.get(j)
                .and_then(|s| s.trim().parse::<f64>().ok())
                .with_context(|| format!("{}: line {}: bad field {j}", path.display(), i + 1))
        };
        rows.push((parse(0)? as usize, parse(1)?, parse(2)?, parse(3)?));
    }
    Ok(rows)
}

fn load_checkpoint(config: Config, paths: &Paths, nv: usize, nc: usize) -> Result<Trainer> {
    let mut t = Trainer::new(config, nv, nc)?;
    let bytes = model_io::load(&paths.model)?;
    let model = Model::parse(bytes.as_bytes()).map_err(|e| anyhow::anyhow!("{e}"))?;
    if *model.header() != t.header() {
        bail!(
            "{} was trained with other settings than this run ({:?}); resume with the same options",
            paths.model.display(),
            model.header()
        );
    }
    let xi = model
        .memories::<f32>()
        .map_err(|e| anyhow::anyhow!("{}: {e}", paths.model.display()))?;
    t.xi = xi.as_slice().to_vec();
    let v = NpyArray::read(&paths.momentum)?;
    match v.data {
        Elements::F32(v) if v.len() == t.xi.len() => t.opt.velocity = v,
        _ => bail!(
            "{}: expected {} float32 entries",
            paths.momentum.display(),
            t.xi.len()
        ),
    }
    t.epoch = read_metrics(&paths.metrics)?.len();
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::mnist::Split;
    use dam_core::Interaction;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn toy() -> Mnist {
        let protos = [[255u8, 255, 0, 0], [0, 0, 255, 255], [255, 0, 255, 0]];
        let px: Vec<u8> = (0..60).flat_map(|i| protos[i % 3]).collect();
        let labels: Vec<u8> = (0..60).map(|i| (i % 3) as u8).collect();
        let split = Split::from_bytes(&px, &labels, 4, "toy").unwrap();
        Mnist {
            train: split.clone(),
            test: split,
        }
    }

    fn config(epochs: usize) -> Config {
        Config {
            k: 5,
            batch: 20,
            epochs,
            interaction: Interaction::RectifiedPolynomial { n: 3 },
            scale: super::super::kh16::Scale::Normalized { beta: 4.0 },
            ..Config::default()
        }
    }

    /// Interrupt, resume, finish: the same model, bit for bit, and the same
    /// metrics rows as an uninterrupted run; the interrupted run's files
    /// are those of its last whole epoch.
    #[test]
    fn resume_equals_an_uninterrupted_run() {
        let data = toy();
        let straight = tempfile::tempdir().unwrap();
        let Outcome::Finished(a) =
            run(config(4), &data, straight.path(), false, &|| false, |_| {}).unwrap()
        else {
            panic!("not finished")
        };

        let broken = tempfile::tempdir().unwrap();
        // 3 minibatches per epoch: stop in the middle of the third epoch.
        let calls = AtomicUsize::new(0);
        let stop = || calls.fetch_add(1, Ordering::SeqCst) >= 7;
        let out = run(config(4), &data, broken.path(), false, &stop, |_| {}).unwrap();
        assert_eq!(out, Outcome::Interrupted { epoch: 2 });
        let paths = Paths::new(broken.path());
        assert_eq!(read_metrics(&paths.metrics).unwrap().len(), 2);
        assert!(model_io::load(&paths.model).is_ok());

        let Outcome::Finished(b) =
            run(config(4), &data, broken.path(), true, &|| false, |_| {}).unwrap()
        else {
            panic!("not finished")
        };
        assert_eq!(a.xi, b.xi);
        assert_eq!(a.opt, b.opt);
        let ma = read_metrics(&Paths::new(straight.path()).metrics).unwrap();
        let mb = read_metrics(&paths.metrics).unwrap();
        let strip =
            |m: Vec<(usize, f64, f64, f64)>| m.iter().map(|r| (r.0, r.1, r.3)).collect::<Vec<_>>();
        assert_eq!(strip(ma), strip(mb));

        // Resuming with other settings is refused.
        let err = run(
            Config { k: 6, ..config(5) },
            &data,
            broken.path(),
            true,
            &|| false,
            |_| {},
        )
        .unwrap_err();
        assert!(err.to_string().contains("other settings"), "{err}");
    }
}
