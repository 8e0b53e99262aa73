//! Trains on the first 2,000 shipped MNIST images and checks a floor on the
//! accuracy over the first 2,000 test images.

use dam_std::data::mnist;
use dam_std::train::kh16::{Config, Net, Trainer, evaluate};

/// This run (K = 50, minibatch 100, 40 epochs, seed 0, notebook settings
/// otherwise) measured 83.45%; the floor leaves margin for float
/// differences across machines.
const FLOOR: f64 = 0.80;

#[test]
fn trains_on_a_2000_image_subset() {
    let data = mnist::load(&mnist::default_dir()).expect("the shipped MNIST in data/mnist");
    let train = data.train.head(2000);
    let test = data.test.head(2000);
    let config = Config {
        k: 50,
        batch: 100,
        epochs: 40,
        ..Config::default()
    };
    let mut t = Trainer::new(config, train.dim, mnist::CLASSES).unwrap();
    let before = evaluate(&t.net(), &test).unwrap().accuracy;
    for _ in 0..40 {
        t.run_epoch(&train, &|| false).unwrap().unwrap();
    }
    let net: Net<'_> = t.net();
    let after = evaluate(&net, &test).unwrap().accuracy;
    println!("test accuracy {before:.4} → {after:.4}");
    assert!(before < 0.3, "untrained accuracy {before}");
    assert!(after >= FLOOR, "accuracy {after} below the floor {FLOOR}");
}
