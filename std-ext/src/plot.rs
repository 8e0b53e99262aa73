//! PNG figures drawn with `plotters`' bitmap backend.
//!
//! The text (titles, axis titles, tick labels, legends) is set in DejaVu
//! Sans, compiled into the binary from `std-ext/assets/DejaVuSans.ttf`
//! (Bitstream Vera licence, `std-ext/assets/LICENSE-DejaVu.txt`), so the
//! figures do not depend on the fonts of the machine that draws them.
//!
//! - [`curves`]: training curves per epoch, a loss panel and an accuracy
//!   panel, with a legend and the best epoch marked;
//! - [`lines`]: any curves `y(x)` on labelled axes;
//! - [`memory_grid`]: memories of image data as a grid of tiles;
//! - [`memory_heatmap`]: memories of other data as a `K × D` heatmap;
//! - [`confusion`]: a confusion matrix.
//!
//! Every function checks its inputs and returns an error rather than
//! panicking; the PNG is written to a temporary file beside the target and
//! renamed, so a failure leaves no half-written figure.

use std::path::Path;
use std::sync::OnceLock;

use anyhow::{Result, anyhow, bail};
use plotters::coord::Shift;
use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// DejaVu Sans, registered with `plotters` as the `sans-serif` family.
static FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");
const FAMILY: &str = "sans-serif";

/// Colours of successive series (the "tab10" palette).
pub const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

const TITLE_SIZE: f64 = 22.0;
const AXIS_SIZE: f64 = 17.0;
const TICK_SIZE: f64 = 14.0;
const LEGEND_SIZE: f64 = 14.0;

/// The blue–white–red colour of a value in `[−1, 1]` (blue −1, white 0,
/// red +1), as in the memory figures of \[KH16\].
///
/// ```
/// use dam_std::plot::bwr;
/// assert_eq!(bwr(-1.0), (0, 0, 255));
/// assert_eq!(bwr(0.0), (255, 255, 255));
/// assert_eq!(bwr(1.0), (255, 0, 0));
/// ```
pub fn bwr(x: f32) -> (u8, u8, u8) {
    let x = x.clamp(-1.0, 1.0);
    let fade = (255.0 * (1.0 - x.abs())).round() as u8;
    if x >= 0.0 {
        (255, fade, fade)
    } else {
        (fade, fade, 255)
    }
}

/// Draws `rows` memories (each `h × w` values in `[−1, 1]`, row-major,
/// consecutive in `images`) as a grid of tiles, `cols` per row, each pixel
/// `zoom × zoom`, with a one-tile-pixel grey gap. Written to `path` (PNG).
///
/// For memories that are not images, [`memory_heatmap`] draws one row per
/// memory instead.
///
/// ```
/// # fn main() -> anyhow::Result<()> {
/// let dir = tempfile::tempdir()?;
/// // Two 2×3 memories.
/// let memories = [1.0, -1.0, 0.0, 0.5, -0.5, 1.0, 0.0, 0.0, 1.0, -1.0, 1.0, -1.0];
/// dam_std::plot::memory_grid(&dir.path().join("memories.png"), &memories, (2, 3), 2, 8)?;
/// # Ok(())
/// # }
/// ```
pub fn memory_grid(
    path: &Path,
    images: &[f32],
    (h, w): (usize, usize),
    cols: usize,
    zoom: usize,
) -> Result<()> {
    if h == 0 || w == 0 || cols == 0 || zoom == 0 || !images.len().is_multiple_of(h * w) {
        bail!(
            "memory grid: {} values do not split into {h}×{w} tiles",
            images.len()
        );
    }
    if images.is_empty() {
        bail!("memory grid: no memories to draw");
    }
    let count = images.len() / (h * w);
    let cols = cols.min(count);
    let grid_rows = count.div_ceil(cols).max(1);
    let tile = (w * zoom + zoom, h * zoom + zoom);
    let size = (cols * tile.0 + zoom, grid_rows * tile.1 + zoom);
    if size.0 > 16_384 || size.1 > 16_384 {
        bail!(
            "memory grid: a {}×{} image is too large; use fewer columns or a smaller zoom",
            size.0,
            size.1
        );
    }
    draw(path, (size.0 as u32, size.1 as u32), |root| {
        root.fill(&RGBColor(128, 128, 128))?;
        for (i, img) in images.chunks_exact(h * w).enumerate() {
            let (x0, y0) = ((i % cols) * tile.0 + zoom, (i / cols) * tile.1 + zoom);
            for (p, &v) in img.iter().enumerate() {
                let colour = value_colour(v);
                let (x, y) = (x0 + (p % w) * zoom, y0 + (p / w) * zoom);
                root.draw(&Rectangle::new(
                    [(x as i32, y as i32), ((x + zoom) as i32, (y + zoom) as i32)],
                    colour.filled(),
                ))?;
            }
        }
        Ok(())
    })
}

/// One named series of per-epoch values for [`curves`]: `values[i]` belongs
/// to epoch `i + 1`. Non-finite values are left out of the line.
#[derive(Clone, Copy, Debug)]
pub struct Series<'a> {
    /// The name in the legend ("train", "test", …).
    pub name: &'a str,
    /// One value per epoch, from epoch 1.
    pub values: &'a [f64],
}

/// What [`curves`] draws.
#[derive(Clone, Copy, Debug, Default)]
pub struct Curves<'a> {
    /// The title above both panels (none if empty).
    pub title: &'a str,
    /// Loss per epoch (left panel; left out if empty).
    pub loss: &'a [Series<'a>],
    /// Accuracy per epoch as fractions in `[0, 1]`, drawn in % (right panel;
    /// left out if empty).
    pub accuracy: &'a [Series<'a>],
    /// A logarithmic loss axis (non-positive losses are then left out).
    pub log_loss: bool,
    /// The best epoch (from 1), marked by a vertical line in both panels and
    /// a dot on the **last** accuracy series (put the held-out one last),
    /// named in the legend as "best epoch N: XX.XX%".
    pub best_epoch: Option<usize>,
}

