//! The model and the test vectors, embedded in flash.

/// Places bytes at an address aligned for the model's `f32` memories
/// (`Model::parse` borrows them in place).
#[repr(C, align(16))]
struct Aligned<B: ?Sized>(B);

static MODEL: &Aligned<[u8]> = &Aligned(*include_bytes!("../../data/mnist-k100.dam"));

/// The trained model (`boards/data/mnist-k100.dam`).
pub(crate) fn model() -> &'static [u8] {
    &MODEL.0
}

/// `N × Nv` pixel bytes.
pub(crate) static IMAGES: &[u8] = include_bytes!("../../data/vectors/images.u8");
/// `N` true labels.
pub(crate) static LABELS: &[u8] = include_bytes!("../../data/vectors/labels.u8");
/// 256 little-endian `f32`: the input value of each pixel byte, as the host
/// computes it.
pub(crate) static PIXEL_VALUES: &[u8] = include_bytes!("../../data/vectors/pixel-values.f32");

// The host's predictions in this target's summation order: `dam-core`
// uses the `vfma.f32` kernels exactly where it is built for an FPU target.
#[cfg(all(target_arch = "arm", target_os = "none", target_abi = "eabihf"))]
pub(crate) static PREDICTIONS: &[u8] =
    include_bytes!("../../data/vectors/predictions-cortex-m4f.u8");
#[cfg(not(all(target_arch = "arm", target_os = "none", target_abi = "eabihf")))]
pub(crate) static PREDICTIONS: &[u8] = include_bytes!("../../data/vectors/predictions-unfused.u8");

/// The `dam predict` order whose predictions this build compares against.
#[cfg(all(target_arch = "arm", target_os = "none", target_abi = "eabihf"))]
pub const SUM_ORDER: &str = "cortex-m4f";
/// The `dam predict` order whose predictions this build compares against.
#[cfg(not(all(target_arch = "arm", target_os = "none", target_abi = "eabihf")))]
pub const SUM_ORDER: &str = "unfused";
