//! Labelled figures for the experiments: axes with ticks and titles, drawn
//! with `plotters` and a font shipped in the repository (a subset of DejaVu
//! Sans, see `std-ext/assets/fonts/`), so a fresh clone draws the same PNG
//! on any machine.

use std::path::Path;
use std::sync::Once;

use anyhow::{Result, anyhow};
use plotters::prelude::*;
use plotters::style::FontStyle;

/// DejaVu Sans cut down to ASCII, Greek, `−·×≈√²³⁻` and a few arrows.
const FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-subset.ttf");
/// The family name every text style below uses.
const FAMILY: &str = "sans-serif";

/// Line colours, cycled (the matplotlib "tab10" palette).
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

fn register_font() -> Result<()> {
    static ONCE: Once = Once::new();
    let mut result = Ok(());
    ONCE.call_once(|| {
        result = plotters::style::register_font(FAMILY, FontStyle::Normal, FONT)
            .map_err(|_| anyhow!("the embedded font does not parse"));
    });
    result
}

/// One line of a [`LogLogChart`]: points, colour, dashed or solid, legend.
#[derive(Debug, Clone)]
pub struct Line {
    /// `(x, y)`, both `> 0`.
    pub points: Vec<(f64, f64)>,
    /// Colour.
    pub colour: RGBColor,
    /// Drawn thin without markers (a reference slope) rather than with markers.
    pub reference: bool,
    /// Legend entry.
    pub label: String,
}

/// A log–log chart with titled axes and a legend.
#[derive(Debug, Clone)]
pub struct LogLogChart {
    /// Title above the plot.
    pub title: String,
    /// Horizontal axis title.
    pub x_label: String,
    /// Vertical axis title.
    pub y_label: String,
    /// The lines.
    pub lines: Vec<Line>,
    /// Base of the horizontal axis' ticks (2: 16, 32, 64 …; 10: 1000, 10000 …).
    pub x_base: f64,
    /// Where the legend goes.
    pub legend: SeriesLabelPosition,
}

/// A tick label: whole numbers from 1 up, one significant digit in
/// scientific notation below.
fn tick(v: f64) -> String {
    if v >= 1.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.0e}")
    }
}

impl LogLogChart {
    /// Draws the chart into `path` (PNG, `size` pixels).
    ///
    /// ```
    /// use dam_std::experiments::figure::{Line, LogLogChart, PALETTE};
    /// let dir = tempfile::tempdir()?;
    /// let chart = LogLogChart {
    ///     title: "y = x²".into(),
    ///     x_label: "x".into(),
    ///     y_label: "y".into(),
    ///     lines: vec![Line {
    ///         points: vec![(1.0, 1.0), (10.0, 100.0)],
    ///         colour: PALETTE[0],
    ///         reference: false,
    ///         label: "square".into(),
    ///     }],
    ///     x_base: 10.0,
    ///     legend: plotters::chart::SeriesLabelPosition::UpperLeft,
    /// };
    /// chart.draw(&dir.path().join("c.png"), (400, 300))?;
    /// # Ok::<(), anyhow::Error>(())
    /// ```
    pub fn draw(&self, path: &Path, size: (u32, u32)) -> Result<()> {
        let points = self.lines.iter().flat_map(|l| l.points.iter());
        let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
        for &(x, y) in points.filter(|(x, y)| *x > 0.0 && *y > 0.0) {
            (x0, x1, y0, y1) = (x0.min(x), x1.max(x), y0.min(y), y1.max(y));
        }
        if x0 > x1 {
            (x0, x1, y0, y1) = (1.0, 10.0, 1.0, 10.0);
        }
        let x_range = (x0 / 1.2)..(x1 * 1.2);
        let y_range = (y0 / 1.5)..(y1 * 1.5);
        render(path, size, |root| {
            let mut chart = ChartBuilder::on(root)
                .caption(&self.title, (FAMILY, 20))
                .margin(10)
                .x_label_area_size(45)
                .y_label_area_size(60)
                .build_cartesian_2d(x_range.log_scale().base(self.x_base), y_range.log_scale())?;
            chart
                .configure_mesh()
                .x_labels(7)
                .x_label_formatter(&|x| tick(*x))
                .y_label_formatter(&|y| tick(*y))
                .x_desc(&self.x_label)
                .y_desc(&self.y_label)
                .label_style((FAMILY, 14))
                .axis_desc_style((FAMILY, 16))
                .light_line_style(RGBColor(235, 235, 235))
                .draw()?;
            for line in &self.lines {
                let colour = line.colour;
                let width = if line.reference { 1 } else { 2 };
                chart
                    .draw_series(LineSeries::new(
                        line.points.iter().copied(),
                        colour.stroke_width(width),
                    ))?
                    .label(&line.label)
                    .legend(move |(x, y)| {
                        PathElement::new([(x, y), (x + 20, y)], colour.stroke_width(width))
                    });
                if !line.reference {
                    chart.draw_series(
                        line.points
                            .iter()
                            .map(|&p| Circle::new(p, 3, colour.filled())),
                    )?;
                }
            }
            chart
                .configure_series_labels()
                .position(self.legend.clone())
                .label_font((FAMILY, 13))
                .background_style(WHITE.mix(0.85))
                .border_style(RGBColor(180, 180, 180))
                .draw()?;
            Ok(())
        })
    }
}

