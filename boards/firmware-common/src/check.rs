//! Classify every embedded image; count correct answers and agreement with
//! the host.

use core::fmt;

use dam_core::model::Model;

use crate::clock::Clock;
use crate::vectors::{IMAGES, LABELS, PREDICTIONS, model};

/// Largest `Nv` and `K` the fixed buffers hold (MNIST: 784 and 100).
const MAX_VISIBLE: usize = 1024;
#[cfg(dam_model = "f32")]
const MAX_MEMORIES: usize = 512;
/// `i8` models: up to 160 memories (the fixed-point path's per-memory
/// scratch is 24 bytes each).
#[cfg(dam_model = "i8")]
const MAX_MEMORIES: usize = 160;
const MAX_CLASSES: usize = 16;

/// An image where the board and the host disagree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Mismatch {
    /// Index of the image.
    pub image: u32,
    /// The class the board predicted.
    pub board: u8,
    /// The class the host predicted.
    pub host: u8,
}

/// What [`mnist_check`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Outcome {
    /// Images classified.
    pub images: u32,
    /// Predictions equal to the true label.
    pub correct: u32,
    /// Predictions equal to the host's.
    pub agree: u32,
    /// The first disagreement, if any.
    pub first_mismatch: Option<Mismatch>,
    /// Clock ticks spent in all classifications together.
    pub ticks: u64,
}

impl Outcome {
    /// `true` if there were images and the board agreed with the host on
    /// every one.
    pub fn passed(&self) -> bool {
        self.images > 0 && self.agree == self.images
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Integer per-mille: float formatting would add kilobytes of code.
        let permille = u64::from(self.correct) * 1000 / u64::from(self.images.max(1));
        write!(
            f,
            "MNIST: {} images, {} correct ({}.{}%), {}/{} predictions equal the host's (predictions-{}.u8)",
            self.images,
            self.correct,
            permille / 10,
            permille % 10,
            self.agree,
            self.images,
            crate::SUM_ORDER
        )?;
        if let Some(m) = self.first_mismatch {
            write!(
                f,
                "; first mismatch: image {} board {} host {}",
                m.image, m.board, m.host
            )?;
        }
        Ok(())
    }
}

/// Why the check could not run.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Failure {
    /// The embedded model is not a usable (f32 or i8) classifier.
    Model(dam_core::Error),
    /// `Nv`, `K` or `Nc` exceed the buffers of this firmware.
    TooLarge,
    /// The test vectors do not fit the model (regenerate them with
    /// `dam predict` for this model).
    Vectors,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Model(e) => write!(f, "embedded model: {e}"),
            Failure::TooLarge => write!(
                f,
                "model larger than the firmware buffers (Nv ≤ {MAX_VISIBLE}, K ≤ {MAX_MEMORIES}, Nc ≤ {MAX_CLASSES})"
            ),
            Failure::Vectors => write!(
                f,
                "test vectors do not match the model: regenerate them with `dam predict`"
            ),
        }
    }
}

impl From<dam_core::Error> for Failure {
    fn from(e: dam_core::Error) -> Self {
        Failure::Model(e)
    }
}

/// Classifies the first `limit` embedded images (all of them if fewer),
/// timing each classification with `clock`. Never inlined, so that
/// [`crate::stack_used`] around a call counts its buffers.
#[cfg(dam_model = "f32")]
#[inline(never)]
pub fn mnist_check(limit: usize, clock: &mut impl Clock) -> Result<Outcome, Failure> {
    let model = Model::parse(model()).map_err(dam_core::Error::from)?;
    let clf = model.classifier::<f32>()?;
    let (nv, k, nc) = (clf.visible(), clf.memories().k(), clf.classes());
    let mut v = [0.0f32; MAX_VISIBLE];
    let mut scratch = [0.0f32; MAX_MEMORIES];
    let mut scores = [0.0f32; MAX_CLASSES];
    let (Some(v), Some(scratch), Some(scores)) =
        (v.get_mut(..nv), scratch.get_mut(..k), scores.get_mut(..nc))
    else {
        return Err(Failure::TooLarge);
    };
    if crate::vectors::PIXEL_VALUES.len() != 256 * 4 {
        return Err(Failure::Vectors);
    }
    check_images(&model, nv, limit, clock, |image, clock| {
        for (x, &p) in v.iter_mut().zip(image) {
            *x = pixel_value(p);
        }
        timed(clock, || clf.forward(v, scores, scratch))
    })
}

