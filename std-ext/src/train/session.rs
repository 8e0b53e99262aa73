//! A training run on disk: checkpoints after every epoch, a metrics CSV,
//! model selection on a validation split, early stopping, divergence
//! detection, and resuming from the last checkpoint.
//!
//! The output directory holds `model.dam` (the best epoch's memories, a
//! loadable model, written once the run ends), `metrics.csv` (one row per
//! epoch) and `checkpoint.bin`, which alone is what `--resume` reads: the
//! epoch, the current model and the best one, the optimizer's velocity, the
//! selection state and the metrics rows, in one file under one CRC-32, so a
//! checkpoint is replaced by a single rename and can never mix two epochs.
//! Each file is replaced atomically (temporary file + rename).
//!
//! A run that diverges (a non-finite loss or memory, or a loss a million
//! times above its lowest with the training accuracy fallen to chance)
//! stops with an error naming the epoch and what diverged.
//!
//! One run at a time writes into a directory: [`run`] holds a
//! [`RunGuard`](crate::output::RunGuard) (the directory's lock) until it
//! returns, and first removes the temporary files a killed run left there.
//! A run that fails (divergence, a write error) leaves `model.dam`,
//! `metrics.csv` and `checkpoint.bin` as they were before it; a run stopped
//! by a signal keeps the checkpoint of its last whole epoch.
//!
//! `checkpoint.bin` layout (little-endian): the magic `DAMCKPT3`; the epoch,
//! the best epoch, the epochs since the best, the best validation accuracy
//! (`f64` bits) and the lowest loss (`f64` bits); the seed, the number of
//! training rows and the CRC-32 of their labels (so that `--resume` refuses
//! another `--seed`, `--train-limit` or dataset); then the byte lengths of
//! the current model, the best model and the metrics text (`u64` each);
//! the two models (the `.dam` format, each with its own CRC), the metrics
//! text, the velocity (`K·D` `f32`), and a CRC-32 of everything before it.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use dam_core::model::Model;

use super::kh16::{Config, EpochStats, Trainer, evaluate};
use crate::data::Split;
use crate::data::dataset::{ClassMap, InputMap};
use crate::model_io::{self, AlignedBytes, Entries};

/// The files a run writes (and a failed run puts back as they were).
pub const RUN_FILES: [&str; 3] = ["model.dam", "metrics.csv", "checkpoint.bin"];

/// The header line of `metrics.csv`.
pub const METRICS_HEADER: &str =
    "epoch,loss,train_accuracy,val_accuracy,test_accuracy,learning_rate,seconds";

/// A loss this many times above the lowest so far, with the training
/// accuracy fallen to chance, counts as divergence. (The \[KH16\] loss is
/// bounded, `Nc·2^{2m}` per sample, and single saturated samples make it
/// spike by orders of magnitude in healthy runs: the spike alone is not
/// divergence, the collapse is.)
pub const EXPLOSION: f64 = 1e6;

/// One row of `metrics.csv`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Record {
    /// Loss and training accuracy.
    pub stats: EpochStats,
    /// Validation accuracy after the epoch (if there is a validation split).
    pub val_accuracy: Option<f64>,
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

/// The splits a run uses.
#[derive(Debug, Clone, Copy)]
pub struct Data<'a> {
    /// What the memories are fitted on.
    pub train: &'a Split,
    /// Model selection and early stopping (none: the last epoch is kept).
    pub val: Option<&'a Split>,
    /// Reported after every epoch, never used for any decision.
    pub test: &'a Split,
}

/// What the model file carries besides the memories.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Meta {
    /// The user's classes (none: `0..Nc`).
    pub classes: Option<ClassMap>,
    /// The input map fitted on the training split (none: inputs are used
    /// as they are).
    pub map: Option<InputMap>,
}

impl Meta {
    /// The classes and the input map of prepared data.
    pub fn of(data: &crate::data::dataset::Prepared) -> Self {
        Meta {
            classes: Some(data.classes.clone()),
            map: Some(data.map.clone()),
        }
    }