/// Draws training curves: loss against epoch and accuracy (%) against epoch,
/// side by side, with axes, ticks, a legend naming each series (a series
/// keeps its colour in both panels) and the best epoch marked. Written to
/// `path` (PNG).
///
/// ```
/// use dam_std::plot::{Curves, Series, curves};
/// # fn main() -> anyhow::Result<()> {
/// let dir = tempfile::tempdir()?;
/// let loss = [0.9, 0.5, 0.35, 0.3];
/// let (train, test) = ([0.80, 0.90, 0.95, 0.97], [0.78, 0.88, 0.91, 0.90]);
/// curves(
///     &dir.path().join("curves.png"),
///     &Curves {
///         title: "MNIST, K = 100",
///         loss: &[Series { name: "train", values: &loss }],
///         accuracy: &[
///             Series { name: "train", values: &train },
///             Series { name: "test", values: &test },
///         ],
///         log_loss: true,
///         best_epoch: Some(3),
///     },
/// )?;
/// # Ok(())
/// # }
/// ```
pub fn curves(path: &Path, c: &Curves<'_>) -> Result<()> {
    let epochs = c
        .loss
        .iter()
        .chain(c.accuracy)
        .map(|s| s.values.len())
        .max()
        .unwrap_or(0);
    let usable =
        |s: &Series<'_>, log: bool| s.values.iter().any(|v| v.is_finite() && (!log || *v > 0.0));
    let has_loss = c.loss.iter().any(|s| usable(s, c.log_loss));
    let has_accuracy = c.accuracy.iter().any(|s| usable(s, false));
    if !has_loss && !has_accuracy {
        bail!("curves: no finite value to draw");
    }
    if let Some(&bad) = c
        .accuracy
        .iter()
        .flat_map(|s| s.values)
        .find(|v| v.is_finite() && !(0.0..=1.0).contains(*v))
    {
        bail!("curves: accuracy {bad} is not a fraction in [0, 1]");
    }
    let best = match c.best_epoch {
        Some(e) if e == 0 || e > epochs => {
            bail!("curves: best epoch {e} is outside the epochs 1..={epochs}")
        }
        Some(e) => Some((
            e,
            c.accuracy
                .last()
                .and_then(|s| s.values.get(e - 1))
                .copied()
                .filter(|v| v.is_finite()),
        )),
        None => None,
    };
    // One colour per name, the same in both panels.
    let mut names: Vec<&str> = Vec::new();
    for s in c.loss.iter().chain(c.accuracy) {
        if !names.contains(&s.name) {
            names.push(s.name);
        }
    }
    let colour = |name: &str| PALETTE[names.iter().position(|n| *n == name).unwrap_or(0) % 10];
    let panels = usize::from(has_loss) + usize::from(has_accuracy);
    let title_h = if c.title.is_empty() { 0 } else { 40 };
    let size = (600 * panels as u32, 460 + title_h);
    fonts()?;
    draw(path, size, |root| {
        root.fill(&WHITE)?;
        let body = if c.title.is_empty() {
            root.clone()
        } else {
            root.titled(c.title, (FAMILY, TITLE_SIZE))?
        };
        let areas = body.split_evenly((1, panels));
        let mut areas = areas.iter();
        let x_max = epochs.max(2) as u32;
        if has_loss {
            let area = areas.next().ok_or("no panel")?;
            let lines: Vec<PanelLine<'_>> = c
                .loss
                .iter()
                .map(|s| PanelLine {
                    name: s.name,
                    colour: colour(s.name),
                    points: epoch_points(s.values, 1.0, c.log_loss),
                })
                .collect();
            let (lo, hi) =
                value_span(lines.iter().flat_map(|l| &l.points).map(|p| p.1)).ok_or("no loss")?;
            let spec = Panel {
                x_label: "epoch",
                y_label: "loss",
                lines: &lines,
                best: best.map(|b| (b.0, None)),
                log_y: c.log_loss,
                y_decimals: None,
            };
            if c.log_loss {
                let (lo, hi) = log_span(lo, hi);
                let chart = panel_chart(area, 1..x_max, (lo..hi).log_scale())?;
                draw_panel(chart, &spec)?;
            } else {
                let (lo, hi) = pad_span(lo, hi, None);
                let chart = panel_chart(area, 1..x_max, lo..hi)?;
                draw_panel(chart, &spec)?;
            }
        }
        if has_accuracy {
            let area = areas.next().ok_or("no panel")?;
            let lines: Vec<PanelLine<'_>> = c
                .accuracy
                .iter()
                .map(|s| PanelLine {
                    name: s.name,
                    colour: colour(s.name),
                    points: epoch_points(s.values, 100.0, false),
                })
                .collect();
            let (lo, hi) = value_span(lines.iter().flat_map(|l| &l.points).map(|p| p.1))
                .ok_or("no accuracy")?;
            let (lo, hi) = pad_span(lo, hi, Some((0.0, 100.0)));
            let chart = panel_chart(area, 1..x_max, lo..hi)?;
            draw_panel(
                chart,
                &Panel {
                    x_label: "epoch",
                    y_label: "accuracy (%)",
                    lines: &lines,
                    best: best.map(|(e, v)| (e, v.map(|v| 100.0 * v))),
                    log_y: false,
                    y_decimals: Some(if hi - lo > 5.0 { 0 } else { 1 }),
                },
            )?;
        }
        Ok(())
    })
}

/// One curve of [`lines`].
#[derive(Clone, Copy, Debug)]
pub struct Line<'a> {
    /// The name in the legend; curves with an empty name, or with the name
    /// of an earlier curve, add no legend entry.
    pub name: &'a str,
    /// The points `(x, y)`, joined in order; non-finite points are left out.
    pub points: &'a [(f64, f64)],
    /// The colour, e.g. from [`PALETTE`].
    pub colour: RGBColor,
}