/// One panel of a [`Heatmaps`] figure: `values[row][col]`, `NaN` for a
/// missing cell.
#[derive(Debug, Clone)]
pub struct Panel {
    /// Title above the panel.
    pub title: String,
    /// The values, one inner vector per row (bottom row first).
    pub values: Vec<Vec<f64>>,
}

/// A grid of heatmaps sharing axes and one colour scale (dark = low).
#[derive(Debug, Clone)]
pub struct Heatmaps {
    /// Title of the whole figure.
    pub title: String,
    /// Labels of the columns (horizontal axis).
    pub col_labels: Vec<String>,
    /// Labels of the rows (vertical axis, bottom first).
    pub row_labels: Vec<String>,
    /// Horizontal axis title.
    pub x_label: String,
    /// Vertical axis title.
    pub y_label: String,
    /// Values mapped to the ends of the colour scale.
    pub range: (f64, f64),
    /// Title of the colour bar.
    pub bar_label: String,
    /// Panels per row of the figure.
    pub columns: usize,
    /// The panels.
    pub panels: Vec<Panel>,
}

/// The colour of `t ∈ [0, 1]` on a dark-blue → teal → yellow scale (close
/// to viridis), grey for `NaN`.
///
/// ```
/// use dam_std::experiments::figure::scale_colour;
/// assert_eq!(scale_colour(0.0), plotters::style::RGBColor(68, 1, 84));
/// assert_eq!(scale_colour(1.0), plotters::style::RGBColor(253, 231, 37));
/// ```
pub fn scale_colour(t: f64) -> RGBColor {
    const STOPS: [(f64, f64, f64); 5] = [
        (68.0, 1.0, 84.0),
        (59.0, 82.0, 139.0),
        (33.0, 145.0, 140.0),
        (94.0, 201.0, 98.0),
        (253.0, 231.0, 37.0),
    ];
    if t.is_nan() {
        return RGBColor(160, 160, 160);
    }
    let x = t.clamp(0.0, 1.0) * (STOPS.len() - 1) as f64;
    let i = (x.floor() as usize).min(STOPS.len() - 2);
    let f = x - i as f64;
    let (a, b) = (STOPS[i], STOPS[i + 1]);
    let mix = |p: f64, q: f64| (p + (q - p) * f).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

impl Heatmaps {
    /// Draws the panels into `path` (PNG), each panel `panel` pixels, with a
    /// colour bar under them.
    ///
    /// ```
    /// use dam_std::experiments::figure::{Heatmaps, Panel};
    /// let dir = tempfile::tempdir()?;
    /// let maps = Heatmaps {
    ///     title: "demo".into(),
    ///     col_labels: vec!["a".into(), "b".into()],
    ///     row_labels: vec!["1".into()],
    ///     x_label: "x".into(),
    ///     y_label: "y".into(),
    ///     range: (0.0, 1.0),
    ///     bar_label: "value".into(),
    ///     columns: 1,
    ///     panels: vec![Panel { title: "p".into(), values: vec![vec![0.2, f64::NAN]] }],
    /// };
    /// maps.draw(&dir.path().join("h.png"), (300, 200))?;
    /// # Ok::<(), anyhow::Error>(())
    /// ```
    pub fn draw(&self, path: &Path, panel: (u32, u32)) -> Result<()> {
        let cols = self.columns.max(1);
        let rows = self.panels.len().div_ceil(cols).max(1);
        let (title_h, bar_h) = (40u32, 70u32);
        let size = (
            panel.0 * cols as u32,
            title_h + panel.1 * rows as u32 + bar_h,
        );
        let (lo, hi) = self.range;
        let span = if hi > lo { hi - lo } else { 1.0 };
        render(path, size, |root| {
            let root = root.titled(&self.title, (FAMILY, 20))?;
            let (grid, bar) = root.split_vertically(panel.1 * rows as u32);
            let n_cols = self.col_labels.len();
            let n_rows = self.row_labels.len();
            for (area, p) in grid.split_evenly((rows, cols)).iter().zip(&self.panels) {
                let mut chart = ChartBuilder::on(area)
                    .caption(&p.title, (FAMILY, 16))
                    .margin(6)
                    .x_label_area_size(42)
                    .y_label_area_size(52)
                    // A segmented `0..k` has k + 1 segments.
                    .build_cartesian_2d(
                        (0..n_cols.saturating_sub(1)).into_segmented(),
                        (0..n_rows.saturating_sub(1)).into_segmented(),
                    )?;
                let col_label = |v: &SegmentValue<usize>| match v {
                    SegmentValue::CenterOf(i) => {
                        self.col_labels.get(*i).cloned().unwrap_or_default()
                    }
                    _ => String::new(),
                };
                let row_label = |v: &SegmentValue<usize>| match v {
                    SegmentValue::CenterOf(i) => {
                        self.row_labels.get(*i).cloned().unwrap_or_default()
                    }
                    _ => String::new(),
                };
                chart
                    .configure_mesh()
                    .disable_mesh()
                    .x_labels(n_cols)
                    .y_labels(n_rows)
                    .x_label_formatter(&col_label)
                    .y_label_formatter(&row_label)
                    .x_desc(&self.x_label)
                    .y_desc(&self.y_label)
                    .label_style((FAMILY, 13))
                    .axis_desc_style((FAMILY, 13))
                    .draw()?;
                let cells = p.values.iter().enumerate().flat_map(|(r, row)| {
                    row.iter().enumerate().map(move |(c, &v)| {
                        Rectangle::new(
                            [
                                (SegmentValue::Exact(c), SegmentValue::Exact(r + 1)),
                                (SegmentValue::Exact(c + 1), SegmentValue::Exact(r)),
                            ],
                            scale_colour((v - lo) / span).filled(),
                        )
                    })
                });
                chart.draw_series(cells)?;
            }
            // The colour bar: 100 steps from lo to hi, with both ends labelled.
            let mut chart = ChartBuilder::on(&bar)
                .margin_left(60)
                .margin_right(60)
                .margin_top(8)
                .x_label_area_size(36)
                .build_cartesian_2d(lo..lo + span, 0.0..1.0)?;
            chart
                .configure_mesh()
                .disable_mesh()
                .disable_y_axis()
                .x_labels(6)
                .x_desc(&self.bar_label)
                .label_style((FAMILY, 12))
                .axis_desc_style((FAMILY, 13))
                .draw()?;
            chart.draw_series((0..100).map(|i| {
                let a = lo + span * f64::from(i) / 100.0;
                let b = lo + span * f64::from(i + 1) / 100.0;
                Rectangle::new(
                    [(a, 0.0), (b, 1.0)],
                    scale_colour(f64::from(i) / 99.0).filled(),
                )
            }))?;
            Ok(())
        })
    }
}

type Area<'a> = DrawingArea<BitMapBackend<'a>, plotters::coord::Shift>;

/// Registers the font, draws with `body` into a temporary PNG beside `path`
/// and renames it (no half-written figure on failure).
pub(crate) fn render(
    path: &Path,
    size: (u32, u32),
    body: impl FnOnce(&Area<'_>) -> Result<(), Box<dyn std::error::Error>>,
) -> Result<()> {
    register_font()?;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let tmp = tempfile::Builder::new()
        .suffix(".png")
        .tempfile_in(dir)
        .map_err(|e| anyhow!("cannot write {}: {e}", path.display()))?;
    {
        let root = BitMapBackend::new(tmp.path(), size).into_drawing_area();
        root.fill(&WHITE)
            .map_err(|e| anyhow!("cannot draw {}: {e}", path.display()))?;
        body(&root).map_err(|e| anyhow!("cannot draw {}: {e}", path.display()))?;
        root.present()
            .map_err(|e| anyhow!("cannot write {}: {e}", path.display()))?;
    }
    tmp.persist(path)
        .map_err(|e| anyhow!("cannot write {}: {e}", path.display()))?;
    Ok(())
}
