//! \[KH16\]'s capacity: the largest number `K` of random bipolar memories
//! that are all fixed points of the update rule, against the dimension `D`,
//! for polynomial and rectified polynomial `F` of degree `n`. \[KH16\] derive
//! `K_max ≈ D^(n−1) / (2 (2n−3)!! ln D)` for the polynomial; the fitted
//! log–log slope is compared with `n − 1`.

use anyhow::{Context, Result};
use dam_core::{BipolarMemory, Form, Interaction, MemoryView};
use plotters::chart::SeriesLabelPosition;
use rayon::prelude::*;

use super::figure::{Line, LogLogChart, PALETTE};
use crate::patterns::random_bipolar;

/// What to measure.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Degrees `n`, each with the dimensions `D` to try.
    pub degrees: Vec<(u32, Vec<usize>)>,
    /// Independent draws of the memories per point (the mean is reported).
    pub repeats: usize,
    /// Seed of the first draw.
    pub seed: u64,
}

impl Config {
    /// The full experiment (minutes on 2 cores).
    pub fn full() -> Self {
        Config {
            degrees: vec![
                (2, vec![64, 128, 256, 512, 1024]),
                (3, vec![32, 48, 64, 96, 128]),
                (4, vec![16, 20, 24, 32, 40]),
            ],
            repeats: 5,
            seed: 2016,
        }
    }

    /// The reduced run of `--quick` and of the tests (seconds).
    pub fn quick() -> Self {
        Config {
            degrees: vec![
                (2, vec![64, 128, 256]),
                (3, vec![32, 64, 128]),
                (4, vec![16, 24, 32]),
            ],
            repeats: 3,
            seed: 2016,
        }
    }
}

/// One measured point.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// `true` for the rectified polynomial, `false` for the polynomial.
    pub rectified: bool,
    /// Degree `n`.
    pub n: u32,
    /// Dimension `D`.
    pub d: usize,
    /// Mean over the repeats of the largest `K` with all memories fixed.
    pub k_max: f64,
}

/// The interaction of a point.
fn interaction(rectified: bool, n: u32) -> Interaction<f32> {
    if rectified {
        Interaction::RectifiedPolynomial { n }
    } else {
        Interaction::Polynomial { n }
    }
}

/// `true` if each of the first `k` rows of `pool` (width `d`) is a fixed
/// point of the memory those `k` rows form.
fn all_fixed(pool: &[f32], k: usize, d: usize, f: Interaction<f32>) -> Result<bool> {
    let view = MemoryView::new(&pool[..k * d], k, d)?;
    let net = BipolarMemory::new(view, f, Form::Normalized { beta: 1.0 })?;
    let bad = (0..k).into_par_iter().find_any(|&mu| {
        let state: Vec<i8> = pool[mu * d..(mu + 1) * d]
            .iter()
            .map(|&x| x as i8)
            .collect();
        let mut overlaps = vec![0.0f32; k];
        !matches!(net.is_fixed_point(&state, &mut overlaps), Ok(true))
    });
    Ok(bad.is_none())
}

/// The largest `K` such that the first `K` of a stream of random patterns
/// are all fixed points: doubling, then bisection (assumes that once some
/// memory fails, adding memories does not repair it, true on average).
pub fn largest_stable(d: usize, f: Interaction<f32>, seed: u64) -> Result<usize> {
    // Rows of `random_bipolar` are drawn in order, so a longer pool starts
    // with the shorter one: the first K memories do not depend on the pool.
    let pattern_pool = |k: usize| random_bipolar(k, d, seed);
    let mut good = 0usize;
    let mut bad = 1usize;
    loop {
        let pool = pattern_pool(bad);
        if !all_fixed(&pool, bad, d, f)? {
            break;
        }
        good = bad;
        bad *= 2;
    }
    let pool = pattern_pool(bad);
    while bad - good > 1 {
        let mid = good + (bad - good) / 2;
        if all_fixed(&pool, mid, d, f)? {
            good = mid;
        } else {
            bad = mid;
        }
    }
    Ok(good)
}

/// Measures every point of `config`, both families.
pub fn measure(config: &Config) -> Result<Vec<Point>> {
    let mut points = Vec::new();
    for rectified in [false, true] {
        for (n, dims) in &config.degrees {
            for &d in dims {
                let mut sum = 0usize;
                for r in 0..config.repeats {
                    let seed = config.seed ^ ((d as u64) << 20) ^ ((r as u64) << 40);
                    sum += largest_stable(d, interaction(rectified, *n), seed)
                        .with_context(|| format!("n = {n}, D = {d}"))?;
                }
                points.push(Point {
                    rectified,
                    n: *n,
                    d,
                    k_max: sum as f64 / config.repeats.max(1) as f64,
                });
            }
        }
    }
    Ok(points)
}

