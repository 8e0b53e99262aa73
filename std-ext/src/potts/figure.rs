//! The figures of a Potts memory: memories with their soft labels
//! (the layout of \[TT\] Figure 4) and accuracy against operations.

use std::path::Path;

use anyhow::Result;
use plotters::style::RGBColor;

use super::growth::Report;
use super::params::Params;
use crate::plot;

/// Rows of the class-weight band under each memory.
const BAND: usize = 4;

/// Draws every memory (`side × side` if `D` is a square, else a strip) with,
/// below it, a band of `C` cells whose red intensity is the rescaled class
/// weight `p^μ_y / p_h(μ)` divided by its largest value over the figure
/// (white 0, red the largest; class `y` is the `y`-th cell from the left).
pub fn memories_with_labels(path: &Path, params: &Params, cols: usize) -> Result<()> {
    let (d, c) = (params.d, params.c);
    let side = (d as f64).sqrt().round() as usize;
    let (h, w) = if side * side == d {
        (side, side)
    } else {
        (1, d)
    };
    let cell = (w / c).max(1);
    let width = w.max(cell * c);
    let weights = params.class_weights();
    let prior = params.prior();
    let rescaled: Vec<f32> = weights
        .chunks_exact(c)
        .zip(&prior)
        .flat_map(|(row, &ph)| row.iter().map(move |&x| x / ph))
        .collect();
    let top = rescaled.iter().copied().fold(f32::MIN_POSITIVE, f32::max);
    let tile_h = h + 1 + BAND;
    let mut tiles = Vec::with_capacity(params.p * tile_h * width);
    for (mu, memory) in params.w.chunks_exact(d).enumerate() {
        for row in memory.chunks_exact(w) {
            tiles.extend_from_slice(row);
            tiles.extend(std::iter::repeat_n(0.0, width - w));
        }
        tiles.extend(std::iter::repeat_n(0.0, width));
        for _ in 0..BAND {
            for x in 0..width {
                let y = x / cell;
                let value = if y < c {
                    rescaled[mu * c + y] / top
                } else {
                    0.0
                };
                tiles.push(value);
            }
        }
    }
    let zoom = if h == 1 { 2 } else { 4 };
    plot::memory_grid(path, &tiles, (tile_h, width), cols, zoom)
}

/// Test accuracy (`argmax p(y|v)`) against `log10` of the cumulative
/// memory-sample operations, relative to the first point of either run:
/// growth in red, direct training in blue.
pub fn accuracy_vs_ops(path: &Path, report: &Report) -> Result<()> {
    let first = report
        .growth
        .iter()
        .chain(&report.direct)
        .map(|p| p.ops.max(1))
        .min()
        .unwrap_or(1) as f64;
    let curve = |points: &[super::growth::Point]| -> Vec<(f64, f64)> {
        points
            .iter()
            .map(|p| {
                (
                    (p.ops.max(1) as f64 / first).log10(),
                    100.0 * p.accuracy.posterior,
                )
            })
            .collect()
    };
    let (growth, direct) = (curve(&report.growth), curve(&report.direct));
    plot::lines(
        path,
        &[
            plot::Line {
                name: "growth",
                points: &growth,
                colour: RGBColor(220, 40, 40),
            },
            plot::Line {
                name: "direct training",
                points: &direct,
                colour: RGBColor(40, 80, 220),
            },
        ],
        &plot::Axes {
            title: "Potts: test accuracy against training cost",
            x_label: "log₁₀ memory-sample operations (relative to the first point)",
            y_label: "test accuracy, argmax p(y|v) (%)",
            y_range: Some((0.0, 100.0)),
        },
    )
}