/// The axes of [`lines`].
#[derive(Clone, Copy, Debug, Default)]
pub struct Axes<'a> {
    /// The title above the plot (none if empty).
    pub title: &'a str,
    /// The title of the x axis, with its unit.
    pub x_label: &'a str,
    /// The title of the y axis, with its unit.
    pub y_label: &'a str,
    /// The y range; from the data if `None`.
    pub y_range: Option<(f64, f64)>,
}

/// Draws curves `y(x)` on labelled axes with a legend. Written to `path`
/// (PNG, 800 × 520).
///
/// ```
/// use dam_std::plot::{Axes, Line, PALETTE, lines};
/// # fn main() -> anyhow::Result<()> {
/// let dir = tempfile::tempdir()?;
/// let (a, b) = ([(0.0, 1.0), (1.0, 0.5), (2.0, 0.2)], [(0.0, 0.8), (2.0, 0.1)]);
/// lines(
///     &dir.path().join("lines.png"),
///     &[
///         Line { name: "β = 1", points: &a, colour: PALETTE[0] },
///         Line { name: "β = 2", points: &b, colour: PALETTE[1] },
///     ],
///     &Axes { title: "", x_label: "log₁₀ Y", y_label: "error", y_range: None },
/// )?;
/// # Ok(())
/// # }
/// ```
pub fn lines(path: &Path, curves: &[Line<'_>], axes: &Axes<'_>) -> Result<()> {
    let finite = |p: &&(f64, f64)| p.0.is_finite() && p.1.is_finite();
    let points: Vec<Vec<(f64, f64)>> = curves
        .iter()
        .map(|l| l.points.iter().filter(finite).copied().collect())
        .collect();
    let (x_lo, x_hi) = value_span(points.iter().flatten().map(|p| p.0))
        .ok_or_else(|| anyhow!("lines: no finite point to draw"))?;
    let (y_lo, y_hi) = match axes.y_range {
        Some((lo, hi)) if lo.is_finite() && hi.is_finite() && lo < hi => (lo, hi),
        Some((lo, hi)) => bail!("lines: empty y range {lo}..{hi}"),
        None => {
            let (lo, hi) = value_span(points.iter().flatten().map(|p| p.1))
                .ok_or_else(|| anyhow!("lines: no finite point to draw"))?;
            pad_span(lo, hi, None)
        }
    };
    let (x_lo, x_hi) = if x_lo < x_hi {
        (x_lo, x_hi)
    } else {
        (x_lo - 1.0, x_hi + 1.0)
    };
    let mut seen: Vec<&str> = Vec::new();
    let panel_lines: Vec<PanelLine<'_>> = curves
        .iter()
        .zip(points)
        .map(|(l, points)| {
            let named = !l.name.is_empty() && !seen.contains(&l.name);
            if named {
                seen.push(l.name);
            }
            PanelLine {
                name: if named { l.name } else { "" },
                colour: l.colour,
                points,
            }
        })
        .collect();
    fonts()?;
    draw(path, (800, 520), |root| {
        root.fill(&WHITE)?;
        let body = if axes.title.is_empty() {
            root.clone()
        } else {
            root.titled(axes.title, (FAMILY, TITLE_SIZE))?
        };
        let chart = panel_chart(&body, x_lo..x_hi, y_lo..y_hi)?;
        draw_panel(
            chart,
            &Panel {
                x_label: axes.x_label,
                y_label: axes.y_label,
                lines: &panel_lines,
                best: None,
                log_y: false,
                y_decimals: None,
            },
        )
    })
}

/// Draws `k` memories of `d` features each (row-major in `memories`) as a
/// `k × d` heatmap: one row per memory, one column per feature, blue–white–red
/// for `[−1, 1]` ([`bwr`]; values beyond are clamped, non-finite ones grey),
/// with axis titles and a colour bar. Cells are square and up to 32 pixels;
/// beyond 900 features or 700 memories, the heatmap shows evenly spaced
/// features or memories. Written to `path` (PNG).
///
/// ```
/// # fn main() -> anyhow::Result<()> {
/// let dir = tempfile::tempdir()?;
/// let memories: Vec<f32> = (0..20 * 4).map(|i| ((i % 7) as f32 - 3.0) / 3.0).collect();
/// dam_std::plot::memory_heatmap(&dir.path().join("memories.png"), &memories, (20, 4), "memories")?;
/// # Ok(())
/// # }
/// ```
pub fn memory_heatmap(
    path: &Path,
    memories: &[f32],
    (k, d): (usize, usize),
    title: &str,
) -> Result<()> {
    if k == 0 || d == 0 {
        bail!("memory heatmap: no memories ({k}×{d})");
    }
    if k.checked_mul(d) != Some(memories.len()) {
        bail!(
            "memory heatmap: {} values are not {k} memories of {d} features",
            memories.len()
        );
    }
    let cell = (900 / d).min(700 / k).clamp(1, 32);
    let plot = ((d * cell).min(900), (k * cell).min(700));
    let colour = |r: usize, c: usize| value_colour(memories[r * d + c]);
    grid_figure(
        path,
        &Grid {
            title,
            rows: k,
            cols: d,
            plot,
            colour: &colour,
            x_label: "feature",
            y_label: "memory",
            x_ticks: index_ticks(d, if cell >= 24 { d } else { plot.0 / 50 }),
            y_ticks: index_ticks(k, if cell >= 16 { k } else { plot.1 / 40 }),
            rotate_x_ticks: false,
            cell_text: None,
            bar: ColourBar {
                label: "value",
                lo: -1.0,
                hi: 1.0,
                colour: &|v| value_colour(v as f32),
                ticks: &[
                    (-1.0, "−1"),
                    (-0.5, "−0.5"),
                    (0.0, "0"),
                    (0.5, "0.5"),
                    (1.0, "1"),
                ],
            },
        },
    )
}

/// Draws a confusion matrix: `matrix[t][p]` examples of true class `t`
/// predicted as `p` (rows true class, columns predicted class), each cell
/// shaded by its share of its row. Up to 20 classes the counts are written
/// in the cells; up to 50 the class names (cut to 12 characters) label the
/// axes. The image stays within about 1300 × 1200 pixels: up to 1000
/// classes a class is at least one pixel, beyond that evenly spaced classes
/// are shown. `class_names` may be empty (the classes are then numbered).
/// Written to `path` (PNG).
///
/// ```
/// # fn main() -> anyhow::Result<()> {
/// let dir = tempfile::tempdir()?;
/// let matrix = vec![vec![50, 2, 0], vec![3, 40, 7], vec![0, 5, 45]];
/// let names: Vec<String> = ["cat", "dog", "bird"].map(String::from).to_vec();
/// dam_std::plot::confusion(&dir.path().join("confusion.png"), &matrix, &names, "test set")?;
/// # Ok(())
/// # }
/// ```
pub fn confusion(
    path: &Path,
    matrix: &[Vec<u64>],
    class_names: &[String],
    title: &str,
) -> Result<()> {
    let n = matrix.len();
    if n == 0 {
        bail!("confusion matrix: no classes");
    }
    if let Some((t, row)) = matrix.iter().enumerate().find(|(_, r)| r.len() != n) {
        bail!(
            "confusion matrix: row {t} has {} columns, not {n}",
            row.len()
        );
    }
    if !class_names.is_empty() && class_names.len() != n {
        bail!(
            "confusion matrix: {} class names for {n} classes",
            class_names.len()
        );
    }
    let totals: Vec<u64> = matrix.iter().map(|r| r.iter().sum()).collect();
    let share = |t: usize, p: usize| {
        if totals[t] == 0 {
            0.0
        } else {
            matrix[t][p] as f64 / totals[t] as f64
        }
    };
    let name = |i: usize| -> String {
        match class_names.get(i) {
            Some(s) => shorten(s, 12),
            None => i.to_string(),
        }
    };
    let cell = (800 / n).clamp(1, 60);
    let side = (n * cell).min(1000);
    let ticks: Vec<(usize, String)> = if n <= 50 {
        (0..n).map(|i| (i, name(i))).collect()
    } else {
        Vec::new()
    };
    let colour = |t: usize, p: usize| blues(share(t, p));
    let text = |t: usize, p: usize| {
        let s = share(t, p);
        let ink = if s > 0.5 { WHITE } else { BLACK };
        (matrix[t][p].to_string(), ink)
    };
    grid_figure(
        path,
        &Grid {
            title,
            rows: n,
            cols: n,
            plot: (side, side),
            colour: &colour,
            x_label: &if n > 50 {
                format!("predicted class ({n} classes)")
            } else {
                "predicted class".into()
            },
            y_label: "true class",
            x_ticks: ticks.clone(),
            y_ticks: ticks,
            rotate_x_ticks: true,
            cell_text: if n <= 20 { Some(&text) } else { None },
            bar: ColourBar {
                label: "share of the true class",
                lo: 0.0,
                hi: 1.0,
                colour: &blues,
                ticks: &[
                    (0.0, "0%"),
                    (0.25, "25%"),
                    (0.5, "50%"),
                    (0.75, "75%"),
                    (1.0, "100%"),
                ],
            },
        },
    )
}

// ---------------------------------------------------------------------------
// Line charts.

type Area<'a> = DrawingArea<BitMapBackend<'a>, Shift>;
type DrawError = Box<dyn std::error::Error>;
type DrawResult = Result<(), DrawError>;
type Chart<'a, 'b, X, Y> = ChartContext<'a, BitMapBackend<'b>, Cartesian2d<X, Y>>;

struct PanelLine<'a> {
    name: &'a str,
    colour: RGBColor,
    points: Vec<(f64, f64)>,
}

