//! `dam recall`.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Args as ClapArgs, ValueEnum};
use dam_core::{DrDam, EnergyModel, SeededProjection, Similarity};
use dam_std::data::npy::{Elements, NpyArray};
use dam_std::families::{
    Family, Known, Order, QueryReport, RecallOptions, StopReason, nearest, recall,
};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::common::MemoryArgs;

/// Options of `dam recall`: retrieve from each query, write the final states.
#[derive(ClapArgs, Debug)]
pub struct Args {
    #[command(flatten)]
    pub mem: MemoryArgs,
    /// Where to write the final states (.npy, B×D float64).
    #[arg(long, value_name = "NPY")]
    pub out: PathBuf,
    /// Maximum sweeps (bipolar) or gradient steps (log-sum-exp).
    #[arg(long, default_value_t = 20)]
    pub steps: usize,
    /// Gradient step η of the log-sum-exp memories (1 = one-step update).
    #[arg(long, default_value_t = 1.0)]
    pub step: f64,
    /// Use the random-feature memory (DrDAM, math.md §6) in place of the exact
    /// log-sum-exp memory (`--family lse` only).
    #[arg(long)]
    pub drdam: bool,
    /// Random features Y of `--drdam`.
    #[arg(long, default_value_t = 10_000, requires = "drdam")]
    pub features: usize,
    /// Seed of the `--drdam` projection (Philox4x32-10; identical on every target).
    #[arg(long, default_value_t = 0, requires = "drdam")]
    pub seed: u64,
    /// Update order of the bipolar memory.
    #[arg(long, value_enum, default_value_t = OrderArg::Sequential)]
    pub order: OrderArg,
    /// Seed of `--order random` (query `i` uses `seed ^ i`) and of
    /// `--occlude random:P`.
    #[arg(long, default_value_t = 0)]
    pub order_seed: u64,
    /// Known entries of the queries, clamped during retrieval: a .npy of
    /// D (the same for every query) or B×D values, nonzero = known.
    #[arg(long, value_name = "NPY", conflicts_with = "occlude")]
    pub mask: Option<PathBuf>,
    /// Hide part of every query and complete it: `bottom-half`, `top-half`,
    /// `box:ROW,COL,H,W` (square images), or `random:P` (each entry hidden with probability
    /// P, seeded by --order-seed). Hidden entries are set to −1 (bipolar)
    /// or 0 (log-sum-exp) and may change; the others are clamped.
    #[arg(long, value_name = "SPEC")]
    pub occlude: Option<String>,
    /// A report per query (CSV): stop reason, sweeps or steps, entries
    /// changed, energy before and after, nearest memory and its overlap.
    #[arg(long, value_name = "CSV")]
    pub report: Option<PathBuf>,
    /// Corrupt every query before retrieval, reproducibly (seeded by
    /// --noise-seed): bipolar, flip each entry with probability P;
    /// log-sum-exp, add N(0, P²) to each entry.
    #[arg(long, value_name = "P")]
    pub noise: Option<f64>,
    /// Seed of --noise.
    #[arg(long, default_value_t = 0)]
    pub noise_seed: u64,
    /// A picture (PNG) of the first 16 queries for square-image data: per
    /// row, the query as given, the cue (after --occlude and --noise) and
    /// the completion.
    #[arg(long, value_name = "PNG")]
    pub png: Option<PathBuf>,
}

/// Queries drawn by `--png`.
const PNG_QUERIES: usize = 16;

/// `--order`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrderArg {
    /// Neurons 0, 1, …, D−1 in every sweep.
    Sequential,
    /// A fresh seeded shuffle every sweep.
    Random,
    /// Every neuron decides from the same old state.
    Sync,
}

