//! `dam eval`.

use std::path::PathBuf;

use anyhow::{Context, Result, anyhow};
use clap::Args as ClapArgs;
use dam_core::model::{ElementType, Kind, Model};
use dam_std::data::Split;
use dam_std::data::dataset::{self, ClassMap, InputMap};
use dam_std::data::table::Table;
use dam_std::model_io;
use dam_std::quantize::{ForwardPath, evaluate_model};
use dam_std::train::kh16::{Evaluation, Net, evaluate};

use crate::common::DataArgs;

/// Options of `dam eval`.
#[derive(ClapArgs, Debug)]
pub struct Args {
    /// The model file: a classifier, or Potts memories (both readouts).
    pub model: PathBuf,
    #[command(flatten)]
    pub data: DataArgs,
    /// Evaluate an i8 model entirely in fixed point (the no-FPU firmware path).
    #[arg(long)]
    pub fixed: bool,
    /// Also draw the confusion matrix as a PNG here.
    #[arg(long, value_name = "PNG")]
    pub confusion_png: Option<PathBuf>,
}

/// The test split for `model`: only the test rows are read, mapped with
/// the model's classes and input map.
pub fn test_split(data: &DataArgs, model: &Model<'_>, name: &str) -> Result<Split> {
    let (mut split, map) = raw_test_split(data, model, name)?;
    for row in split.images.chunks_exact_mut(split.dim.max(1)) {
        map.apply(row);
    }
    Ok(split)
}

/// The test rows for `model` as read (values unmapped, labels as the
/// model's class indices), and the input map to apply to them
/// ([`input_map`]). Only the test rows are read: the data's own test part
/// or `--test-data`, else (a single-table source) the stratified rows
/// `dam train` held out, chosen from the labels before any feature is read
/// (`source::load_rows`), so memory holds the test split, not the file.
pub fn raw_test_split(data: &DataArgs, model: &Model<'_>, name: &str) -> Result<(Split, InputMap)> {
    let classes = model_classes(model);
    let at = || format!("evaluating {name}");
    let nv = model.header().nv as usize;
    let fits = |source: &str, cols: usize| -> Result<()> {
        if cols != nv {
            anyhow::bail!("{source}: {cols} features per row, the model {name} expects Nv = {nv}");
        }
        Ok(())
    };
    let identity = InputMap::identity(nv);
    let table = match data.test_table()? {
        Some(table) => {
            fits(&table.source, table.cols)?;
            table
        }
        // One file, split by dam train: the same stratified rows.
        None => data.train_rows(|p| {
            fits(p.source, p.cols)?;
            let all = classes.index(p.labels, p.source).with_context(at)?;
            let (_, rows) = dataset::stratified(
                &all,
                classes.len(),
                data.test_fraction,
                data.split_seed,
            );
            if rows.is_empty() {
                anyhow::bail!(
                    "{}: --test-fraction {} leaves no test rows (give the --test-fraction and --split-seed the model was trained with)",
                    p.source,
                    data.test_fraction
                );
            }
            Ok(rows)
        })?,
    };
    let map = input_map(model, &table);
    let split = dataset::test_split(&table, &classes, &identity).with_context(at)?;
    Ok((split, map))
}

/// The classes a model reports: its label values, and names if it has them.
pub fn model_classes(model: &Model<'_>) -> ClassMap {
    let nc = model.header().nc as usize;
    let names: Option<Vec<String>> = (0..nc)
        .map(|a| model.class_name(a).map(str::to_string))
        .collect::<Option<Vec<_>>>()
        .filter(|n| !n.is_empty());
    ClassMap {
        values: (0..nc)
            .map(|a| model.label_value(a).unwrap_or(a as i64))
            .collect(),
        names,
    }
}

/// The input map stored in `model`, or for a model without one: 8-bit
/// images mapped by `2p/255 − 1` (what the trainer did before the map was
/// stored), anything else as it is.
///
/// `t` holds the test rows only (for a single-table source, not the whole
/// file): "8-bit images" is decided on them. For images of bytes (every
/// version-1 model's data) that is the same answer as on the whole file;
/// it could differ only for a file whose test rows are all integers in
/// 0..=255 while some training row is not.
pub fn input_map(model: &Model<'_>, t: &Table) -> InputMap {
    if let Some(p) = model.preprocessing() {
        return InputMap {
            scale: p.scales().to_vec(),
            offset: p.offsets().to_vec(),
        };
    }
    legacy_map(t)
}

fn legacy_map(t: &Table) -> InputMap {
    let bytes = t.image_shape.is_some()
        && t.values
            .iter()
            .all(|&x| (0.0..=255.0).contains(&x) && x.fract() == 0.0);
    let mut map = InputMap::identity(t.cols);
    if bytes {
        map.scale.fill(2.0 / 255.0);
        map.offset.fill(-1.0);
    }
    map
}

