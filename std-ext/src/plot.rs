//! PNG figures with `plotters` (bitmap backend only: no system fonts, so the
//! figures carry no text; the command that draws them prints the legend).

use std::path::Path;

use anyhow::{Result, anyhow, bail};
use plotters::prelude::*;

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
pub fn memory_grid(
    path: &Path,
    images: &[f32],
    (h, w): (usize, usize),
    cols: usize,
    zoom: usize,
) -> Result<()> {
    if h == 0 || w == 0 || cols == 0 || zoom == 0 || images.len() % (h * w) != 0 {
        bail!(
            "memory grid: {} values do not split into {h}×{w} tiles",
            images.len()
        );
    }
    let count = images.len() / (h * w);
    let grid_rows = count.div_ceil(cols).max(1);
    let tile = (w * zoom + zoom, h * zoom + zoom);
    let size = (
        (cols * tile.0 + zoom) as u32,
        (grid_rows * tile.1 + zoom) as u32,
    );
    draw(path, size, |root| {
        root.fill(&RGBColor(128, 128, 128))?;
        for (i, img) in images.chunks_exact(h * w).enumerate() {
            let (x0, y0) = ((i % cols) * tile.0 + zoom, (i / cols) * tile.1 + zoom);
            for (p, &v) in img.iter().enumerate() {
                let (r, g, b) = bwr(v);
                let (x, y) = (x0 + (p % w) * zoom, y0 + (p / w) * zoom);
                root.draw(&Rectangle::new(
                    [(x as i32, y as i32), ((x + zoom) as i32, (y + zoom) as i32)],
                    RGBColor(r, g, b).filled(),
                ))?;
            }
        }
        Ok(())
    })
}

/// Draws curves `(x, y)` in the given colours over a white background with
/// light horizontal guides at `guides`, axes `x ∈ [0, x_max]`,
/// `y ∈ [y_min, y_max]`. Written to `path` (PNG, `w × h`).
pub fn curves(
    path: &Path,
    series: &[(&[(f64, f64)], RGBColor)],
    (x_max, y_min, y_max): (f64, f64, f64),
    guides: &[f64],
    size: (u32, u32),
) -> Result<()> {
    if !(x_max > 0.0 && y_max > y_min) {
        bail!("curves: empty axis range");
    }
    draw(path, size, |root| {
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .build_cartesian_2d(0f64..x_max, y_min..y_max)?;
        for &g in guides {
            chart.draw_series(LineSeries::new(
                [(0.0, g), (x_max, g)],
                RGBColor(210, 210, 210),
            ))?;
        }
        chart.draw_series(LineSeries::new(
            [(0.0, y_min), (0.0, y_max), (0.0, y_min), (x_max, y_min)],
            BLACK,
        ))?;
        for (points, colour) in series {
            chart.draw_series(LineSeries::new(
                points.iter().map(|&(x, y)| (x, y.clamp(y_min, y_max))),
                colour.stroke_width(2),
            ))?;
        }
        Ok(())
    })
}

type Area<'a> = DrawingArea<BitMapBackend<'a>, plotters::coord::Shift>;

fn draw(
    path: &Path,
    size: (u32, u32),
    body: impl FnOnce(&Area<'_>) -> Result<(), Box<dyn std::error::Error>>,
) -> Result<()> {
    // Draw into a temporary file beside the target, then rename: no
    // half-written PNG on failure.
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
        body(&root).map_err(|e| anyhow!("cannot draw {}: {e}", path.display()))?;
        root.present()
            .map_err(|e| anyhow!("cannot write {}: {e}", path.display()))?;
    }
    tmp.persist(path)
        .map_err(|e| anyhow!("cannot write {}: {e}", path.display()))?;
    Ok(())
}