    /// The label value of each of `nc` classes (`0..nc` without classes).
    ///
    /// ```
    /// use dam_std::train::session::Meta;
    /// let meta = Meta::default();
    /// assert_eq!(meta.labels(3), [0, 1, 2]);
    /// assert!(meta.extras().preprocessing.is_none() && meta.extras().names.is_none());
    /// ```
    pub fn labels(&self, nc: usize) -> Vec<i64> {
        match &self.classes {
            Some(c) => c.values.clone(),
            None => (0..nc as i64).collect(),
        }
    }

    /// The input map (unless it is the identity) and the class names, as
    /// the model file stores them.
    pub fn extras(&self) -> model_io::Extras<'_> {
        model_io::Extras {
            preprocessing: self
                .map
                .as_ref()
                .filter(|m| !m.is_identity())
                .map(|m| (&m.scale[..], &m.offset[..])),
            names: self.classes.as_ref().and_then(|c| c.names.as_deref()),
        }
    }

    /// The model file for memories `t`.
    pub fn encode(&self, t: &Trainer) -> Result<Vec<u8>> {
        let labels = self.labels(t.nc);
        model_io::encode_with(&t.header(), &labels, Entries::F32(&t.xi), &self.extras())
    }
}

/// When a run stops before its last epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stopping {
    /// Stop when the validation accuracy has not improved for this many
    /// epochs (none: run every epoch).
    pub patience: Option<usize>,
}

/// How a run ended.
// Returned once per run: the size of `Finished` costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The run ended (every epoch, or early): `model.dam` holds the best
    /// epoch's memories.
    Finished {
        /// The trainer after the last epoch run.
        trainer: Trainer,
        /// The epoch whose memories are in `model.dam`.
        best_epoch: usize,
        /// Its validation accuracy, if there is a validation split.
        best_val: Option<f64>,
        /// `true` if early stopping ended the run.
        early: bool,
    },
    /// `stop()` turned true; the checkpoint is that of the last whole
    /// epoch, and `model.dam` is as it was before the run.
    Interrupted {
        /// Epochs in the checkpoint.
        epoch: usize,
    },
}

/// The selection state carried from epoch to epoch (and in checkpoints).
#[derive(Debug, Clone, PartialEq)]
struct Selection {
    best_epoch: usize,
    since_best: usize,
    best_val: f64,
    min_loss: f64,
    best_model: Vec<u8>,
}