/// Classifies the first `limit` embedded images (all of them if fewer),
/// timing each classification with `clock`: `QuantizedClassifier<i8>` on
/// an FPU target, `FixedClassifier` (no float) otherwise. Never inlined,
/// so that [`crate::stack_used`] around a call counts its buffers.
#[cfg(dam_model = "i8")]
#[inline(never)]
pub fn mnist_check(limit: usize, clock: &mut impl Clock) -> Result<Outcome, Failure> {
    let model = Model::parse(model()).map_err(dam_core::Error::from)?;
    let clf = model.quantized_classifier::<i8>()?;
    let (nv, k, nc) = (clf.visible(), clf.memories().k(), clf.classes());
    let mut v = [0i8; MAX_VISIBLE];
    let Some(v) = v.get_mut(..nv) else {
        return Err(Failure::TooLarge);
    };
    let levels = crate::vectors::PIXEL_LEVELS;
    if levels.len() != 256 {
        return Err(Failure::Vectors);
    }
    let fill = |v: &mut [i8], image: &[u8]| {
        for (x, &p) in v.iter_mut().zip(image) {
            *x = levels.get(usize::from(p)).map_or(0, |&l| l as i8);
        }
    };
    // Most pixels are background (0, the level of −1): skip them in the
    // overlaps (the same integers, so the same predictions).
    let background = levels.first().map_or(0, |&l| l as i8);
    let mut row_sums = [0i32; MAX_MEMORIES];
    let row_sums = row_sums.get_mut(..k).ok_or(Failure::TooLarge)?;
    #[cfg(all(target_arch = "arm", target_os = "none", target_abi = "eabihf"))]
    {
        let mut scratch = [0.0f32; MAX_MEMORIES];
        let mut scores = [0.0f32; MAX_CLASSES];
        let (Some(scratch), Some(scores)) = (scratch.get_mut(..k), scores.get_mut(..nc)) else {
            return Err(Failure::TooLarge);
        };
        let clf = clf.with_background(background, row_sums)?;
        check_images(&model, nv, limit, clock, |image, clock| {
            fill(v, image);
            timed(clock, || clf.forward(v, scores, scratch))
        })
    }
    #[cfg(not(all(target_arch = "arm", target_os = "none", target_abi = "eabihf")))]
    {
        use dam_core::quantized::{FixedRow, Score};
        let fixed = model
            .fixed_classifier()?
            .with_background(background, row_sums)?;
        let mut rows = [FixedRow::ZERO; MAX_MEMORIES];
        let mut sums = [Score::ZERO; MAX_CLASSES];
        let (Some(rows), Some(sums)) = (rows.get_mut(..k), sums.get_mut(..nc)) else {
            return Err(Failure::TooLarge);
        };
        check_images(&model, nv, limit, clock, |image, clock| {
            fill(v, image);
            timed(clock, || fixed.forward(v, sums, rows))
        })
    }
}

/// The loop both model kinds share: `classify(image, clock)` returns the
/// predicted class and the ticks of the classification alone.
fn check_images<C: Clock>(
    model: &Model<'_>,
    nv: usize,
    limit: usize,
    clock: &mut C,
    mut classify: impl FnMut(&[u8], &mut C) -> Result<(usize, u32), Failure>,
) -> Result<Outcome, Failure> {
    let n = LABELS.len();
    if IMAGES.len() != n * nv || PREDICTIONS.len() != n {
        return Err(Failure::Vectors);
    }
    let mut out = Outcome {
        images: 0,
        correct: 0,
        agree: 0,
        first_mismatch: None,
        ticks: 0,
    };
    let images = IMAGES.chunks_exact(nv).zip(LABELS).zip(PREDICTIONS);
    for (i, ((image, &label), &host)) in images.take(limit).enumerate() {
        let (class, ticks) = classify(image, clock)?;
        out.ticks += u64::from(ticks);
        out.images += 1;
        if model.label_value(class) == Some(i64::from(label)) {
            out.correct += 1;
        }
        if usize::from(host) == class {
            out.agree += 1;
        } else if out.first_mismatch.is_none() {
            out.first_mismatch = Some(Mismatch {
                image: i as u32,
                board: class as u8,
                host,
            });
        }
    }
    Ok(out)
}

/// Runs one classification under `clock`: the class and the ticks.
fn timed(
    clock: &mut impl Clock,
    mut classify: impl FnMut() -> dam_core::Result<usize>,
) -> Result<(usize, u32), Failure> {
    let mut class = Ok(0);
    let ticks = clock.ticks(&mut || class = classify());
    Ok((class?, ticks))
}

/// The host's input value of pixel byte `p` (from the embedded table).
#[cfg(dam_model = "f32")]
fn pixel_value(p: u8) -> f32 {
    let at = usize::from(p) * 4;
    let bytes = crate::vectors::PIXEL_VALUES
        .get(at..at + 4)
        .and_then(|b| b.first_chunk::<4>());
    f32::from_le_bytes(bytes.copied().unwrap_or([0; 4]))
}