pub fn run(args: Args) -> Result<()> {
    if let Some(png) = &args.confusion_png {
        let mut inputs = args.data.inputs();
        inputs.push(args.model.clone());
        crate::common::refuse_inputs(std::slice::from_ref(png), &inputs)?;
    }
    let bytes = model_io::load(&args.model)?;
    let model = Model::parse(bytes.as_bytes()).map_err(|e| anyhow!("{e}"))?;
    if model.header().kind == Kind::Memory {
        anyhow::bail!(
            "{}: the model is a Memory, not a classifier (dam eval scores classifiers and Potts models)",
            args.model.display()
        );
    }
    if args.fixed && model.header().kind == Kind::Potts {
        anyhow::bail!(
            "{}: --fixed runs i8 classifiers in fixed point; a Potts model has an f32 forward pass only",
            args.model.display()
        );
    }
    let test = test_split(&args.data, &model, &args.model.display().to_string())?;
    // f32 models: the batched trainer's evaluation; quantized models (or
    // --fixed): one image at a time through dam-core, as firmware runs them.
    let e = if model.header().kind == Kind::Potts {
        potts(&args, &model, &test)?
    } else if model.header().element == ElementType::F32 && !args.fixed {
        let net = Net::from_model(&model).map_err(|e| anyhow!("{}: {e}", args.model.display()))?;
        evaluate(&net, &test)?
    } else {
        let path = if args.fixed {
            ForwardPath::Fixed
        } else {
            ForwardPath::Float
        };
        evaluate_model(&model, &test, path).map_err(|e| anyhow!("{}: {e}", args.model.display()))?
    };
    println!(
        "test accuracy: {:.2}% ({} rows)",
        100.0 * e.accuracy,
        test.len()
    );
    let names = model_classes(&model).display_all();
    if names.len() <= MAX_PRINTED_CLASSES {
        print_confusion(&e.confusion, &names);
    } else {
        // A wide matrix is unreadable as text: the most frequent confusions.
        let mut pairs: Vec<(u64, usize, usize)> = e
            .confusion
            .iter()
            .enumerate()
            .flat_map(|(t, row)| {
                row.iter()
                    .enumerate()
                    .filter(move |&(p, &c)| p != t && c > 0)
                    .map(move |(p, &c)| (c, t, p))
            })
            .collect();
        pairs.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
        println!(
            "{} classes: the most frequent confusions (the whole matrix: --confusion-png)",
            names.len()
        );
        for (c, t, p) in pairs.iter().take(10) {
            println!("  {c:>6} × true {} predicted {}", names[*t], names[*p]);
        }
    }
    if let Some(png) = &args.confusion_png {
        let title = format!(
            "{}: test accuracy {:.2}% ({} rows)",
            args.model.display(),
            100.0 * e.accuracy,
            test.len()
        );
        dam_std::plot::confusion(png, &e.confusion, &names, &title)?;
        println!("confusion matrix: {}", png.display());
    }
    Ok(())
}

/// Confusion matrices up to this many classes are printed in full.
const MAX_PRINTED_CLASSES: usize = 30;

/// Prints the confusion matrix with the class names as headers.
fn print_confusion(confusion: &[Vec<u64>], names: &[String]) {
    let width = names
        .iter()
        .map(|n| n.chars().count())
        .max()
        .unwrap_or(1)
        .clamp(5, 12);
    let short = |n: &str| n.chars().take(width).collect::<String>();
    println!("confusion matrix (rows: true class, columns: predicted):");
    print!("{:>width$} ", "");
    for n in names {
        print!(" {:>width$}", short(n));
    }
    println!();
    for (row, n) in confusion.iter().zip(names) {
        print!("{:>width$} ", short(n));
        for c in row {
            print!(" {c:>width$}");
        }
        println!();
    }
}

/// A Potts model, one image at a time through `dam-core`'s
/// `PottsClassifier` (what firmware runs): the `argmax p(y|v)` readout's
/// evaluation, with the 1-NN readout's accuracy printed beside it.
fn potts(args: &Args, model: &Model<'_>, test: &Split) -> Result<Evaluation> {
    let at = |e: dam_core::Error| anyhow!("{}: {e}", args.model.display());
    let clf = model.potts::<f32>().map_err(at)?;
    let p = clf.memories().k();
    if clf.memories().d() != test.dim {
        anyhow::bail!(
            "{}: memories of {} entries, test images of {}",
            args.model.display(),
            clf.memories().d(),
            test.dim
        );
    }
    let nc = clf.classes();
    let (mut probs, mut scratch) = (vec![0.0f32; nc], vec![0.0f32; p]);
    let mut confusion = vec![vec![0u64; nc]; nc];
    let (mut posterior, mut nearest) = (0usize, 0usize);
    for (i, &label) in test.labels.iter().enumerate() {
        let v = test.image(i);
        let y = usize::from(label);
        let predicted = clf.posterior(v, &mut probs, &mut scratch).map_err(at)?;
        posterior += usize::from(predicted == y);
        nearest += usize::from(clf.nearest_memory(v).map_err(at)?.1 == y);
        if let Some(cell) = confusion.get_mut(y).and_then(|row| row.get_mut(predicted)) {
            *cell += 1;
        }
    }
    let n = test.len().max(1) as f64;
    println!(
        "Potts, P = {p}: 1-NN on memories {:.2}%; argmax p(y|v) below",
        100.0 * nearest as f64 / n,
    );
    Ok(Evaluation {
        accuracy: posterior as f64 / n,
        confusion,
    })
}