/// Trains `config.epochs` epochs (in total, counting resumed ones), writing
/// a checkpoint and a metrics row after each and calling `on_epoch`; writes
/// `model.dam` (the best epoch, see [`Outcome`]) at the end.
#[allow(clippy::too_many_arguments)]
pub fn run(
    config: Config,
    data: Data<'_>,
    meta: &Meta,
    stopping: Stopping,
    dir: &Path,
    resume: bool,
    stop: &(dyn Fn() -> bool + Sync),
    mut on_epoch: impl FnMut(&Record),
) -> Result<Outcome> {
    let nc = match &meta.classes {
        Some(c) => c.len(),
        None => {
            let max = data.train.labels.iter().max().copied().unwrap_or(0);
            usize::from(max) + 1
        }
    };
    // Everything is checked before the first file is touched.
    config.validate()?;
    if config.epochs == 0 {
        bail!("--epochs 0: a run needs at least one epoch");
    }
    let identity = Identity::of(&config, data.train);
    let fresh = || Trainer::for_data(config.clone(), data.train, nc);
    let mut trainer = fresh()?;
    if data.train.is_empty() || data.test.is_empty() {
        bail!("the training and test splits must not be empty");
    }
    // Until the run ends (or stops on a signal), a failure puts the run
    // files back as they were.
    let guard = crate::output::RunGuard::begin(dir, &RUN_FILES)?;
    let paths = Paths::new(dir);
    let mut sel = if resume {
        load_checkpoint(&mut trainer, &paths, &identity)?
    } else {
        model_io::write_atomic(&paths.metrics, format!("{METRICS_HEADER}\n").as_bytes())?;
        Selection {
            best_epoch: 0,
            since_best: 0,
            best_val: f64::NEG_INFINITY,
            min_loss: f64::INFINITY,
            best_model: meta.encode(&trainer)?,
        }
    };
    let mut early = false;
    // The images' foreground listed once for all epochs, where that serves.
    let listed = trainer.listed(data.train);
    while trainer.epoch < trainer.config.epochs {
        if let Some(p) = stopping.patience
            && data.val.is_some()
            && sel.best_epoch > 0
            && sel.since_best >= p
        {
            early = true;
            break;
        }
        let start = Instant::now();
        let Some(stats) = trainer.run_epoch_listed(&listed, stop)? else {
            // Interrupted mid-epoch: the files on disk are the last whole
            // epoch, kept for --resume.
            guard.keep();
            return Ok(Outcome::Interrupted {
                epoch: trainer.epoch,
            });
        };
        let seconds = start.elapsed().as_secs_f64();
        check_divergence(&trainer, &stats, sel.min_loss, &paths)?;
        sel.min_loss = sel.min_loss.min(stats.loss);
        let net = trainer.net()?;
        let val_accuracy = match data.val {
            Some(v) => Some(evaluate(&net, v)?.accuracy),
            None => None,
        };
        let test_accuracy = evaluate(&net, data.test)?.accuracy;
        // The best epoch: the highest validation accuracy (the later of
        // ties), or simply the last epoch without a validation split.
        // Patience counts epochs without a strict improvement.
        let improved = val_accuracy.is_some_and(|v| v > sel.best_val);
        // Encoded once per epoch: the checkpoint's model, and the best one.
        let model = meta.encode(&trainer)?;
        if val_accuracy.is_none_or(|v| v >= sel.best_val) {
            sel.best_epoch = trainer.epoch;
            sel.best_val = val_accuracy.unwrap_or(f64::NEG_INFINITY);
            sel.best_model = model.clone();
        }
        sel.since_best = if improved { 0 } else { sel.since_best + 1 };
        let record = Record {
            stats,
            val_accuracy,
            test_accuracy,
            seconds,
        };
        save_checkpoint(&trainer, &model, &sel, &identity, &paths, &record)?;
        on_epoch(&record);
    }
    if sel.best_epoch == 0 {
        bail!(
            "{}: no epoch was run (the checkpoint already holds {} of {} epochs)",
            dir.display(),
            trainer.epoch,
            trainer.config.epochs
        );
    }
    model_io::write_atomic(&paths.model, &sel.best_model)?;
    guard.keep();
    Ok(Outcome::Finished {
        trainer,
        best_epoch: sel.best_epoch,
        best_val: sel.best_val.is_finite().then_some(sel.best_val),
        early,
    })
}

/// An error if the epoch just run diverged.
fn check_divergence(t: &Trainer, stats: &EpochStats, min_loss: f64, paths: &Paths) -> Result<()> {
    let epoch = stats.epoch;
    let kept = |what: String| {
        anyhow::anyhow!(
            "training diverged at epoch {epoch}: {what}; {} was left as it was \
             (try a smaller --eps0, or a smaller β / larger temperature)",
            paths.model.display()
        )
    };
    if !stats.loss.is_finite() {
        return Err(kept(format!("the loss is {}", stats.loss)));
    }
    if let Some(i) = t.xi.iter().position(|x| !x.is_finite()) {
        let d = t.nv + t.nc;
        return Err(kept(format!(
            "memory {} has the non-finite entry {} at unit {}",
            i / d,
            t.xi[i],
            i % d
        )));
    }
    let chance = 1.0 / t.nc.max(1) as f64;
    if min_loss.is_finite()
        && min_loss > 0.0
        && stats.loss > EXPLOSION * min_loss
        && stats.train_accuracy <= 1.5 * chance
    {
        return Err(kept(format!(
            "the loss jumped to {:.3e}, more than {EXPLOSION:e} times its lowest ({min_loss:.3e}), \
             and the training accuracy fell to {:.2}% (chance: {:.2}%)",
            stats.loss,
            100.0 * stats.train_accuracy,
            100.0 * chance
        )));
    }
    Ok(())
}