/// Least-squares slope of `ln K` against `ln D` over the points of one
/// family and degree (`NaN` with fewer than two usable points).
pub fn slope(points: &[Point], rectified: bool, n: u32) -> f64 {
    let xy: Vec<(f64, f64)> = points
        .iter()
        .filter(|p| p.rectified == rectified && p.n == n && p.k_max > 0.0)
        .map(|p| ((p.d as f64).ln(), p.k_max.ln()))
        .collect();
    let m = xy.len() as f64;
    if xy.len() < 2 {
        return f64::NAN;
    }
    let (sx, sy) = xy.iter().fold((0.0, 0.0), |(a, b), (x, y)| (a + x, b + y));
    let (mx, my) = (sx / m, sy / m);
    let (num, den) = xy.iter().fold((0.0, 0.0), |(a, b), (x, y)| {
        (a + (x - mx) * (y - my), b + (x - mx) * (x - mx))
    });
    num / den
}

/// \[KH16\]'s estimate `D^(n−1) / (2 (2n−3)!! ln D)` for the polynomial.
pub fn theory(n: u32, d: usize) -> f64 {
    let double_factorial: f64 = (1..=(2 * n).saturating_sub(3))
        .rev()
        .step_by(2)
        .map(f64::from)
        .product();
    let d = d as f64;
    d.powi(n as i32 - 1) / (2.0 * double_factorial * d.ln())
}

/// The degrees present, ascending, once each.
fn degrees(points: &[Point]) -> Vec<u32> {
    let mut ns: Vec<u32> = points.iter().map(|p| p.n).collect();
    ns.sort_unstable();
    ns.dedup();
    ns
}

fn family(rectified: bool) -> &'static str {
    if rectified { "rectified" } else { "polynomial" }
}

/// The table: one row per point, then the fitted slopes.
pub fn table(points: &[Point]) -> String {
    let mut out = String::from(
        "Largest K with every random bipolar memory a fixed point (mean over draws)\n\n\
         family       n      D    K_max   KH16 estimate\n",
    );
    for p in points {
        out.push_str(&format!(
            "{:<11} {:>2} {:>6} {:>8.1} {:>15.1}\n",
            family(p.rectified),
            p.n,
            p.d,
            p.k_max,
            theory(p.n, p.d)
        ));
    }
    // The estimate's own slope over the same D: n − 1 less the ln D term.
    let estimate: Vec<Point> = points
        .iter()
        .map(|p| Point {
            k_max: theory(p.n, p.d),
            ..p.clone()
        })
        .collect();
    out.push_str(
        "\nfitted log-log slope (reference n − 1; the KH16 estimate's own slope over the same D)\n",
    );
    for rectified in [false, true] {
        for n in degrees(points) {
            out.push_str(&format!(
                "{:<11} {:>2}   slope {:.2}  (reference {}, estimate {:.2})\n",
                family(rectified),
                n,
                slope(points, rectified, n),
                n - 1,
                slope(&estimate, rectified, n)
            ));
        }
    }
    out
}

/// The log–log figure: measured `K_max` against `D` per family and degree,
/// with thin lines of slope `n − 1` through the middle point of each.
pub fn chart(points: &[Point]) -> LogLogChart {
    let mut lines = Vec::new();
    for (i, n) in degrees(points).into_iter().enumerate() {
        for rectified in [false, true] {
            let pts: Vec<(f64, f64)> = points
                .iter()
                .filter(|p| p.n == n && p.rectified == rectified && p.k_max > 0.0)
                .map(|p| (p.d as f64, p.k_max))
                .collect();
            let colour = PALETTE[(2 * i + usize::from(rectified)) % PALETTE.len()];
            if !rectified && let Some(&(x0, y0)) = pts.get(pts.len() / 2) {
                let reference = pts
                    .iter()
                    .map(|&(x, _)| (x, y0 * (x / x0).powi(n as i32 - 1)))
                    .collect();
                lines.push(Line {
                    points: reference,
                    colour: RGBA_GREY,
                    reference: true,
                    label: format!("slope {} (D^{})", n - 1, n - 1),
                });
            }
            lines.push(Line {
                points: pts,
                colour,
                reference: false,
                label: format!("n = {n}, {}", family(rectified)),
            });
        }
    }
    LogLogChart {
        title: "KH16 capacity: all K random memories fixed points".into(),
        x_label: "dimension D".into(),
        y_label: "largest K".into(),
        lines,
        x_base: 2.0,
        legend: SeriesLabelPosition::LowerRight,
    }
}

const RGBA_GREY: plotters::style::RGBColor = plotters::style::RGBColor(120, 120, 120);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn theory_matches_the_papers_formula() {
        // n = 3: (2n−3)!! = 3, so D² / (6 ln D).
        let d = 100.0f64;
        assert!((theory(3, 100) - d * d / (6.0 * d.ln())).abs() < 1e-9);
        assert!((theory(2, 100) - d / (2.0 * d.ln())).abs() < 1e-9);
    }

    #[test]
    fn slope_of_an_exact_power_law() {
        let points: Vec<Point> = [10usize, 20, 40]
            .iter()
            .map(|&d| Point {
                rectified: false,
                n: 3,
                d,
                k_max: (d * d) as f64,
            })
            .collect();
        assert!((slope(&points, false, 3) - 2.0).abs() < 1e-9);
        assert!(slope(&points, true, 3).is_nan());
    }
}