struct Panel<'a> {
    x_label: &'a str,
    y_label: &'a str,
    lines: &'a [PanelLine<'a>],
    /// The best epoch, and the value to mark with a dot on it.
    best: Option<(usize, Option<f64>)>,
    /// A logarithmic y axis.
    log_y: bool,
    /// Decimals of the y tick labels (`None`: `plotters`' choice).
    y_decimals: Option<usize>,
}

fn panel_chart<'a, 'b, X: AsRangedCoord, Y: AsRangedCoord>(
    area: &'a Area<'b>,
    x: X,
    y: Y,
) -> Result<Chart<'a, 'b, X::CoordDescType, Y::CoordDescType>, DrawError> {
    Ok(ChartBuilder::on(area)
        .margin(14)
        .margin_right(24)
        .x_label_area_size(50)
        .y_label_area_size(70)
        .build_cartesian_2d(x, y)?)
}

fn draw_panel<'a, 'b: 'a, X, Y>(mut chart: Chart<'a, 'b, X, Y>, p: &Panel<'_>) -> DrawResult
where
    X: Ranged + ValueFormatter<X::ValueType>,
    X::ValueType: FromF64,
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    let y_format = |v: &f64| match p.y_decimals {
        Some(d) => format!("{v:.d$}"),
        // Log axes: powers of ten as 1e-1 … 1e16, short at any range.
        None if p.log_y => format!("{v:.0e}"),
        None => format!("{v}"),
    };
    let (x_lo, x_hi) = {
        let r = chart.x_range();
        (to_f64(&r.start), to_f64(&r.end))
    };
    let mut mesh = chart.configure_mesh();
    if p.y_decimals.is_some() || p.log_y {
        mesh.y_label_formatter(&y_format);
    }
    mesh.x_desc(p.x_label)
        .y_desc(p.y_label)
        .axis_desc_style((FAMILY, AXIS_SIZE))
        .label_style((FAMILY, TICK_SIZE))
        .light_line_style(RGBColor(246, 246, 246))
        .bold_line_style(RGBColor(215, 215, 215))
        .axis_style(BLACK)
        .x_labels(8)
        .y_labels(8)
        .draw()?;
    let (y_lo, y_hi) = {
        let r = chart.y_range();
        (r.start, r.end)
    };
    if let Some((epoch, _)) = p.best {
        let x = X::ValueType::from_f64(epoch as f64);
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(x.clone(), y_lo), (x, y_hi)],
            RGBColor(120, 120, 120).stroke_width(1),
        )))?;
    }
    let mut legend = false;
    for l in p.lines {
        let colour = l.colour;
        let pts: Vec<(X::ValueType, f64)> = l
            .points
            .iter()
            .map(|&(x, y)| (X::ValueType::from_f64(x), y))
            .collect();
        let series = chart.draw_series(LineSeries::new(pts.clone(), colour.stroke_width(2)))?;
        if !l.name.is_empty() {
            legend = true;
            series.label(l.name).legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 24, y)], colour.stroke_width(2))
            });
        }
        if pts.len() <= 30 {
            chart.draw_series(pts.into_iter().map(|p| Circle::new(p, 3, colour.filled())))?;
        }
    }
    if let Some((epoch, Some(value))) = p.best {
        let x = X::ValueType::from_f64(epoch as f64);
        chart
            .draw_series(std::iter::once(Circle::new(
                (x, value),
                6,
                BLACK.stroke_width(2),
            )))?
            .label(format!("best epoch {epoch}: {value:.2}%"))
            .legend(|(x, y)| Circle::new((x + 12, y), 5, BLACK.stroke_width(2)));
        legend = true;
    }
    if legend {
        chart
            .configure_series_labels()
            .position(legend_corner(p, (x_lo, x_hi), (y_lo, y_hi)))
            .margin(12)
            .legend_area_size(34)
            .label_font((FAMILY, LEGEND_SIZE))
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(180, 180, 180))
            .draw()?;
    }
    Ok(())
}