pub fn run(args: Args) -> Result<()> {
    let mut outputs = vec![args.out.clone()];
    outputs.extend(args.report.clone());
    outputs.extend(args.png.clone());
    outputs.extend(args.png.as_deref().map(energy_path));
    let mut inputs = args.mem.inputs();
    inputs.extend(args.mask.clone());
    crate::common::refuse_inputs(&outputs, &inputs)?;
    for (i, a) in outputs.iter().enumerate() {
        if outputs[..i].contains(a) {
            bail!(
                "--out, --report, --png and its -energy.png must be different files: {} twice",
                a.display()
            );
        }
    }
    if let Some(p) = args.noise
        && !(0.0..=1.0).contains(&p)
    {
        bail!("--noise {p}: expected a probability (bipolar) or standard deviation from 0 to 1");
    }
    let mut l = args.mem.load()?;
    let side = l.d.isqrt();
    if args.png.is_some() && side * side != l.d {
        bail!(
            "--png draws square images; the queries have D = {} entries",
            l.d
        );
    }
    let given = l.queries.clone();
    let is_bipolar = matches!(l.family, Family::Bipolar { .. });
    if args.order != OrderArg::Sequential && !is_bipolar {
        bail!(
            "--order applies to the bipolar memory (--family bipolar); the log-sum-exp memories descend their gradient"
        );
    }
    let b = l.queries.len() / l.d.max(1);
    let known = known_entries(&args, &mut l.queries, b, l.d, is_bipolar)?;
    if let Some(p) = args.noise {
        corrupt(&mut l.queries, p, args.noise_seed, is_bipolar);
    }
    let known_ref = match &known {
        None => Known::None,
        Some(m) if m.len() == l.d => Known::Shared(m),
        Some(m) => Known::PerQuery(m),
    };
    let opts = RecallOptions {
        steps: args.steps,
        step: args.step,
        order: match args.order {
            OrderArg::Sequential => Order::Sequential,
            OrderArg::Random => Order::Random {
                seed: args.order_seed,
            },
            OrderArg::Sync => Order::Synchronous,
        },
    };
    let (states, reports) = if args.drdam {
        recall_drdam(&l, &args, known_ref)?
    } else {
        recall(&l.memories, l.d, &l.queries, l.family, opts, known_ref)?
    };
    // Every output is computed before the first is written.
    let report = args.report.as_ref().map(|_| report_csv(&reports));
    let states_copy = if args.png.is_some() {
        states.clone()
    } else {
        Vec::new()
    };
    NpyArray {
        shape: vec![b, l.d],
        data: Elements::F64(states),
    }
    .write(&args.out)?;
    if let (Some(path), Some(csv)) = (&args.report, report) {
        dam_std::model_io::write_atomic(path, csv.as_bytes())?;
    }
    let mut energy_png = None;
    if let Some(path) = &args.png {
        let shown = b.min(PNG_QUERIES);
        let mut tiles = Vec::with_capacity(3 * shown * l.d);
        for i in 0..shown {
            for src in [&given, &l.queries, &states_copy] {
                let row = &src[i * l.d..(i + 1) * l.d];
                tiles.extend(row.iter().map(|&x| x.clamp(-1.0, 1.0) as f32));
            }
        }
        dam_std::plot::memory_grid(path, &tiles, (side, side), 3, 4)?;
        energy_png = Some(energy_picture(
            path,
            &reports[..shown],
            is_bipolar && !args.drdam,
        )?);
    }
    for (i, r) in reports.iter().enumerate() {
        let ran = match r.stop {
            StopReason::Steps => format!("ran {} steps", r.steps),
            stop => format!("{} after {} sweeps", stop.name(), r.steps),
        };
        println!(
            "query {i}: {ran}, {} entries changed, energy {:.6e} -> {:.6e}, nearest memory {} (overlap/D {:.4})",
            r.changed, r.energy_before, r.energy_after, r.nearest, r.overlap
        );
    }
    println!("states: {}", args.out.display());
    if let Some(path) = &args.report {
        println!("report: {}", path.display());
    }
    if let Some(path) = &args.png {
        println!(
            "picture: {} (per row: query, cue, completion)",
            path.display()
        );
    }
    if let Some(path) = energy_png {
        println!("energy: {} (one line per query drawn)", path.display());
    }
    Ok(())
}

/// `<stem>-energy.png` beside the `--png` picture.
fn energy_path(png: &std::path::Path) -> PathBuf {
    let stem = png
        .file_stem()
        .map_or("recall".into(), |s| s.to_string_lossy());
    png.with_file_name(format!("{stem}-energy.png"))
}

