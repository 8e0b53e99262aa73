//! A training run on disk: checkpoints after every epoch, a metrics CSV,
//! and resuming from the last checkpoint.
//!
//! The output directory holds `model.dam` (the memories, a loadable model),
//! `metrics.csv` (one row per epoch) and `checkpoint.bin`, which alone is
//! what `--resume` reads: the epoch, the model, the optimizer's velocity and
//! the metrics rows, in one file under one CRC-32, so a checkpoint is
//! replaced by a single rename and can never mix two epochs. Each file is
//! replaced atomically (temporary file + rename) between minibatches; after
//! a kill at any point, resuming rewrites `model.dam` and `metrics.csv`
//! from the checkpoint, so the three agree again.
//!
//! `checkpoint.bin` layout (little-endian): the magic `DAMCKPT1`, the epoch
//! (`u64`), the byte lengths of the model and of the metrics text (`u64`
//! each), the model (the `.dam` format, with its own CRC), the metrics
//! text, the velocity (`K·D` `f32`), and a CRC-32 of everything before it.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use dam_core::model::Model;

use super::kh16::{Config, EpochStats, Trainer, evaluate};
use crate::data::mnist::Mnist;
use crate::model_io::{self, AlignedBytes, Entries};

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
    /// `checkpoint.bin`.
    pub checkpoint: PathBuf,
    /// `metrics.csv`.
    pub metrics: PathBuf,
}