/// The corner of the plot with the fewest points under the legend.
fn legend_corner(
    p: &Panel<'_>,
    (x_lo, x_hi): (f64, f64),
    (y_lo, y_hi): (f64, f64),
) -> SeriesLabelPosition {
    let log_y = p.log_y;
    let scale = |v: f64, lo: f64, hi: f64| {
        if log_y {
            (v.ln() - lo.ln()) / (hi.ln() - lo.ln())
        } else {
            (v - lo) / (hi - lo)
        }
    };
    let corners = [
        (SeriesLabelPosition::UpperRight, true, true),
        (SeriesLabelPosition::LowerRight, true, false),
        (SeriesLabelPosition::UpperLeft, false, true),
        (SeriesLabelPosition::LowerLeft, false, false),
    ];
    let crowd = |right: bool, upper: bool| {
        p.lines
            .iter()
            .flat_map(|l| &l.points)
            .filter(|&&(x, y)| {
                let fx = (x - x_lo) / (x_hi - x_lo);
                let fy = scale(y, y_lo, y_hi);
                let inx = if right { fx > 0.55 } else { fx < 0.45 };
                let iny = if upper { fy > 0.6 } else { fy < 0.4 };
                inx && iny
            })
            .count()
    };
    corners
        .into_iter()
        .min_by_key(|&(_, right, upper)| crowd(right, upper))
        .map_or(SeriesLabelPosition::UpperRight, |c| c.0)
}

/// Numbers that stand for `f64` positions on an axis.
trait FromF64: Clone + 'static {
    fn from_f64(v: f64) -> Self;
    fn to_f64(&self) -> f64;
}

fn to_f64<T: FromF64>(v: &T) -> f64 {
    v.to_f64()
}

impl FromF64 for f64 {
    fn from_f64(v: f64) -> Self {
        v
    }
    fn to_f64(&self) -> f64 {
        *self
    }
}

impl FromF64 for u32 {
    fn from_f64(v: f64) -> Self {
        v.round().clamp(0.0, u32::MAX as f64) as u32
    }
    fn to_f64(&self) -> f64 {
        f64::from(*self)
    }
}

/// `(epoch, scale · value)` for the finite (and, on a log axis, positive)
/// values.
fn epoch_points(values: &[f64], scale: f64, log: bool) -> Vec<(f64, f64)> {
    values
        .iter()
        .enumerate()
        .filter(|(_, v)| v.is_finite() && (!log || **v > 0.0))
        .map(|(i, &v)| ((i + 1) as f64, scale * v))
        .collect()
}

/// The smallest and largest finite value.
fn value_span(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    values
        .filter(|v| v.is_finite())
        .fold(None, |acc, v| match acc {
            None => Some((v, v)),
            Some((lo, hi)) => Some((f64::min(lo, v), f64::max(hi, v))),
        })
}

/// `lo..hi` widened by 5% each side (1 unit if empty), kept within `limit`.
fn pad_span(lo: f64, hi: f64, limit: Option<(f64, f64)>) -> (f64, f64) {
    let pad = if hi > lo {
        0.05 * (hi - lo)
    } else {
        0.05 * lo.abs().max(1.0)
    };
    let (mut lo, mut hi) = (lo - pad, hi + pad);
    if let Some((min, max)) = limit {
        lo = lo.max(min);
        hi = hi.min(max);
        if hi <= lo {
            (lo, hi) = (min, max);
        }
    }
    (lo, hi)
}

/// A positive `lo..hi` widened by a few percent on a log axis.
fn log_span(lo: f64, hi: f64) -> (f64, f64) {
    if hi > lo {
        let r = (hi / lo).powf(0.05);
        (lo / r, hi * r)
    } else {
        (lo / 2.0, hi * 2.0)
    }
}

// ---------------------------------------------------------------------------
// Heatmaps.

struct ColourBar<'a> {
    label: &'a str,
    lo: f64,
    hi: f64,
    colour: &'a dyn Fn(f64) -> RGBColor,
    ticks: &'a [(f64, &'a str)],
}

struct Grid<'a> {
    title: &'a str,
    rows: usize,
    cols: usize,
    /// The size of the heatmap in pixels.
    plot: (usize, usize),
    colour: &'a dyn Fn(usize, usize) -> RGBColor,
    x_label: &'a str,
    y_label: &'a str,
    x_ticks: Vec<(usize, String)>,
    y_ticks: Vec<(usize, String)>,
    /// Vertical x tick labels when they do not fit side by side.
    rotate_x_ticks: bool,
    cell_text: Option<&'a dyn Fn(usize, usize) -> (String, RGBColor)>,
    bar: ColourBar<'a>,
}