/// The energy trajectories of the queries drawn by `--png`, beside it as
/// `<stem>-energy.png`; returns that path.
fn energy_picture(png: &std::path::Path, reports: &[QueryReport], sweeps: bool) -> Result<PathBuf> {
    use dam_std::plot::{Axes, Line, PALETTE, lines};
    let path = energy_path(png);
    let points: Vec<Vec<(f64, f64)>> = reports
        .iter()
        .map(|r| {
            r.trajectory
                .iter()
                .enumerate()
                .map(|(t, &e)| (t as f64, e))
                .collect()
        })
        .collect();
    let names: Vec<String> = (0..reports.len()).map(|i| format!("query {i}")).collect();
    let curves: Vec<Line<'_>> = points
        .iter()
        .zip(&names)
        .enumerate()
        .map(|(i, (p, name))| Line {
            name,
            points: p,
            colour: PALETTE[i % PALETTE.len()],
        })
        .collect();
    let x_label = if sweeps { "sweep" } else { "step" };
    lines(
        &path,
        &curves,
        &Axes {
            title: "Energy during retrieval",
            x_label,
            y_label: "energy",
            y_range: None,
        },
    )?;
    Ok(path)
}

/// The per-query report as CSV.
fn report_csv(reports: &[QueryReport]) -> String {
    let mut s =
        String::from("query,stop,steps,changed,energy_before,energy_after,nearest,overlap\n");
    for (i, r) in reports.iter().enumerate() {
        s += &format!(
            "{i},{},{},{},{:e},{:e},{},{}\n",
            r.stop.name(),
            r.steps,
            r.changed,
            r.energy_before,
            r.energy_after,
            r.nearest,
            r.overlap
        );
    }
    s
}

/// `box:ROW,COL,H,W` of `--occlude`: a rectangle inside a `side × side`
/// image.
fn parse_box(spec: &str, b: &str, side: usize) -> Result<(usize, usize, usize, usize)> {
    let v: Vec<usize> = b
        .split(',')
        .map(|x| x.trim().parse::<usize>())
        .collect::<Result<_, _>>()
        .ok()
        .filter(|v: &Vec<usize>| v.len() == 4)
        .with_context(|| {
            format!("--occlude {spec}: expected box:ROW,COL,H,W (four whole numbers)")
        })?;
    let (r0, c0, h, w) = (v[0], v[1], v[2], v[3]);
    if h == 0 || w == 0 || r0.saturating_add(h) > side || c0.saturating_add(w) > side {
        bail!("--occlude {spec}: the box must lie inside the {side}×{side} image and not be empty");
    }
    Ok((r0, c0, h, w))
}

/// `--noise p`: bipolar queries get each entry's sign flipped with
/// probability `p`, the others `N(0, p²)` added to each entry.
fn corrupt(queries: &mut [f64], p: f64, seed: u64, bipolar: bool) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    for x in queries.iter_mut() {
        if bipolar {
            let s = if *x >= 0.0 { 1.0 } else { -1.0 };
            *x = if rng.random_bool(p) { -s } else { s };
        } else {
            // Box–Muller from two uniform draws in (0, 1].
            let (u, v): (f64, f64) = (1.0 - rng.random::<f64>(), rng.random());
            *x += p * (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos();
        }
    }
}

