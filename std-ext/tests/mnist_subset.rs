//! Trains on the first 2,000 shipped MNIST images and checks a floor on the
//! accuracy over the first 2,000 test images; then that quantizing the model
//! costs little accuracy (issue 6; full-test-set figures in BENCHMARKS.md).

use dam_core::model::Model;
use dam_std::data::mnist::{self, Split};
use dam_std::model_io::{AlignedBytes, Entries, encode};
use dam_std::quantize::{ForwardPath, Precision, evaluate_model, quantize_model};
use dam_std::train::kh16::{Config, Net, Trainer, evaluate};

/// This run (K = 50, minibatch 100, 40 epochs, seed 0, notebook settings
/// otherwise) measured 83.45%; the floor leaves margin for float
/// differences across machines.
const FLOOR: f64 = 0.80;

#[test]
fn trains_on_a_2000_image_subset() {
    let data = mnist::load(&mnist_dir()).expect("the shipped MNIST in data/mnist");
    let train = data.train.head(2000);
    let test = data.test.head(2000);
    let config = Config {
        k: 50,
        batch: 100,
        epochs: 40,
        ..Config::default()
    };
    let mut t = Trainer::new(config, train.dim, mnist::CLASSES).unwrap();
    let before = evaluate(&t.net().unwrap(), &test).unwrap().accuracy;
    for _ in 0..40 {
        t.run_epoch(&train, &|| false).unwrap().unwrap();
    }
    let net: Net<'_> = t.net().unwrap();
    let after = evaluate(&net, &test).unwrap().accuracy;
    println!("test accuracy {before:.4} → {after:.4}");
    assert!(before < 0.3, "untrained accuracy {before}");
    assert!(after >= FLOOR, "accuracy {after} below the floor {FLOOR}");
    quantized_accuracy_stays_within_bounds(&t, &test);
}

/// The bounds on the accuracy drop, in percentage points.
const MAX_DROP_I8: f64 = 0.3;
const MAX_DROP_FIXED: f64 = 0.5;

/// The trained model evaluated in f32, i16, i8 (f32 rescale) and i8 in fixed
/// point, each through the `dam-core` forward pass firmware runs.
fn quantized_accuracy_stays_within_bounds(t: &Trainer, test: &Split) {
    let labels: Vec<u32> = (0..mnist::CLASSES as u32).collect();
    let f32_bytes = AlignedBytes::new(&encode(&t.header(), &labels, Entries::F32(&t.xi)).unwrap());
    let f32_model = Model::parse(f32_bytes.as_bytes()).unwrap();
    let accuracy = |precision, path| {
        let bytes = AlignedBytes::new(&quantize_model(&f32_model, precision).unwrap());
        let model = Model::parse(bytes.as_bytes()).unwrap();
        100.0 * evaluate_model(&model, test, path).unwrap().accuracy
    };
    let f32 = accuracy(Precision::F32, ForwardPath::Float);
    let i16 = accuracy(Precision::I16, ForwardPath::Float);
    let i8 = accuracy(Precision::I8, ForwardPath::Float);
    let fixed = accuracy(Precision::I8, ForwardPath::Fixed);
    println!("f32 {f32:.2}%, i16 {i16:.2}%, i8 {i8:.2}%, i8 fixed point {fixed:.2}%");
    assert!(f32 - i16 <= MAX_DROP_I8, "i16: {f32}% → {i16}%");
    assert!(f32 - i8 <= MAX_DROP_I8, "i8: {f32}% → {i8}%");
    assert!(
        f32 - fixed <= MAX_DROP_FIXED,
        "fixed point: {f32}% → {fixed}%"
    );
}

/// The repository's MNIST (a test runs in the source tree).
fn mnist_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/mnist")
}