/// Ticks at `0, step, 2·step, …` with a 1-2-5 step, at most `max` of them.
fn index_ticks(n: usize, max: usize) -> Vec<(usize, String)> {
    let max = max.max(2);
    let mut step = 1;
    for m in [1, 2, 5].iter().cycle().scan(1usize, |scale, &m| {
        let s = m * *scale;
        if m == 5 {
            *scale *= 10;
        }
        Some(s)
    }) {
        step = m;
        if n.div_ceil(step) <= max {
            break;
        }
    }
    (0..n).step_by(step).map(|i| (i, i.to_string())).collect()
}

/// `s` cut to `max` characters with an ellipsis.
fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max - 1).collect();
        t.push('…');
        t
    }
}

/// White to dark blue for a share in `[0, 1]`.
fn blues(x: f64) -> RGBColor {
    let x = if x.is_finite() {
        x.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let mix = |a: f64, b: f64| (a + (b - a) * x).round() as u8;
    RGBColor(mix(247.0, 8.0), mix(251.0, 48.0), mix(255.0, 107.0))
}

/// [`bwr`] as a colour; grey for non-finite values.
fn value_colour(v: f32) -> RGBColor {
    if v.is_finite() {
        let (r, g, b) = bwr(v);
        RGBColor(r, g, b)
    } else {
        RGBColor(160, 160, 160)
    }
}

fn grid_figure(path: &Path, g: &Grid<'_>) -> Result<()> {
    fonts()?;
    let (pw, ph) = (g.plot.0.max(1) as i32, g.plot.1.max(1) as i32);
    let title_font = (FAMILY, TITLE_SIZE).into_font();
    let axis_font = (FAMILY, AXIS_SIZE).into_font();
    let tick_font = (FAMILY, TICK_SIZE).into_font();
    // Text extents, measured before the image exists.
    let measure = |s: &str, f: &FontDesc<'_>| -> (i32, i32) {
        f.box_size(s)
            .map(|(w, h)| (w as i32, h as i32))
            .unwrap_or((8 * s.len() as i32, 16))
    };
    let line = measure("Mg", &tick_font).1.max(1);
    let axis_h = measure("Mg", &axis_font).1;
    let y_tick_w = g
        .y_ticks
        .iter()
        .map(|t| measure(&t.1, &tick_font).0)
        .max()
        .unwrap_or(0);
    let x_tick_w = g
        .x_ticks
        .iter()
        .map(|t| measure(&t.1, &tick_font).0)
        .max()
        .unwrap_or(0);
    let spacing = if g.x_ticks.is_empty() {
        f64::INFINITY
    } else {
        pw as f64 / g.cols as f64
            * g.x_ticks
                .windows(2)
                .map(|w| w[1].0 - w[0].0)
                .min()
                .unwrap_or(g.cols) as f64
    };
    let rotate = g.rotate_x_ticks && (x_tick_w + 6) as f64 > spacing;
    let x_tick_h = if g.x_ticks.is_empty() {
        0
    } else if rotate {
        x_tick_w
    } else {
        line
    };
    let tick_len = 5;
    let pad = 12;
    let title_h = if g.title.is_empty() {
        0
    } else {
        measure(g.title, &title_font).1 + pad
    };
    let bar_tick_w = g
        .bar
        .ticks
        .iter()
        .map(|t| measure(t.1, &tick_font).0)
        .max()
        .unwrap_or(0);
    let left = pad + axis_h + pad + y_tick_w + tick_len + 4;
    let top = pad + title_h;
    let bar_w = 18;
    let right = 24 + bar_w + tick_len + 4 + bar_tick_w + pad + axis_h + pad;
    let bottom = tick_len + 4 + x_tick_h + pad + axis_h + pad;
    let bar_h = ph.max(160);
    let width = (left + pw + right)
        .max(measure(g.title, &title_font).0 + 2 * pad)
        .max(left + measure(g.x_label, &axis_font).0 + right);
    let height = top + ph.max(bar_h) + bottom;
    let body_h = ph.max(bar_h);
    draw(path, (width as u32, height as u32), |root| {
        root.fill(&WHITE)?;
        let text = |s: &str, font: &FontDesc<'_>, at: (i32, i32), pos: Pos, rot: bool| {
            let mut style = TextStyle::from(font.clone()).pos(pos);
            if rot {
                style = style.transform(FontTransform::Rotate270);
            }
            root.draw_text(s, &style, at)
        };
        let centre = |h, v| Pos::new(h, v);
        if !g.title.is_empty() {
            text(
                g.title,
                &title_font,
                (width / 2, pad),
                centre(HPos::Center, VPos::Top),
                false,
            )?;
        }
        // The heatmap, pixel by pixel (nearest cell): exact for any size.
        let (x0, y0) = (left, top + (body_h - ph) / 2);
        for py in 0..ph {
            let r = (py as usize * g.rows) / ph as usize;
            for px in 0..pw {
                let c = (px as usize * g.cols) / pw as usize;
                root.draw_pixel((x0 + px, y0 + py), &(g.colour)(r, c))?;
            }
        }
        root.draw(&Rectangle::new(
            [(x0 - 1, y0 - 1), (x0 + pw, y0 + ph)],
            BLACK.stroke_width(1),
        ))?;
        if let Some(cell_text) = g.cell_text {
            let cw = pw as f64 / g.cols as f64;
            let chh = ph as f64 / g.rows as f64;
            let size = (0.32 * cw.min(chh)).clamp(8.0, 16.0);
            let font = (FAMILY, size).into_font();
            for r in 0..g.rows {
                for c in 0..g.cols {
                    let (s, ink) = cell_text(r, c);
                    if measure(&s, &font).0 as f64 > cw - 4.0 {
                        continue;
                    }
                    let at = (
                        x0 + ((c as f64 + 0.5) * cw) as i32,
                        y0 + ((r as f64 + 0.5) * chh) as i32,
                    );
                    let style = TextStyle::from(font.clone())
                        .color(&ink)
                        .pos(centre(HPos::Center, VPos::Center));
                    root.draw_text(&s, &style, at)?;
                }
            }
        }
        // Ticks at cell centres.
        for (i, label) in &g.x_ticks {
            let x = x0 + ((*i as f64 + 0.5) * pw as f64 / g.cols as f64) as i32;
            root.draw(&PathElement::new(
                vec![(x, y0 + ph), (x, y0 + ph + tick_len)],
                BLACK,
            ))?;
            if rotate {
                text(
                    label,
                    &tick_font,
                    (x - line / 2, y0 + ph + tick_len + 4),
                    centre(HPos::Right, VPos::Top),
                    true,
                )?;
            } else {
                text(
                    label,
                    &tick_font,
                    (x, y0 + ph + tick_len + 4),
                    centre(HPos::Center, VPos::Top),
                    false,
                )?;
            }
        }
        for (i, label) in &g.y_ticks {
            let y = y0 + ((*i as f64 + 0.5) * ph as f64 / g.rows as f64) as i32;
            root.draw(&PathElement::new(vec![(x0 - tick_len, y), (x0, y)], BLACK))?;
            text(
                label,
                &tick_font,
                (x0 - tick_len - 4, y),
                centre(HPos::Right, VPos::Center),
                false,
            )?;
        }
        // Axis titles.
        text(
            g.x_label,
            &axis_font,
            (x0 + pw / 2, y0 + ph + tick_len + 4 + x_tick_h + pad),
            centre(HPos::Center, VPos::Top),
            false,
        )?;
        text(
            g.y_label,
            &axis_font,
            (pad, y0 + ph / 2),
            centre(HPos::Center, VPos::Top),
            true,
        )?;
        // The colour bar.
        let bx = x0 + pw + 24;
        let by = top + (body_h - bar_h) / 2;
        for py in 0..bar_h {
            let v = g.bar.hi - (g.bar.hi - g.bar.lo) * (py as f64 + 0.5) / bar_h as f64;
            let colour = (g.bar.colour)(v);
            root.draw(&PathElement::new(
                vec![(bx, by + py), (bx + bar_w - 1, by + py)],
                colour,
            ))?;
        }
        root.draw(&Rectangle::new(
            [(bx - 1, by - 1), (bx + bar_w, by + bar_h)],
            BLACK.stroke_width(1),
        ))?;
        for &(v, label) in g.bar.ticks {
            let y = by + ((g.bar.hi - v) / (g.bar.hi - g.bar.lo) * (bar_h - 1) as f64) as i32;
            root.draw(&PathElement::new(
                vec![(bx + bar_w, y), (bx + bar_w + tick_len, y)],
                BLACK,
            ))?;
            text(
                label,
                &tick_font,
                (bx + bar_w + tick_len + 4, y),
                centre(HPos::Left, VPos::Center),
                false,
            )?;
        }
        text(
            g.bar.label,
            &axis_font,
            (bx + bar_w + tick_len + 4 + bar_tick_w + pad, by + bar_h / 2),
            centre(HPos::Center, VPos::Top),
            true,
        )?;
        Ok(())
    })
}