const CHECKPOINT_MAGIC: &[u8; 8] = b"DAMCKPT3";
/// The previous version: no [`Identity`] (resumed without that check).
const CHECKPOINT_MAGIC_2: &[u8; 8] = b"DAMCKPT2";
/// Bytes before the models: magic, five state fields, three identity
/// fields, three lengths.
const CHECKPOINT_HEAD: usize = 8 + 11 * 8;

/// What a resumed run must share with the run it continues beyond the
/// model's header: the seed (initial memories, shuffles) and the training
/// rows (`--train-limit`, the dataset).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Identity {
    seed: u64,
    rows: u64,
    labels_crc: u32,
}

impl Identity {
    fn of(config: &Config, train: &Split) -> Self {
        let labels: Vec<u8> = train.labels.iter().flat_map(|l| l.to_le_bytes()).collect();
        Identity {
            seed: config.seed,
            rows: train.len() as u64,
            labels_crc: dam_core::model::crc32(&labels),
        }
    }
}

/// Writes `checkpoint.bin` (the only file `--resume` reads), then the
/// metrics row: a kill between the two renames leaves a checkpoint that is
/// whole and one epoch ahead at most.
fn save_checkpoint(
    t: &Trainer,
    model: &[u8],
    sel: &Selection,
    identity: &Identity,
    paths: &Paths,
    record: &Record,
) -> Result<()> {
    let mut metrics = std::fs::read(&paths.metrics)
        .with_context(|| format!("cannot read {}", paths.metrics.display()))?;
    writeln!(metrics, "{}", metrics_row(record))?;
    let mut out =
        Vec::with_capacity(CHECKPOINT_HEAD + 2 * model.len() + metrics.len() + 4 * t.xi.len() + 4);
    out.extend_from_slice(CHECKPOINT_MAGIC);
    for n in [t.epoch, sel.best_epoch, sel.since_best] {
        out.extend_from_slice(&(n as u64).to_le_bytes());
    }
    for x in [sel.best_val, sel.min_loss] {
        out.extend_from_slice(&x.to_bits().to_le_bytes());
    }
    for n in [identity.seed, identity.rows, u64::from(identity.labels_crc)] {
        out.extend_from_slice(&n.to_le_bytes());
    }
    for n in [model.len(), sel.best_model.len(), metrics.len()] {
        out.extend_from_slice(&(n as u64).to_le_bytes());
    }
    out.extend_from_slice(model);
    out.extend_from_slice(&sel.best_model);
    out.extend_from_slice(&metrics);
    t.opt
        .velocity
        .iter()
        .for_each(|v| out.extend_from_slice(&v.to_le_bytes()));
    let crc = dam_core::model::crc32(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    model_io::write_atomic(&paths.checkpoint, &out)?;
    model_io::write_atomic(&paths.metrics, &metrics)
}

/// The parts of a `checkpoint.bin`.
struct Checkpoint {
    epoch: usize,
    sel: Selection,
    model: AlignedBytes,
    metrics: Vec<u8>,
    velocity: Vec<f32>,
    /// `None` in a version-2 checkpoint.
    identity: Option<Identity>,
}

/// The header of the model in `dir`'s checkpoint: the settings a
/// `--resume` must train with (e.g. the degree chosen on held-out rows).
pub fn checkpoint_header(dir: &Path) -> Result<dam_core::model::Header> {
    let path = Paths::new(dir).checkpoint;
    let ckpt = read_checkpoint(&path)?;
    let model = Model::parse(ckpt.model.as_bytes())
        .map_err(|e| anyhow::anyhow!("{}: its model: {e}", path.display()))?;
    Ok(*model.header())
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
    let v3 = body.get(..8) == Some(&CHECKPOINT_MAGIC[..]);
    let head = if v3 {
        CHECKPOINT_HEAD
    } else {
        CHECKPOINT_HEAD - 24
    };
    if body.len() < head || !(v3 || &body[..8] == CHECKPOINT_MAGIC_2) {
        return Err(bad(
            "not a checkpoint of this version (bad magic or too short)",
        ));
    }
    if crc != dam_core::model::crc32(body).to_le_bytes() {
        return Err(bad("CRC-32 mismatch (the file is corrupt)"));
    }
    let word = |i: usize| {
        let mut b = [0u8; 8];
        b.copy_from_slice(&body[8 + 8 * i..16 + 8 * i]);
        u64::from_le_bytes(b)
    };
    let size = |i: usize| usize::try_from(word(i)).map_err(|_| bad("a length does not fit"));
    let (epoch, best_epoch, since_best) = (size(0)?, size(1)?, size(2)?);
    let (best_val, min_loss) = (f64::from_bits(word(3)), f64::from_bits(word(4)));
    let lengths = if v3 { 8 } else { 5 };
    let identity = v3.then(|| Identity {
        seed: word(5),
        rows: word(6),
        labels_crc: word(7) as u32,
    });
    let (model_len, best_len, metrics_len) =
        (size(lengths)?, size(lengths + 1)?, size(lengths + 2)?);
    let rest = &body[head..];
    let mut at = 0usize;
    let mut take = |n: usize| -> Result<&[u8]> {
        let end = at
            .checked_add(n)
            .filter(|&e| e <= rest.len())
            .ok_or_else(|| bad("its lengths do not add up"))?;
        let part = &rest[at..end];
        at = end;
        Ok(part)
    };
    let model = AlignedBytes::new(take(model_len)?);
    let best_model = take(best_len)?.to_vec();
    let metrics = take(metrics_len)?.to_vec();
    let velocity = &rest[at..];
    if velocity.len() % 4 != 0 {
        return Err(bad("its lengths do not add up"));
    }
    Ok(Checkpoint {
        epoch,
        sel: Selection {
            best_epoch,
            since_best,
            best_val,
            min_loss,
            best_model,
        },
        model,
        metrics,
        velocity: velocity
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
        identity,
    })
}

fn metrics_row(r: &Record) -> String {
    let val = r.val_accuracy.map_or(String::new(), |v| format!("{v:.6}"));
    format!(
        "{},{:.6e},{:.6},{val},{:.6},{:.6e},{:.3}",
        r.stats.epoch,
        r.stats.loss,
        r.stats.train_accuracy,
        r.test_accuracy,
        r.stats.learning_rate,
        r.seconds
    )
}

/// One row of `metrics.csv` as read back.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MetricsRow {
    /// The epoch (from 1).
    pub epoch: usize,
    /// Mean loss per sample.
    pub loss: f64,
    /// Training accuracy (fraction), if the run measured it (a Potts run
    /// does not: its metrics leave the column empty).
    pub train: Option<f64>,
    /// Validation accuracy, if the run had a validation split.
    pub val: Option<f64>,
    /// Test accuracy.
    pub test: f64,
}