impl Paths {
    /// The files of a run in `dir`.
    pub fn new(dir: &Path) -> Self {
        Paths {
            model: dir.join("model.dam"),
            checkpoint: dir.join("checkpoint.bin"),
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
        let record = Record {
            stats,
            test_accuracy,
            seconds,
        };
        save_checkpoint(&trainer, &paths, &record)?;
        on_epoch(&record);
    }
    Ok(Outcome::Finished(trainer))
}

const CHECKPOINT_MAGIC: &[u8; 8] = b"DAMCKPT1";

/// Writes `checkpoint.bin` (the only file `--resume` reads), then the
/// metrics row and the model a person uses: a kill between the three
/// renames leaves a checkpoint that is whole and one epoch ahead at most.
fn save_checkpoint(t: &Trainer, paths: &Paths, record: &Record) -> Result<()> {
    let labels: Vec<u32> = (0..t.nc as u32).collect();
    let model = model_io::encode(&t.header(), &labels, Entries::F32(&t.xi))?;
    let mut metrics = std::fs::read(&paths.metrics)
        .with_context(|| format!("cannot read {}", paths.metrics.display()))?;
    writeln!(metrics, "{}", metrics_row(record))?;
    let mut out = Vec::with_capacity(32 + model.len() + metrics.len() + 4 * t.xi.len());
    out.extend_from_slice(CHECKPOINT_MAGIC);
    for n in [t.epoch, model.len(), metrics.len()] {
        out.extend_from_slice(&(n as u64).to_le_bytes());
    }
    out.extend_from_slice(&model);
    out.extend_from_slice(&metrics);
    t.opt
        .velocity
        .iter()
        .for_each(|v| out.extend_from_slice(&v.to_le_bytes()));
    let crc = dam_core::model::crc32(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    model_io::write_atomic(&paths.checkpoint, &out)?;
    model_io::write_atomic(&paths.metrics, &metrics)?;
    model_io::write_atomic(&paths.model, &model)
}

/// The parts of a `checkpoint.bin`.
struct Checkpoint {
    epoch: usize,
    model: AlignedBytes,
    metrics: Vec<u8>,
    velocity: Vec<f32>,
}

fn read_checkpoint(path: &Path) -> Result<Checkpoint> {
    let bytes = std::fs::read(path).with_context(|| {
        format!(
            "cannot read {} (a run resumes from its checkpoint.bin)",
            path.display()
        )
    })?;
    let bad = |what: &str| anyhow::anyhow!("{}: {what}; it cannot be resumed", path.display());
    let body_len = bytes
        .len()
        .checked_sub(4)
        .ok_or_else(|| bad("shorter than its header"))?;
    let (body, crc) = bytes.split_at(body_len);
    if body.len() < 32 || &body[..8] != CHECKPOINT_MAGIC {
        return Err(bad("not a checkpoint (bad magic or too short)"));
    }
    if crc != dam_core::model::crc32(body).to_le_bytes() {
        return Err(bad("CRC-32 mismatch (the file is corrupt)"));
    }
    let field = |i: usize| {
        let mut b = [0u8; 8];
        b.copy_from_slice(&body[8 + 8 * i..16 + 8 * i]);
        usize::try_from(u64::from_le_bytes(b)).map_err(|_| bad("a length does not fit"))
    };
    let (epoch, model_len, metrics_len) = (field(0)?, field(1)?, field(2)?);
    let rest = &body[32..];
    let model_end = model_len.min(rest.len());
    let metrics_end = model_end.saturating_add(metrics_len).min(rest.len());
    let velocity = &rest[metrics_end..];
    if metrics_end - model_end != metrics_len || model_end != model_len || velocity.len() % 4 != 0 {
        return Err(bad("its lengths do not add up"));
    }
    Ok(Checkpoint {
        epoch,
        model: AlignedBytes::new(&rest[..model_end]),
        metrics: rest[model_end..metrics_end].to_vec(),
        velocity: velocity
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
    })
}

fn metrics_row(r: &Record) -> String {
    format!(
        "{},{:.6e},{:.6},{:.6},{:.6e},{:.3}",
        r.stats.epoch,
        r.stats.loss,
        r.stats.train_accuracy,
        r.test_accuracy,
        r.stats.learning_rate,
        r.seconds
    )
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
    let ckpt = read_checkpoint(&paths.checkpoint)?;
    let model = Model::parse(ckpt.model.as_bytes())
        .map_err(|e| anyhow::anyhow!("{}: its model: {e}", paths.checkpoint.display()))?;
    if *model.header() != t.header() {
        bail!(
            "{} was trained with other settings than this run ({:?}); resume with the same options",
            paths.checkpoint.display(),
            model.header()
        );
    }
    let xi = model
        .memories::<f32>()
        .map_err(|e| anyhow::anyhow!("{}: {e}", paths.checkpoint.display()))?;
    t.xi = xi.as_slice().to_vec();
    if ckpt.velocity.len() != t.xi.len() {
        bail!(
            "{}: expected {} velocity entries, found {}",
            paths.checkpoint.display(),
            t.xi.len(),
            ckpt.velocity.len()
        );
    }
    t.opt.velocity = ckpt.velocity;
    t.epoch = ckpt.epoch;
    // A kill after the checkpoint's rename leaves the other two files one
    // epoch behind: make them agree with it again.
    model_io::write_atomic(&paths.metrics, &ckpt.metrics)?;
    model_io::write_atomic(&paths.model, ckpt.model.as_bytes())?;
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

    /// Runs to the end (`epochs` in all) in `dir`.
    fn finish(epochs: usize, data: &Mnist, dir: &Path, resume: bool) -> Trainer {
        match run(config(epochs), data, dir, resume, &|| false, |_| {}).unwrap() {
            Outcome::Finished(t) => t,
            other => panic!("not finished: {other:?}"),
        }
    }

    /// Interrupt, resume, finish: the same model, bit for bit, and the same
    /// metrics rows as an uninterrupted run; the interrupted run's files
    /// are those of its last whole epoch.
    #[test]
    fn resume_equals_an_uninterrupted_run() {
        let data = toy();
        let straight = tempfile::tempdir().unwrap();
        let a = finish(4, &data, straight.path(), false);

        let broken = tempfile::tempdir().unwrap();
        // 3 minibatches per epoch: stop in the middle of the third epoch.
        let calls = AtomicUsize::new(0);
        let stop = || calls.fetch_add(1, Ordering::SeqCst) >= 7;
        let out = run(config(4), &data, broken.path(), false, &stop, |_| {}).unwrap();
        assert_eq!(out, Outcome::Interrupted { epoch: 2 });
        let paths = Paths::new(broken.path());
        assert_eq!(read_metrics(&paths.metrics).unwrap().len(), 2);
        assert!(model_io::load(&paths.model).is_ok());

        let b = finish(4, &data, broken.path(), true);
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

    /// A kill after the checkpoint's rename but before those of the metrics
    /// and the model: resuming puts the two back in line with the
    /// checkpoint and ends bit-identical to an uninterrupted run. A corrupt
    /// checkpoint is refused, naming the file.
    #[test]
    fn a_kill_between_the_renames_loses_nothing() {
        let data = toy();
        let straight = tempfile::tempdir().unwrap();
        let a = finish(4, &data, straight.path(), false);
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths::new(dir.path());
        run(config(2), &data, dir.path(), false, &|| false, |_| {}).unwrap();
        let (old_model, old_metrics) = (
            std::fs::read(&paths.model).unwrap(),
            std::fs::read(&paths.metrics).unwrap(),
        );
        run(config(3), &data, dir.path(), true, &|| false, |_| {}).unwrap();
        std::fs::write(&paths.model, &old_model).unwrap();
        std::fs::write(&paths.metrics, &old_metrics).unwrap();
        let b = finish(4, &data, dir.path(), true);
        assert_eq!((a.xi, a.opt), (b.xi, b.opt));
        let epochs = |p: &Path| {
            read_metrics(&Paths::new(p).metrics)
                .unwrap()
                .iter()
                .map(|r| (r.0, r.1))
                .collect::<Vec<_>>()
        };
        assert_eq!(epochs(straight.path()), epochs(dir.path()));

        let mut bytes = std::fs::read(&paths.checkpoint).unwrap();
        bytes[40] ^= 1;
        std::fs::write(&paths.checkpoint, &bytes).unwrap();
        let err = run(config(5), &data, dir.path(), true, &|| false, |_| {}).unwrap_err();
        let msg = format!("{err:#}");
        assert!(
            msg.contains("checkpoint.bin") && msg.contains("CRC"),
            "{msg}"
        );
    }
}
