//! `dam eval`.

use std::path::PathBuf;

use anyhow::{Result, anyhow};
use clap::Args as ClapArgs;
use dam_core::model::{ElementType, Kind, Model};
use dam_std::model_io;
use dam_std::quantize::{ForwardPath, evaluate_model};
use dam_std::train::kh16::{Net, evaluate};

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
}

pub fn run(args: Args) -> Result<()> {
    let bytes = model_io::load(&args.model)?;
    let model = Model::parse(bytes.as_bytes()).map_err(|e| anyhow!("{e}"))?;
    let data = args.data.load()?;
    if model.header().kind == Kind::Potts {
        return potts(&args, &model, &data.test);
    }
    // f32 models: the batched trainer's evaluation; quantized models (or
    // --fixed): one image at a time through dam-core, as firmware runs them.
    let e = if model.header().element == ElementType::F32 && !args.fixed {
        let net = Net::from_model(&model).map_err(|e| anyhow!("{}: {e}", args.model.display()))?;
        evaluate(&net, &data.test)?
    } else {
        let path = if args.fixed {
            ForwardPath::Fixed
        } else {
            ForwardPath::Float
        };
        evaluate_model(&model, &data.test, path)
            .map_err(|e| anyhow!("{}: {e}", args.model.display()))?
    };
    println!(
        "test accuracy: {:.2}% ({} images)",
        100.0 * e.accuracy,
        data.test.len()
    );
    println!("confusion matrix (rows: true class, columns: predicted):");
    print!("     ");
    for p in 0..e.confusion.len() {
        print!("{p:>6}");
    }
    println!();
    for (t, row) in e.confusion.iter().enumerate() {
        print!("{t:>5}");
        for c in row {
            print!("{c:>6}");
        }
        println!();
    }
    Ok(())
}

/// A Potts model, one image at a time through `dam-core`'s
/// `PottsClassifier` (what firmware runs): both readouts.
fn potts(args: &Args, model: &Model<'_>, test: &dam_std::data::mnist::Split) -> Result<()> {
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
    let (mut probs, mut scratch) = (vec![0.0f32; clf.classes()], vec![0.0f32; p]);
    let (mut posterior, mut nearest) = (0usize, 0usize);
    for (i, &label) in test.labels.iter().enumerate() {
        let v = test.image(i);
        let y = usize::from(label);
        posterior += usize::from(clf.posterior(v, &mut probs, &mut scratch).map_err(at)? == y);
        nearest += usize::from(clf.nearest_memory(v).map_err(at)?.1 == y);
    }
    let n = test.len().max(1) as f64;
    println!(
        "Potts, P = {p}: test accuracy argmax p(y|v) {:.2}%, 1-NN on memories {:.2}% ({} images)",
        100.0 * posterior as f64 / n,
        100.0 * nearest as f64 / n,
        test.len()
    );
    Ok(())
}