/// The known-entry flags from `--mask` or `--occlude` (`None`: all free);
/// `--occlude` also overwrites the hidden entries of `queries`.
fn known_entries(
    args: &Args,
    queries: &mut [f64],
    b: usize,
    d: usize,
    bipolar: bool,
) -> Result<Option<Vec<bool>>> {
    if let Some(path) = &args.mask {
        let name = path.display().to_string();
        let a = NpyArray::read(path)?;
        let values = a.data.to_f64();
        if values.len() != d && values.len() != b * d {
            bail!(
                "{name}: the mask has {} entries (shape {:?}); it needs D = {d} (one mask for every query) or B×D = {} (one per query)",
                values.len(),
                a.shape,
                b * d
            );
        }
        if let Some(i) = values.iter().position(|x| !x.is_finite()) {
            bail!("{name}: entry {i} of the mask is {}", values[i]);
        }
        return Ok(Some(values.iter().map(|&x| x != 0.0).collect()));
    }
    let Some(spec) = &args.occlude else {
        return Ok(None);
    };
    let hidden: Vec<bool> = if let Some(p) = spec.strip_prefix("random:") {
        let p: f64 = p
            .parse()
            .ok()
            .filter(|p: &f64| (0.0..=1.0).contains(p))
            .with_context(|| format!("--occlude {spec}: P must be a number from 0 to 1"))?;
        let mut rng = ChaCha8Rng::seed_from_u64(args.order_seed);
        (0..b * d).map(|_| rng.random_bool(p)).collect()
    } else {
        let side = d.isqrt();
        if side * side != d {
            bail!("--occlude {spec}: the queries have D = {d} entries, not a square image");
        }
        let row: Vec<bool> = match spec.as_str() {
            "bottom-half" => (0..d).map(|i| i / side >= side / 2).collect(),
            "top-half" => (0..d).map(|i| i / side < side / 2).collect(),
            _ => match spec.strip_prefix("box:") {
                Some(b) => {
                    let (r0, c0, h, w) = parse_box(spec, b, side)?;
                    (0..d)
                        .map(|i| {
                            (r0..r0 + h).contains(&(i / side)) && (c0..c0 + w).contains(&(i % side))
                        })
                        .collect()
                }
                None => bail!(
                    "--occlude {spec}: expected bottom-half, top-half, box:ROW,COL,H,W or random:P"
                ),
            },
        };
        row.repeat(b)
    };
    let fill = if bipolar { -1.0 } else { 0.0 };
    for (x, &h) in queries.iter_mut().zip(&hidden) {
        if h {
            *x = fill;
        }
    }
    Ok(Some(hidden.iter().map(|&h| !h).collect()))
}

/// Gradient descent on the DrDAM approximation of the log-sum-exp memory.
fn recall_drdam(
    l: &crate::common::Loaded,
    args: &Args,
    known: Known<'_>,
) -> Result<(Vec<f64>, Vec<QueryReport>)> {
    let beta = match l.family {
        Family::Lse {
            beta,
            similarity: Similarity::Euclidean,
        } => beta,
        _ => bail!("--drdam approximates the Euclidean log-sum-exp memory: use --family lse"),
    };
    if args.features == 0 {
        bail!("--features must be at least 1");
    }
    if args.steps == 0 {
        bail!("--steps must be at least 1");
    }
    let proj = SeededProjection::new(args.seed, args.features, l.d)?;
    let mut dam = DrDam::new(proj, beta, vec![0.0f64; 2 * args.features])?;
    let mut scratch = vec![0.0f64; 2 * l.d];
    for (mu, xi) in l.memories.chunks_exact(l.d).enumerate() {
        dam.store(xi, &mut scratch)
            .with_context(|| format!("storing memory {mu}"))?;
    }
    let mut states = l.queries.clone();
    let mut reports = Vec::new();
    for (i, x) in states.chunks_exact_mut(l.d).enumerate() {
        let mask = match known {
            Known::None => None,
            Known::Shared(m) => Some(m),
            Known::PerQuery(m) => m.get(i * l.d..(i + 1) * l.d),
        };
        let mut trajectory = vec![
            dam.energy(x, &mut scratch)
                .with_context(|| format!("query {i}"))?,
        ];
        let q = x.to_vec();
        for _ in 0..args.steps {
            let r = dam
                .descend(x, mask, args.step, 1, &mut scratch)
                .with_context(|| format!("query {i}"))?;
            trajectory.push(r.energy);
        }
        let (nearest, overlap) = nearest(&l.memories, l.d, x);
        reports.push(QueryReport {
            stop: StopReason::Steps,
            steps: args.steps,
            changed: x.iter().zip(&q).filter(|(a, b)| a != b).count(),
            energy_before: trajectory[0],
            energy_after: trajectory[args.steps],
            nearest,
            overlap,
            trajectory,
        });
    }
    Ok((states, reports))
}
