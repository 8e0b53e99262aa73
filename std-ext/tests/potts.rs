//! Potts memories on small synthetic mixtures whose clusters are known:
//! training recovers them, a duplicated trained network sits at a saddle,
//! growth matches direct training, and training is deterministic; the same
//! on the sphere constraint and with augmentation.

use dam_std::data::mnist::Split;
use dam_std::potts::growth::{self, GrowthConfig, HessianProbe};
use dam_std::potts::{Config, Constraint, Init, Params, Task, Trainer, evaluate};
use dam_std::train::augment::Augmentation;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

const D: usize = 16;

/// `k` random ±1 prototypes.
fn prototypes(k: usize, seed: u64) -> Vec<Vec<f32>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..k)
        .map(|_| {
            (0..D)
                .map(|_| if rng.random_bool(0.5) { 1.0 } else { -1.0 })
                .collect()
        })
        .collect()
}

/// `n` samples: a prototype (cycling), each entry flipped with probability
/// 0.1, labelled `label_of(cluster)`.
fn mixture(protos: &[Vec<f32>], n: usize, label_of: impl Fn(usize) -> u16, seed: u64) -> Split {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (mut images, mut labels) = (Vec::new(), Vec::new());
    for i in 0..n {
        let k = i % protos.len();
        images.extend(
            protos[k]
                .iter()
                .map(|&x| if rng.random_bool(0.1) { -x } else { x }),
        );
        labels.push(label_of(k));
    }
    Split {
        images,
        labels,
        dim: D,
    }
}

fn config(p: usize, epochs: usize) -> Config {
    Config {
        p,
        beta: 8.0,
        eps0: 0.05,
        logit_rate: 2.0,
        decay: 0.9,
        batch: 50,
        epochs,
        ..Config::default()
    }
}

fn train(config: Config, task: Task, data: &Split) -> Trainer {
    let mut t = Trainer::new(config.clone(), task, data).unwrap();
    for _ in 0..config.epochs {
        t.run_epoch(data, &|| false).unwrap().unwrap();
    }
    t
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let n = |x: &[f32]| x.iter().map(|v| v * v).sum::<f32>().sqrt();
    dot / (n(a) * n(b)).max(1e-12)
}

/// For each prototype, the best cosine of any memory with it.
fn recovery(params: &Params, protos: &[Vec<f32>]) -> Vec<f32> {
    protos
        .iter()
        .map(|q| {
            params
                .w
                .chunks_exact(D)
                .map(|w| cosine(w, q))
                .fold(-1.0, f32::max)
        })
        .collect()
}

/// 4 clusters, one class each: the prototypes, training and test samples.
fn four_clusters() -> (Vec<Vec<f32>>, Split, Split) {
    let protos = prototypes(4, 1);
    let data = mixture(&protos, 400, |k| k as u16, 2);
    let test = mixture(&protos, 200, |k| k as u16, 3);
    (protos, data, test)
}

/// Both readouts above 97% on `test`.
fn assert_accurate(params: &Params, test: &Split) {
    let acc = evaluate(params, test);
    assert!(acc.posterior > 0.97 && acc.nearest > 0.97, "{acc:?}");
}

/// Supervised: 4 clusters, one class each. The 4 memories land on the 4
/// prototypes.
#[test]
fn supervised_training_recovers_the_clusters() {
    let (protos, data, test) = four_clusters();
    let t = train(config(4, 30), Task::Supervised { classes: 4 }, &data);
    let rec = recovery(&t.params, &protos);
    assert!(rec.iter().all(|&c| c > 0.9), "cosines {rec:?}");
    assert_accurate(&t.params, &test);
}

/// Unsupervised, 6 hidden states and 3 latent classes on 3 clusters: every
/// prototype is recovered by a memory, and the samples of one cluster
/// share one latent class, a different one per cluster.
#[test]
fn latent_training_recovers_the_clusters() {
    let protos = prototypes(3, 4);
    let data = mixture(&protos, 450, |k| k as u16, 5);
    let t = train(
        Config {
            beta: 12.0,
            ..config(6, 40)
        },
        Task::Latent { classes: 3 },
        &data,
    );
    let rec = recovery(&t.params, &protos);
    assert!(rec.iter().all(|&c| c > 0.9), "cosines {rec:?}");
    // Purity: the latent class is a function of the true cluster.
    let labelled = mixture(&protos, 300, |k| k as u16, 6);
    let weights = t.params.class_weights();
    let mut counts = [[0usize; 3]; 3];
    for (x, &k) in labelled.images.chunks_exact(D).zip(&labelled.labels) {
        let mu = (0..t.params.p)
            .max_by(|&a, &b| {
                let o = |m: usize| -> f32 {
                    t.params.w[m * D..][..D]
                        .iter()
                        .zip(x)
                        .map(|(w, v)| w * v)
                        .sum()
                };
                o(a).total_cmp(&o(b))
            })
            .unwrap();
        let y = (0..3)
            .max_by(|&a, &b| weights[mu * 3 + a].total_cmp(&weights[mu * 3 + b]))
            .unwrap();
        counts[usize::from(k)][y] += 1;
    }
    let pure: usize = counts.iter().map(|r| *r.iter().max().unwrap()).sum();
    assert!(pure >= 290, "{counts:?}");
    let used: std::collections::HashSet<usize> = counts
        .iter()
        .map(|r| (0..3).max_by_key(|&y| r[y]).unwrap())
        .collect();
    assert_eq!(
        used.len(),
        3,
        "clusters merged into one latent class: {counts:?}"
    );
}