/// Reads `metrics.csv` (this version's columns, or the older ones without
/// `val_accuracy`, or a Potts run's, whose training accuracy is empty).
pub fn read_metrics(path: &Path) -> Result<Vec<MetricsRow>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let header: Vec<&str> = text.lines().next().unwrap_or("").split(',').collect();
    let col = |name: &str| header.iter().position(|h| h.trim() == name);
    let (Some(ce), Some(cl), Some(ctr), Some(cte)) = (
        col("epoch"),
        col("loss"),
        col("train_accuracy"),
        col("test_accuracy"),
    ) else {
        bail!(
            "{}: not a metrics.csv of dam train (header {:?})",
            path.display(),
            header
        );
    };
    let cv = col("val_accuracy");
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let parse = |j: usize| -> Result<f64> {
            f.get(j)
                .and_then(|s| s.trim().parse::<f64>().ok())
                .with_context(|| format!("{}: line {}: bad field {j}", path.display(), i + 1))
        };
        let optional = |c: Option<usize>| -> Result<Option<f64>> {
            match c {
                Some(j) if f.get(j).is_some_and(|s| !s.trim().is_empty()) => Ok(Some(parse(j)?)),
                _ => Ok(None),
            }
        };
        let val = optional(cv)?;
        rows.push(MetricsRow {
            epoch: parse(ce)? as usize,
            loss: parse(cl)?,
            train: optional(Some(ctr))?,
            val,
            test: parse(cte)?,
        });
    }
    Ok(rows)
}

