//! `dam show`.

use std::path::{Path, PathBuf};

use anyhow::{Result, anyhow};
use clap::Args as ClapArgs;
use dam_core::model::Model;
use dam_std::{model_io, plot};

/// Options of `dam show`: PNGs of a model's memories and of training curves.
#[derive(ClapArgs, Debug)]
pub struct Args {
    /// The model file.
    pub model: PathBuf,
    /// A metrics.csv of `dam train` to plot as well.
    #[arg(long, value_name = "CSV")]
    pub metrics: Option<PathBuf>,
    /// Output directory for memories.png (and curves.png).
    #[arg(long, default_value = "out")]
    pub out: PathBuf,
    /// Memories per row of the grid.
    #[arg(long, default_value_t = 10)]
    pub cols: usize,
    /// Draw each memory as a HEIGHTxWIDTH image [default: square images
    /// when Nv is a square of at least 16×16, else a heatmap of all memories].
    #[arg(long, value_name = "HxW", value_parser = crate::common::parse_shape)]
    pub image_shape: Option<(usize, usize)>,
}

pub fn run(args: Args) -> Result<()> {
    let mut inputs = vec![args.model.clone()];
    inputs.extend(args.metrics.clone());
    crate::common::refuse_inputs(
        &[args.out.join("memories.png"), args.out.join("curves.png")],
        &inputs,
    )?;
    std::fs::create_dir_all(&args.out)
        .map_err(|e| anyhow!("cannot create {}: {e}", args.out.display()))?;
    let path = args.out.join("memories.png");
    if potts_png(&args.model, &path, args.cols)? {
        println!(
            "memories: {} (Potts: memories on top, blue −1, white 0, red +1; below each, \
             the rescaled class weights p^μ_y/p_h(μ), class y the y-th cell from the left, white 0, red the largest)",
            path.display()
        );
    } else {
        memories_png(&args.model, &path, args.cols, args.image_shape)?;
        println!("memories: {} (blue −1, white 0, red +1)", path.display());
    }
    if let Some(csv) = &args.metrics {
        let path = args.out.join("curves.png");
        curves_png(csv, &path)?;
        println!("curves: {}", path.display());
    }
    Ok(())
}

/// Draws the visible part of every memory as an image of `shape`, or when
/// none is given as a square image when `Nv` is a square of at least
/// 16×16 (28×28 for MNIST), else all memories as one heatmap.
pub fn memories_png(
    model: &Path,
    out: &Path,
    cols: usize,
    shape: Option<(usize, usize)>,
) -> Result<()> {
    let bytes = model_io::load(model)?;
    let m = Model::parse(bytes.as_bytes()).map_err(|e| anyhow!("{e}"))?;
    let h = *m.header();
    let rows: Vec<f32> = match m.memories::<f32>() {
        Ok(v) => v.as_slice().to_vec(),
        Err(_) => m
            .memories::<f64>()
            .map_err(|e| anyhow!("{}: {e}", model.display()))?
            .as_slice()
            .iter()
            .map(|&x| x as f32)
            .collect(),
    };
    let (nv, d) = (h.nv as usize, h.d());
    let visible: Vec<f32> = rows
        .chunks_exact(d)
        .flat_map(|r| r[..nv].iter().copied())
        .collect();
    let side = nv.isqrt();
    let shape = match shape {
        Some((a, b)) if a.checked_mul(b) == Some(nv) => Some((a, b)),
        Some((a, b)) => {
            anyhow::bail!("--image-shape {a}x{b} does not match the model's {nv} visible units")
        }
        None => (side * side == nv && side >= 16).then_some((side, side)),
    };
    match shape {
        Some(shape) => {
            let zoom = (112 / shape.0.max(shape.1)).clamp(1, 8);
            plot::memory_grid(out, &visible, shape, cols, zoom)
        }
        None => {
            let title = format!("{}: {} memories × {nv} features", model.display(), h.k);
            plot::memory_heatmap(out, &visible, (h.k as usize, nv), &title)
        }
    }
}

/// Draws a Potts model's memories with their soft labels (\[TT\] Figure 4);
/// `false` if the model is of another kind.
pub fn potts_png(model: &Path, out: &Path, cols: usize) -> Result<bool> {
    let bytes = model_io::load(model)?;
    let m = Model::parse(bytes.as_bytes()).map_err(|e| anyhow!("{}: {e}", model.display()))?;
    if m.header().kind != dam_core::model::Kind::Potts {
        return Ok(false);
    }
    let params =
        dam_std::potts::Params::from_model(&m).map_err(|e| anyhow!("{}: {e}", model.display()))?;
    dam_std::potts::figure::memories_with_labels(out, &params, cols)?;
    Ok(true)
}

/// Draws the training loss and the training, validation and test accuracy
/// per epoch, with the kept (best validation) epoch marked.
pub fn curves_png(csv: &Path, out: &Path) -> Result<()> {
    let rows = dam_std::train::session::read_metrics(csv)?;
    let loss: Vec<f64> = rows.iter().map(|r| r.loss).collect();
    let train: Vec<f64> = rows.iter().filter_map(|r| r.train).collect();
    let val: Vec<f64> = rows.iter().filter_map(|r| r.val).collect();
    let test: Vec<f64> = rows.iter().map(|r| r.test).collect();
    // The kept epoch, as dam train chooses it: the highest validation
    // accuracy (the later of ties), else the last epoch.
    let best = if val.len() == rows.len() && !val.is_empty() {
        let top = val.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        val.iter().rposition(|&v| v == top).map(|i| i + 1)
    } else {
        (!rows.is_empty()).then_some(rows.len())
    };
    let mut accuracy = Vec::new();
    if train.len() == rows.len() && !train.is_empty() {
        accuracy.push(plot::Series {
            name: "train",
            values: &train,
        });
    }
    if val.len() == rows.len() && !val.is_empty() {
        accuracy.push(plot::Series {
            name: "validation",
            values: &val,
        });
    }
    accuracy.push(plot::Series {
        name: "test",
        values: &test,
    });
    plot::curves(
        out,
        &plot::Curves {
            title: "",
            loss: &[plot::Series {
                name: "train",
                values: &loss,
            }],
            accuracy: &accuracy,
            log_loss: loss.iter().all(|&l| !l.is_finite() || l > 0.0),
            best_epoch: best,
        },
    )
}
