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

/// A file of the vectors directory (`build.rs`'s `DAM_BOARD_VECTORS_DIR`).
macro_rules! vectors_file {
    ($name:expr) => {
        include_bytes!(concat!(env!("DAM_BOARD_VECTORS_DIR"), "/", $name))
    };
}

/// `N` true class indices (255: a label the model does not know).
pub(crate) static CLASSES: &[u8] = vectors_file!("classes.u8");

/// `N × Nv` bytes, one per input value.
#[cfg(dam_inputs = "u8")]
pub(crate) static INPUT_BYTES: &[u8] = vectors_file!("inputs.u8");
/// 256 little-endian `f32`: the value each input byte stands for.
#[cfg(dam_inputs = "u8")]
pub(crate) static BYTE_VALUES: &[u8] = vectors_file!("byte-values.f32");
/// `N × Nv` little-endian `f32` input values.
#[cfg(dam_inputs = "f32")]
pub(crate) static INPUT_FLOATS: &[u8] = vectors_file!("inputs.f32");

/// The bytes one input value takes in the vectors.
#[cfg(dam_inputs = "u8")]
pub(crate) const VALUE_BYTES: usize = 1;
/// The bytes one input value takes in the vectors.
#[cfg(dam_inputs = "f32")]
pub(crate) const VALUE_BYTES: usize = 4;

/// The inputs of all rows, `N × Nv × VALUE_BYTES` bytes.
pub(crate) fn inputs() -> &'static [u8] {
    #[cfg(dam_inputs = "u8")]
    return INPUT_BYTES;
    #[cfg(dam_inputs = "f32")]
    return INPUT_FLOATS;
}

/// The raw values of one row's bytes (`Nv × VALUE_BYTES` of [`inputs`])
/// into `out`, as the host wrote them; `false` if the tables are malformed.
pub(crate) fn values(row: &[u8], out: &mut [f32]) -> bool {
    #[cfg(dam_inputs = "u8")]
    {
        if BYTE_VALUES.len() != 256 * 4 {
            return false;
        }
        for (x, &b) in out.iter_mut().zip(row) {
            let at = usize::from(b) * 4;
            let v = BYTE_VALUES
                .get(at..at + 4)
                .and_then(|v| v.first_chunk::<4>());
            *x = f32::from_le_bytes(v.copied().unwrap_or([0; 4]));
        }
        true
    }
    #[cfg(dam_inputs = "f32")]
    {
        for (x, b) in out.iter_mut().zip(row.chunks_exact(4)) {
            *x = f32::from_le_bytes(b.first_chunk::<4>().copied().unwrap_or([0; 4]));
        }
        true
    }
}

/// `SUM_ORDER` and `PREDICTIONS` for the host file `predictions-<name>.u8`.
macro_rules! host_predictions {
    ($name:literal) => {
        /// The `dam predict` file (`predictions-<name>.u8`) this build compares against.
        pub const SUM_ORDER: &str = $name;
        /// The host's predictions, one class index per image.
        pub(crate) static PREDICTIONS: &[u8] = vectors_file!(concat!("predictions-", $name, ".u8"));
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
