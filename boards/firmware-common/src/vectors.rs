//! The model and the test vectors, embedded in flash.
//!
//! The model is the file `build.rs` picks (its `MODEL`, or the environment
//! variable `DAM_BOARD_MODEL`); its element type sets `cfg(dam_model)`.

/// Places bytes at an address aligned for the model's entries
/// (`Model::parse` borrows them in place).
#[repr(C, align(16))]
struct Aligned<B: ?Sized>(B);

static MODEL: &Aligned<[u8]> = &Aligned(*include_bytes!(env!("DAM_BOARD_MODEL_PATH")));

/// The trained model (`build.rs`'s `MODEL`).
pub(crate) fn model() -> &'static [u8] {
    &MODEL.0
}

/// `N × Nv` pixel bytes.
pub(crate) static IMAGES: &[u8] = include_bytes!("../../data/vectors/images.u8");
/// `N` true labels.
pub(crate) static LABELS: &[u8] = include_bytes!("../../data/vectors/labels.u8");

/// 256 little-endian `f32`: the input value of each pixel byte, as the host
/// computes it.
#[cfg(dam_model = "f32")]
pub(crate) static PIXEL_VALUES: &[u8] = include_bytes!("../../data/vectors/pixel-values.f32");
/// 256 `i8`: the query level of each pixel byte, as the host quantizes it.
#[cfg(dam_model = "i8")]
pub(crate) static PIXEL_LEVELS: &[u8] = include_bytes!("../../data/vectors/pixel-levels.i8");

/// `SUM_ORDER` and `PREDICTIONS` for the host file `predictions-<name>.u8`.
macro_rules! host_predictions {
    ($name:literal) => {
        /// The `dam predict` file (`predictions-<name>.u8`) this build compares against.
        pub const SUM_ORDER: &str = $name;
        /// The host's predictions, one class index per image.
        pub(crate) static PREDICTIONS: &[u8] =
            include_bytes!(concat!("../../data/vectors/predictions-", $name, ".u8"));
    };
}

// The host's predictions for what this build runs. f32 models: in this
// target's summation order (`dam-core` uses the `vfma.f32` kernels exactly
// where it is built for an FPU target). i8 models: the integer overlaps are
// exact, so only the classifier differs: `QuantizedClassifier<i8>` (f32
// rescale) with an FPU, `FixedClassifier` without.
#[cfg(all(
    dam_model = "f32",
    target_arch = "arm",
    target_os = "none",
    target_abi = "eabihf"
))]
host_predictions!("cortex-m4f");
#[cfg(all(
    dam_model = "f32",
    not(all(target_arch = "arm", target_os = "none", target_abi = "eabihf"))
))]
host_predictions!("unfused");
#[cfg(all(
    dam_model = "i8",
    target_arch = "arm",
    target_os = "none",
    target_abi = "eabihf"
))]
host_predictions!("i8");
#[cfg(all(
    dam_model = "i8",
    not(all(target_arch = "arm", target_os = "none", target_abi = "eabihf"))
))]
host_predictions!("fixed");