/// A network trained with 2 hidden states on 4 clusters (2 classes), then
/// duplicated, computes the same posterior, is (nearly) stationary, and has
/// negative curvature: the Hessian's lowest eigenvalue (power iteration) is
/// negative, and so is the curvature along the splitting direction.
#[test]
fn duplicated_point_is_a_saddle() {
    let protos = prototypes(4, 7);
    let data = mixture(&protos, 400, |k| (k % 2) as u16, 8);
    let task = Task::Supervised { classes: 2 };
    let t = train(config(2, 60), task, &data);
    let idx: Vec<usize> = (0..data.len()).collect();
    let dup = t.params.duplicated();
    let probe = HessianProbe::default();
    let before =
        growth::hessian_min_eigenvalue(&t.params, 0.0, task, &t.marginal, &data, &idx, &probe);
    let after = growth::hessian_min_eigenvalue(&dup, 0.0, task, &t.marginal, &data, &idx, &probe);
    assert!(
        after < -1e-3,
        "λ_min at the duplicated point {after} (before: {before})"
    );
    assert!(after < before, "duplicated {after} vs trained {before}");
    // The splitting direction, as an antisymmetric move of the copies.
    let splits = growth::split_directions(&t, &data, &idx, 50, 1);
    assert!(
        splits.curvature.iter().all(|&c| c < 0.0),
        "{:?}",
        splits.curvature
    );
    let (pd, pc) = (t.params.w.len(), t.params.theta.len());
    let mut u = vec![0.0f64; 2 * pd + 2 * pc];
    for i in 0..pd {
        u[i] = f64::from(splits.memories[i]);
        u[pd + i] = -f64::from(splits.memories[i]);
    }
    for i in 0..pc {
        u[2 * pd + i] = f64::from(splits.logits[i]);
        u[2 * pd + pc + i] = -f64::from(splits.logits[i]);
    }
    let along = growth::curvature_along(&dup, 0.0, task, &t.marginal, &data, &idx, &probe, &u);
    eprintln!(
        "λ_min trained P = 2: {before:.4e}; duplicated P = 4: {after:.4e}; along the split: {along:.4e}; splitting curvatures {:?}",
        splits.curvature
    );
    assert!(along < 0.0, "curvature along the split {along}");
    assert!(
        along >= after - 1e-3,
        "a Rayleigh quotient below λ_min: {along} < {after}"
    );
    // Same posterior before and after duplication.
    let (a, b) = (evaluate(&t.params, &data), evaluate(&dup, &data));
    assert_eq!(a.posterior, b.posterior);
}

/// Growth 1 → 2 → 4 → 8 ends within 3 points of direct training at 8.
#[test]
fn growth_matches_direct_training() {
    let protos = prototypes(8, 9);
    let label = |k: usize| (k % 4) as u16;
    let data = mixture(&protos, 800, label, 10);
    let test = mixture(&protos, 400, label, 11);
    let task = Task::Supervised { classes: 4 };
    let direct = evaluate(&train(config(8, 30), task, &data).params, &test);
    let grown = growth::grow(
        &GrowthConfig {
            train: config(1, 0),
            p_max: 8,
            stage_epochs: 8,
            final_epochs: 15,
            delta: 0.2,
            split_samples: 400,
            split_iterations: 30,
        },
        task,
        &data,
        &test,
        |_| {},
    )
    .unwrap();
    let last = grown.points.last().unwrap().accuracy;
    assert_eq!(grown.trainer.params.p, 8);
    assert!(
        grown.split_curvature.iter().all(|&c| c < 0.0),
        "{:?}",
        grown.split_curvature
    );
    assert!(
        last.posterior >= direct.posterior - 0.03,
        "growth {last:?} vs direct {direct:?}"
    );
}

