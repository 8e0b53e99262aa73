//! The papers' experiments at reduced size, each checking its qualitative
//! finding (the full runs and their numbers: docs/experiments/).
//! The figures need the `plot` feature.
#![cfg(feature = "plot")]

use dam_std::data::mnist;
use dam_std::experiments::hyperparameters::{self, Form, GOOD};
use dam_std::experiments::{capacity, prototype};

/// \[KH16\]: the capacity grows like `D^(n−1)`; the fitted slope for
/// `n = 3` is within 20% of 2 for both families, and `n = 3` stores more
/// than `n = 2` at the same `D`.
#[test]
fn capacity_slope_for_n3_is_near_two() {
    let config = capacity::Config {
        degrees: vec![(2, vec![32]), (3, vec![32, 64, 128])],
        repeats: 3,
        seed: 2016,
    };
    let points = capacity::measure(&config).unwrap();
    println!("{}", capacity::table(&points));
    for rectified in [false, true] {
        let s = capacity::slope(&points, rectified, 3);
        assert!((s - 2.0).abs() <= 0.4, "rectified {rectified}: slope {s}");
        let at = |n| {
            points
                .iter()
                .find(|p| p.rectified == rectified && p.n == n && p.d == 32)
                .unwrap()
                .k_max
        };
        assert!(at(3) > 2.0 * at(2), "n = 3 {} vs n = 2 {}", at(3), at(2));
    }
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("capacity.png");
    capacity::chart(&points).draw(&png, (640, 480)).unwrap();
    assert!(std::fs::metadata(&png).unwrap().len() > 1000);
}

/// \[KH16\]: memories trained with a large `n` look like whole digits
/// (prototypes), with a small `n` like none (features): the prototype
/// score grows with `n`, and both models learned something (test error
/// well under the 90% of guessing: after 600 small steps, measured 47% at
/// `n = 2` and 21% at `n = 30`).
#[test]
fn prototype_score_grows_with_n() {
    let data = mnist::load(&mnist_dir()).unwrap();
    let config = prototype::Config::quick();
    let models = prototype::run(&config, &data.train, &data.test).unwrap();
    println!("{}", prototype::table(&config, &models));
    let (small, large) = (&models[0], &models[models.len() - 1]);
    assert!(small.n < large.n);
    assert!(
        large.prototype_score > small.prototype_score + 0.1,
        "n = {}: {}, n = {}: {}",
        small.n,
        small.prototype_score,
        large.n,
        large.prototype_score
    );
    for m in &models {
        assert!(m.test_error < 0.6, "n = {}: error {}", m.n, m.test_error);
    }
}

/// \[McA\]: with one grid of the raw outside factor `β` for every `n`, the
/// good region present at `n = 2` has left the grid at `n = 30`; in the
/// normalized form a good region exists at `n = 10` and `n = 30`, at
/// neighbouring inverse temperatures.
#[test]
fn normalized_good_region_stays_while_raw_one_moves_out() {
    let config = hyperparameters::Config::quick();
    let cells = hyperparameters::measure(&config).unwrap();
    println!("{}", hyperparameters::table(&config, &cells));
    let regions = hyperparameters::regions(&cells);
    let get = |form, n| regions.iter().find(|r| r.form == form && r.n == n).unwrap();
    assert!(get(Form::Raw, 2).good_cells > 0);
    assert_eq!(get(Form::Raw, 30).good_cells, 0);
    assert!(get(Form::Raw, 30).best > GOOD);
    let (a, b) = (get(Form::Normalized, 10), get(Form::Normalized, 30));
    assert!(a.best < GOOD && b.best < GOOD, "{a:?} {b:?}");
    assert!(
        a.best_beta_index.abs_diff(b.best_beta_index) <= 1,
        "{a:?} {b:?}"
    );
}

/// \[TT\]: duplicating the memories of a trained Potts network lands on a
/// saddle (negative curvature along the splitting direction at every
/// doubling), and growth by splitting learns: it ends well above chance and
/// near direct training at the same size.
#[test]
fn saddle_growth_splits_at_saddles_and_learns() {
    let data = mnist::load(&mnist_dir()).unwrap();
    let report = dam_std::potts::growth_vs_direct(
        &dam_std::potts::Comparison::quick(),
        &data.train,
        &data.test,
        |_, _| {},
    )
    .unwrap();
    print!("{}", report.summary());
    assert_eq!(report.split_curvature.len(), 3, "1 → 2 → 4 → 8");
    assert!(
        report.split_curvature.iter().all(|&c| c < 0.0),
        "{:?}",
        report.split_curvature
    );
    let (direct, growth) = (report.direct_accuracy(), report.growth_accuracy());
    assert!(growth > 0.5, "growth {growth}");
    assert!(growth > direct - 0.1, "growth {growth} vs direct {direct}");
    let last = report.growth.last().unwrap();
    assert_eq!(last.p, 8);
    assert!(report.growth.windows(2).all(|w| w[0].ops <= w[1].ops));
}

/// Completion of occluded MNIST memories (`dam experiment completion`,
/// quick size): every memory completes lightly occluded cues, fewer as more
/// is hidden; the log-sum-exp memory does at least as well as every bipolar
/// one, and its random-feature approximation no better than it.
#[test]
fn completion_falls_with_occlusion_and_lse_leads() {
    use dam_std::experiments::completion;
    let train = mnist::load_raw_split(&mnist_dir(), "train").unwrap();
    let config = completion::Config::quick();
    let points = completion::measure(&config, &train).unwrap();
    let acc = |memory: &str, fraction: f64| {
        points
            .iter()
            .find(|p| p.memory.starts_with(memory) && p.fraction == fraction)
            .map(completion::Point::accuracy)
            .unwrap_or_else(|| panic!("no point for {memory} at {fraction}"))
    };
    let (light, heavy) = (config.fractions[0], config.fractions[1]);
    for p in points.iter().filter(|p| p.fraction == light) {
        assert!(p.accuracy() >= 0.9, "{p:?}");
        assert!(acc(&p.memory, heavy) <= p.accuracy(), "{p:?}");
    }
    for f in [light, heavy] {
        for n in &config.degrees {
            assert!(
                acc("log-sum-exp", f) >= acc(&format!("bipolar n = {n}"), f),
                "{f}"
            );
        }
        assert!(acc("DrDAM", f) <= acc("log-sum-exp", f), "{f}");
    }
    let table = completion::table(&points);
    assert!(table.contains("| log-sum-exp |"), "{table}");
}

/// The repository's MNIST (a test runs in the source tree).
fn mnist_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/mnist")
}