// ---------------------------------------------------------------------------
// Files and fonts.

/// Registers the bundled font (once).
fn fonts() -> Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED
        .get_or_init(|| plotters::style::register_font(FAMILY, FontStyle::Normal, FONT).is_ok());
    if ok {
        Ok(())
    } else {
        bail!("the bundled font DejaVuSans.ttf does not load")
    }
}

fn draw(path: &Path, size: (u32, u32), body: impl FnOnce(&Area<'_>) -> DrawResult) -> Result<()> {
    // Draw into a temporary file beside the target, then rename: no
    // half-written PNG on failure.
    let tmp = crate::model_io::temporary_beside(path, ".png")?;
    {
        let root = BitMapBackend::new(tmp.path(), size).into_drawing_area();
        body(&root).map_err(|e| anyhow!("cannot draw {}: {e}", path.display()))?;
        root.present()
            .map_err(|e| anyhow!("cannot write {}: {e}", path.display()))?;
    }
    crate::model_io::persist(tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decodes a PNG into its size and RGB(A) pixels, after checking the
    /// signature and that it is more than a blank header.
    fn decode(path: &Path) -> (u32, u32, usize, Vec<u8>) {
        let bytes = std::fs::read(path).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{}", path.display());
        assert!(
            bytes.len() > 1000,
            "{}: {} bytes",
            path.display(),
            bytes.len()
        );
        let mut reader = png::Decoder::new(&bytes[..]).read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buf).unwrap();
        buf.truncate(info.buffer_size());
        (info.width, info.height, info.color_type.samples(), buf)
    }

    fn count(pixels: &(u32, u32, usize, Vec<u8>), colour: RGBColor) -> usize {
        pixels
            .3
            .chunks_exact(pixels.2)
            .filter(|p| p[..3] == [colour.0, colour.1, colour.2])
            .count()
    }

    #[test]
    fn curves_draw_two_panels_and_check_inputs() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("curves.png");
        let loss = [1.0, 0.5, f64::NAN, 0.2];
        let (train, test) = ([0.5, 0.7, 0.8, 0.9], [0.4, 0.6, 0.75, 0.7]);
        let c = Curves {
            title: "run",
            loss: &[Series {
                name: "train",
                values: &loss,
            }],
            accuracy: &[
                Series {
                    name: "train",
                    values: &train,
                },
                Series {
                    name: "test",
                    values: &test,
                },
            ],
            log_loss: true,
            best_epoch: Some(3),
        };
        curves(&path, &c).unwrap();
        let png = decode(&path);
        assert_eq!((png.0, png.1), (1200, 500));
        // The series colours are drawn.
        assert!(count(&png, PALETTE[0]) > 100 && count(&png, PALETTE[1]) > 100);
        // One panel only when there is no loss.
        curves(&path, &Curves { loss: &[], ..c }).unwrap();
        assert_eq!(decode(&path).0, 600);
        // Bad inputs are errors, not panics.
        assert!(curves(&path, &Curves::default()).is_err());
        assert!(
            curves(
                &path,
                &Curves {
                    best_epoch: Some(0),
                    ..c
                }
            )
            .is_err()
        );
        assert!(
            curves(
                &path,
                &Curves {
                    best_epoch: Some(5),
                    ..c
                }
            )
            .is_err()
        );
        let percent = [50.0, 70.0];
        let bad = [Series {
            name: "test",
            values: &percent,
        }];
        assert!(
            curves(
                &path,
                &Curves {
                    accuracy: &bad,
                    ..c
                }
            )
            .is_err()
        );
        let nan = [f64::NAN; 3];
        let none = [Series {
            name: "train",
            values: &nan,
        }];
        assert!(
            curves(
                &path,
                &Curves {
                    loss: &none,
                    accuracy: &none,
                    best_epoch: None,
                    ..c
                }
            )
            .is_err()
        );
        // Non-positive losses on a log axis are left out.
        let zero = [0.0, -1.0, 0.5];
        let loss = [Series {
            name: "train",
            values: &zero,
        }];
        curves(&path, &Curves { loss: &loss, ..c }).unwrap();
    }

    #[test]
    fn lines_draw_and_check_inputs() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lines.png");
        let a = [(0.0, 1.0), (1.0, f64::INFINITY), (2.0, 3.0)];
        let single = [(1.0, 1.0)];
        let axes = Axes {
            title: "t",
            x_label: "x (s)",
            y_label: "y (m)",
            y_range: None,
        };
        let curve = |points| Line {
            name: "a",
            points,
            colour: PALETTE[3],
        };
        lines(&path, &[curve(&a)], &axes).unwrap();
        let png = decode(&path);
        assert_eq!((png.0, png.1), (800, 520));
        assert!(count(&png, PALETTE[3]) > 100);
        lines(&path, &[curve(&single)], &axes).unwrap();
        assert!(lines(&path, &[], &axes).is_err());
        assert!(lines(&path, &[curve(&[(f64::NAN, 1.0)])], &axes).is_err());
        let flipped = Axes {
            y_range: Some((1.0, 0.0)),
            ..axes
        };
        assert!(lines(&path, &[curve(&a)], &flipped).is_err());
    }

    #[test]
    fn memory_heatmap_small_and_large() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("heat.png");
        let small: Vec<f32> = (0..20 * 4).map(|i| (i % 3) as f32 - 1.0).collect();
        memory_heatmap(&path, &small, (20, 4), "small").unwrap();
        let png = decode(&path);
        assert!(count(&png, RGBColor(255, 0, 0)) > 20 * 20);
        assert!(count(&png, RGBColor(0, 0, 255)) > 20 * 20);
        let mut large = vec![0.5f32; 2000 * 800];
        large[7] = f32::NAN;
        memory_heatmap(&path, &large, (2000, 800), "large").unwrap();
        let png = decode(&path);
        assert!(png.0 <= 1200 && png.1 <= 1000, "{}×{}", png.0, png.1);
        assert!(memory_heatmap(&path, &small, (20, 5), "").is_err());
        assert!(memory_heatmap(&path, &[], (0, 4), "").is_err());
        assert!(memory_heatmap(&path, &small, (usize::MAX, 2), "").is_err());
    }

    #[test]
    fn confusion_shades_the_diagonal() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("confusion.png");
        let names: Vec<String> = ["a", "a very long class name"].map(String::from).to_vec();
        confusion(&path, &[vec![10, 0], vec![0, 10]], &names, "t").unwrap();
        let png = decode(&path);
        // Full diagonal cells are dark, empty cells near white.
        let (full, empty) = (count(&png, blues(1.0)), count(&png, blues(0.0)));
        assert!(full > 1000 && empty > 1000, "{full} {empty}");
        assert_ne!(blues(1.0), blues(0.0));
        // An empty row draws, and many classes stay within the size cap.
        confusion(&path, &[vec![0, 0], vec![1, 2]], &[], "").unwrap();
        for n in [30, 1000] {
            let m: Vec<Vec<u64>> = (0..n)
                .map(|t| (0..n).map(|p| u64::from(t == p)).collect())
                .collect();
            confusion(&path, &m, &[], "").unwrap();
            let png = decode(&path);
            assert!(png.0 <= 1400 && png.1 <= 1300, "{n}: {}×{}", png.0, png.1);
        }
        assert!(confusion(&path, &[], &[], "").is_err());
        assert!(confusion(&path, &[vec![1, 2], vec![3]], &[], "").is_err());
        assert!(confusion(&path, &[vec![1]], &names, "").is_err());
    }

    #[test]
    fn memory_grid_draws_tiles_and_checks_shapes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("grid.png");
        let images: Vec<f32> = (0..6 * 28 * 28)
            .map(|i| (i % 2) as f32 * 2.0 - 1.0)
            .collect();
        memory_grid(&path, &images, (28, 28), 3, 2).unwrap();
        let png = decode(&path);
        assert_eq!((png.0, png.1), (3 * 58 + 2, 2 * 58 + 2));
        assert!(memory_grid(&path, &images, (28, 27), 3, 2).is_err());
        assert!(memory_grid(&path, &[], (28, 28), 3, 2).is_err());
        assert!(memory_grid(&path, &images, (28, 28), 0, 2).is_err());
    }

    #[test]
    fn ticks_and_names() {
        assert_eq!(index_ticks(4, 4).len(), 4);
        let t = index_ticks(2000, 10);
        assert_eq!((t.len(), t[1].0), (10, 200));
        assert_eq!(shorten("abcdef", 4), "abc…");
        assert_eq!(shorten("abc", 4), "abc");
    }
}