/// The parameters after training `config` on two balanced classes of 4
/// clusters, with `threads` worker threads.
fn trained_with(threads: usize, config: Config, data: &Split) -> Params {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    pool.install(|| train(config, Task::Supervised { classes: 2 }, data).params)
}

/// Same seed: the same parameters with 1 and 2 threads; another seed differs.
#[test]
fn training_is_deterministic() {
    let protos = prototypes(4, 12);
    let data = mixture(&protos, 450, |k| (k % 2) as u16, 13);
    let run = |threads: usize, seed: u64| {
        let config = Config {
            seed,
            batch: 450,
            ..config(4, 3)
        };
        trained_with(threads, config, &data)
    };
    let a = run(2, 0);
    assert_eq!(a, run(2, 0));
    assert_eq!(a, run(1, 0));
    assert_ne!(a, run(2, 1));
}

fn norms(params: &Params) -> Vec<f32> {
    params
        .w
        .chunks_exact(params.d)
        .map(|w| w.iter().map(|x| x * x).sum::<f32>().sqrt())
        .collect()
}

/// On the sphere: the memories keep length √D through training and growth
/// (split copies are projected back), and still land on the prototypes.
#[test]
fn sphere_training_recovers_the_clusters_on_the_sphere() {
    let (protos, data, test) = four_clusters();
    let sphere = Config {
        constraint: Constraint::Sphere,
        ..config(4, 30)
    };
    let t = train(sphere.clone(), Task::Supervised { classes: 4 }, &data);
    let radius = (D as f32).sqrt();
    let n = norms(&t.params);
    assert!(n.iter().all(|&x| (x - radius).abs() < 1e-4), "norms {n:?}");
    // Not in the box: some entry left [−1, 1] (a box-trained memory cannot).
    assert!(t.params.w.iter().any(|x| x.abs() > 1.0));
    // Discriminative training pushes each memory away from the other
    // clusters as well, so it is the prototype plus a smaller correction
    // (random ±1 prototypes have cosines around ±0.25).
    let rec = recovery(&t.params, &protos);
    assert!(rec.iter().all(|&c| c > 0.8), "cosines {rec:?}");
    assert_accurate(&t.params, &test);

    let grown = growth::grow(
        &GrowthConfig {
            train: sphere,
            p_max: 4,
            stage_epochs: 5,
            final_epochs: 5,
            ..GrowthConfig::default()
        },
        Task::Supervised { classes: 4 },
        &data,
        &test,
        |_| {},
    )
    .unwrap();
    let n = norms(&grown.trainer.params);
    assert!(
        n.iter().all(|&x| (x - radius).abs() < 1e-4),
        "grown norms {n:?}"
    );
}

/// Augmented training (4×4 images shifted by up to a pixel): the same
/// parameters for 1 and 2 threads, different from training on the stored
/// images; a shift the images cannot take is an error.
#[test]
fn augmented_training_is_deterministic_and_differs() {
    let protos = prototypes(4, 12);
    let data = mixture(&protos, 450, |k| (k % 2) as u16, 13);
    let run = |threads: usize, augmentation: Augmentation| {
        let config = Config {
            augmentation,
            ..config(4, 3)
        };
        trained_with(threads, config, &data)
    };
    let a = run(2, Augmentation::Shift(1));
    assert_eq!(a, run(1, Augmentation::Shift(1)));
    assert_ne!(a, run(2, Augmentation::Shift(0)));
    // A shift of 4 pixels does not fit 4×4 images: refused, not clipped.
    let mut t = Trainer::new(
        Config {
            augmentation: Augmentation::Shift(4),
            ..config(4, 1)
        },
        Task::Supervised { classes: 2 },
        &data,
    )
    .unwrap();
    assert!(t.run_epoch(&data, &|| false).is_err());
}

/// Random initial memories (`Init::Random`) know nothing of the data, yet
/// training still finds the clusters; they start elsewhere than copies of
/// samples.
#[test]
fn random_init_still_learns_the_clusters() {
    let (_, data, test) = four_clusters();
    let random = Config {
        init: Init::Random,
        ..config(4, 30)
    };
    let start = Trainer::new(random.clone(), Task::Supervised { classes: 4 }, &data).unwrap();
    let from_samples = Trainer::new(config(4, 30), Task::Supervised { classes: 4 }, &data).unwrap();
    assert_ne!(start.params.w, from_samples.params.w);
    // Samples are ±1 images; random entries are not.
    assert!(start.params.w.iter().any(|x| x.abs() < 0.99));
    let t = train(random, Task::Supervised { classes: 4 }, &data);
    assert_accurate(&t.params, &test);
}