fn load_checkpoint(t: &mut Trainer, paths: &Paths, identity: &Identity) -> Result<Selection> {
    let ckpt = read_checkpoint(&paths.checkpoint)?;
    if let Some(was) = ckpt.identity {
        let ckpt_name = paths.checkpoint.display();
        if was.seed != identity.seed {
            bail!(
                "{ckpt_name} was trained with --seed {}, this run has --seed {}; resume with the same seed",
                was.seed,
                identity.seed
            );
        }
        if was.rows != identity.rows || was.labels_crc != identity.labels_crc {
            bail!(
                "{ckpt_name} was trained on {} training rows, this run has {} (other data or --train-limit); resume with the same data and options",
                was.rows,
                identity.rows
            );
        }
    }
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
    // A kill after the checkpoint's rename leaves the metrics one epoch
    // behind: make them agree with it again.
    model_io::write_atomic(&paths.metrics, &ckpt.metrics)?;
    Ok(ckpt.sel)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::kh16::{Init, Scale};
    use dam_core::Interaction;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn toy() -> Split {
        let protos = [
            [1.0f32, 1.0, -1.0, -1.0],
            [-1.0, -1.0, 1.0, 1.0],
            [1.0, -1.0, 1.0, -1.0],
        ];
        Split {
            images: (0..60).flat_map(|i| protos[i % 3]).collect(),
            labels: (0..60).map(|i| (i % 3) as u16).collect(),
            dim: 4,
        }
    }

    fn config(epochs: usize) -> Config {
        Config {
            k: 5,
            batch: 20,
            epochs,
            interaction: Interaction::RectifiedPolynomial { n: 3 },
            scale: Scale::Normalized { beta: 4.0 },
            ..Config::default()
        }
    }

    fn data(s: &Split) -> Data<'_> {
        Data {
            train: s,
            val: Some(s),
            test: s,
        }
    }

    /// Runs to the end (`epochs` in all) in `dir`.
    fn finish(epochs: usize, s: &Split, dir: &Path, resume: bool) -> Trainer {
        let out = run(
            config(epochs),
            data(s),
            &Meta::default(),
            Stopping::default(),
            dir,
            resume,
            &|| false,
            |_| {},
        );
        match out.unwrap() {
            Outcome::Finished { trainer, .. } => trainer,
            other => panic!("not finished: {other:?}"),
        }
    }

    /// Interrupt, resume, finish: the same model, bit for bit, and the same
    /// metrics rows as an uninterrupted run; the interrupted run leaves no
    /// model.dam; a corrupt checkpoint or other settings are refused.
    #[test]
    fn resume_equals_an_uninterrupted_run() {
        let s = toy();
        let straight = tempfile::tempdir().unwrap();
        let a = finish(4, &s, straight.path(), false);

        let broken = tempfile::tempdir().unwrap();
        // 3 minibatches per epoch: stop in the middle of the third epoch.
        let calls = AtomicUsize::new(0);
        let stop = || calls.fetch_add(1, Ordering::SeqCst) >= 7;
        let meta = Meta::default();
        let out = run(
            config(4),
            data(&s),
            &meta,
            Stopping::default(),
            broken.path(),
            false,
            &stop,
            |_| {},
        )
        .unwrap();
        assert_eq!(out, Outcome::Interrupted { epoch: 2 });
        let paths = Paths::new(broken.path());
        assert_eq!(read_metrics(&paths.metrics).unwrap().len(), 2);
        assert!(!paths.model.exists());

        let b = finish(4, &s, broken.path(), true);
        assert_eq!(a.xi, b.xi);
        assert_eq!(a.opt, b.opt);
        assert_eq!(
            std::fs::read(Paths::new(straight.path()).model).unwrap(),
            std::fs::read(&paths.model).unwrap()
        );
        let strip = |m: Vec<MetricsRow>| {
            m.iter()
                .map(|r| (r.epoch, r.loss, r.val, r.test))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            strip(read_metrics(&Paths::new(straight.path()).metrics).unwrap()),
            strip(read_metrics(&paths.metrics).unwrap())
        );

        let again = |c: Config| {
            run(
                c,
                data(&s),
                &meta,
                Stopping::default(),
                broken.path(),
                true,
                &|| false,
                |_| {},
            )
        };
        let err = again(Config { k: 6, ..config(5) }).unwrap_err();
        assert!(err.to_string().contains("other settings"), "{err}");
        let mut bytes = std::fs::read(&paths.checkpoint).unwrap();
        bytes[40] ^= 1;
        std::fs::write(&paths.checkpoint, &bytes).unwrap();
        let msg = format!("{:#}", again(config(5)).unwrap_err());
        assert!(
            msg.contains("checkpoint.bin") && msg.contains("CRC"),
            "{msg}"
        );
    }

    /// A run that diverges says at which epoch, fails, and leaves the
    /// previous model.dam byte-identical.
    #[test]
    fn a_diverging_run_keeps_the_previous_model() {
        let s = toy();
        let dir = tempfile::tempdir().unwrap();
        finish(2, &s, dir.path(), false);
        let paths = Paths::new(dir.path());
        let before = std::fs::read(&paths.model).unwrap();
        // A NaN input poisons the memories in the first epoch.
        let mut bad = s.clone();
        bad.images[5] = f32::NAN;
        let err = run(
            config(3),
            Data {
                train: &bad,
                val: None,
                test: &s,
            },
            &Meta::default(),
            Stopping::default(),
            dir.path(),
            false,
            &|| false,
            |_| {},
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("diverged at epoch 1"), "{err}");
        assert_eq!(std::fs::read(&paths.model).unwrap(), before);
    }

    /// With patience, a run whose validation accuracy stops improving ends
    /// early and keeps the best epoch.
    #[test]
    fn early_stopping_keeps_the_best_epoch() {
        let s = toy();
        let dir = tempfile::tempdir().unwrap();
        let c = Config {
            init: Init::Samples,
            ..config(50)
        };
        let out = run(
            c,
            data(&s),
            &Meta::default(),
            Stopping { patience: Some(3) },
            dir.path(),
            false,
            &|| false,
            |_| {},
        )
        .unwrap();
        let Outcome::Finished {
            trainer,
            best_epoch,
            best_val,
            early,
        } = out
        else {
            panic!("not finished")
        };
        assert!(early && trainer.epoch < 50, "ran {} epochs", trainer.epoch);
        assert_eq!(best_val, Some(1.0));
        let rows = read_metrics(&Paths::new(dir.path()).metrics).unwrap();
        let best = rows.iter().map(|r| r.val.unwrap()).fold(0.0, f64::max);
        assert_eq!(rows[best_epoch - 1].val, Some(best));
    }
}
