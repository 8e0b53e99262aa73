//! From tables as read to what the trainer needs: class indices, a
//! stratified test and validation split, and the input map fitted on the
//! training split.
//!
//! Every format ([`super::source`]) is read into a [`Table`]; [`prepare`]
//! then
//! 1. maps the user's labels (integers or strings) to class indices
//!    `0..Nc` in sorted order, keeping the values and names
//!    ([`ClassMap`]) so a model reports them;
//! 2. takes the test split from the file when it has one, else splits the
//!    training rows (stratified, seeded), and splits a validation part off
//!    the training rows for model selection;
//! 3. fits the input map ([`InputMap`], an affine map per feature) on the
//!    training split only and applies it to every split, so the model sees
//!    inputs in `[−1, 1]` (the range of \[KH16\]'s pixels) and firmware can
//!    apply the same map to raw sensor values.

use std::collections::BTreeMap;

use anyhow::{Result, bail};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use super::Split;
use super::table::{Labels, Table, check_same_width};

/// The most classes a model may have (class indices are `u16`).
pub const MAX_CLASSES: usize = 1 << 16;

/// The user's classes: index `α` of the model is the `α`-th value in
/// sorted order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassMap {
    /// The label value of each class; for text labels, `0..Nc`.
    pub values: Vec<i64>,
    /// The label text of each class, for text labels.
    pub names: Option<Vec<String>>,
}

impl ClassMap {
    /// The classes present in `labels`, sorted; errors if there are fewer
    /// than 2 or more than [`MAX_CLASSES`].
    ///
    /// ```
    /// use dam_std::data::dataset::ClassMap;
    /// use dam_std::data::table::Labels;
    /// let c = ClassMap::from_labels(&Labels::Int(vec![7, -1, 7, 3]), "y.npy")?;
    /// assert_eq!(c.values, [-1, 3, 7]);
    /// assert_eq!(c.index(&Labels::Int(vec![3, 7]), "y.npy")?, [1, 2]);
    /// # Ok::<(), anyhow::Error>(())
    /// ```
    pub fn from_labels(labels: &Labels, source: &str) -> Result<Self> {
        let map = match labels {
            Labels::Int(v) => {
                let mut values = v.clone();
                values.sort_unstable();
                values.dedup();
                ClassMap {
                    values,
                    names: None,
                }
            }
            Labels::Text(v) => {
                let mut names = v.clone();
                names.sort_unstable();
                names.dedup();
                ClassMap {
                    values: (0..names.len() as i64).collect(),
                    names: Some(names),
                }
            }
        };
        if map.len() < 2 {
            bail!(
                "{source}: one class only ({}); a classifier needs at least 2",
                map.display(0)
            );
        }
        if map.len() > MAX_CLASSES {
            bail!(
                "{source}: {} classes, at most {MAX_CLASSES} are supported",
                map.len()
            );
        }
        Ok(map)
    }

    /// The number of classes `Nc`.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// `true` if there are no classes.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// How class `alpha` is shown to a person: its name, else its value.
    pub fn display(&self, alpha: usize) -> String {
        match &self.names {
            Some(n) => n.get(alpha).cloned().unwrap_or_default(),
            None => self
                .values
                .get(alpha)
                .map(|v| v.to_string())
                .unwrap_or_default(),
        }
    }

    /// Every class as [`ClassMap::display`] shows it.
    pub fn display_all(&self) -> Vec<String> {
        (0..self.len()).map(|a| self.display(a)).collect()
    }

    /// The class index of every label; an error names the row and value of
    /// the first label that is not one of these classes.
    pub fn index(&self, labels: &Labels, source: &str) -> Result<Vec<u16>> {
        let unknown = |row: usize, value: String| {
            anyhow::anyhow!(
                "{source}: row {row}: label {value} is not a class of the training split \
                 (classes: {})",
                preview(&self.display_all())
            )
        };
        match (labels, &self.names) {
            (Labels::Int(v), None) => v
                .iter()
                .enumerate()
                .map(|(row, x)| {
                    self.values
                        .binary_search(x)
                        .map(|i| i as u16)
                        .map_err(|_| unknown(row, x.to_string()))
                })
                .collect(),
            (Labels::Text(v), Some(names)) => {
                let lookup: BTreeMap<&str, u16> = names
                    .iter()
                    .enumerate()
                    .map(|(i, n)| (n.as_str(), i as u16))
                    .collect();
                v.iter()
                    .enumerate()
                    .map(|(row, x)| {
                        lookup
                            .get(x.as_str())
                            .copied()
                            .ok_or_else(|| unknown(row, format!("{x:?}")))
                    })
                    .collect()
            }
            (Labels::Int(_), Some(_)) => {
                bail!("{source}: integer labels, but the training labels are text")
            }
            (Labels::Text(_), None) => {
                bail!("{source}: text labels, but the training labels are integers")
            }
        }
    }
}

/// The first few items, for error messages.
fn preview(items: &[String]) -> String {
    let shown: Vec<&str> = items.iter().take(8).map(String::as_str).collect();
    if items.len() > shown.len() {
        format!("{}, … ({} in all)", shown.join(", "), items.len())
    } else {
        shown.join(", ")
    }
}

/// How inputs are mapped into `[−1, 1]`, fitted on the training split.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scaling {
    /// Global min-max for images, per-feature min-max otherwise.
    #[default]
    Auto,
    /// One affine map for all features: the training minimum to −1, the
    /// maximum to 1 (pixels: `2p/255 − 1` for 8-bit images).
    GlobalMinMax,
    /// Each feature's training minimum to −1 and maximum to 1 (a constant
    /// feature to 0).
    FeatureMinMax,
    /// Each feature to zero mean and unit standard deviation (a constant
    /// feature to 0).
    Standard,
    /// Inputs as they are (already in the model's range).
    None,
}

/// `x'_i = scale_i · x_i + offset_i` for every feature `i`: what the model
/// file stores and firmware applies to raw inputs.
#[derive(Debug, Clone, PartialEq)]
pub struct InputMap {
    /// `a_i`.
    pub scale: Vec<f32>,
    /// `b_i`.
    pub offset: Vec<f32>,
}

impl InputMap {
    /// The identity on `d` features.
    pub fn identity(d: usize) -> Self {
        InputMap {
            scale: vec![1.0; d],
            offset: vec![0.0; d],
        }
    }

    /// `true` if this is the identity (nothing needs storing).
    pub fn is_identity(&self) -> bool {
        self.scale.iter().all(|&a| a == 1.0) && self.offset.iter().all(|&b| b == 0.0)
    }

    /// Fits `scaling` on the rows of `t` (the training split).
    ///
    /// ```
    /// use dam_std::data::dataset::{InputMap, Scaling};
    /// // Two rows of two features.
    /// let m = InputMap::fit(&[0.0, 10.0, 4.0, 20.0], 2, Scaling::FeatureMinMax, false);
    /// let mut row = [2.0f32, 20.0];
    /// m.apply(&mut row);
    /// assert_eq!(row, [0.0, 1.0]);
    /// ```
    pub fn fit(values: &[f32], d: usize, scaling: Scaling, image: bool) -> Self {
        let scaling = match scaling {
            Scaling::Auto if image => Scaling::GlobalMinMax,
            Scaling::Auto => Scaling::FeatureMinMax,
            s => s,
        };
        let rows = values.chunks_exact(d.max(1));
        match scaling {
            Scaling::None | Scaling::Auto => Self::identity(d),
            Scaling::GlobalMinMax => {
                let (lo, hi) = values
                    .iter()
                    .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &x| {
                        (lo.min(x), hi.max(x))
                    });
                let (a, b) = min_max(f64::from(lo), f64::from(hi));
                InputMap {
                    scale: vec![a; d],
                    offset: vec![b; d],
                }
            }
            Scaling::FeatureMinMax => {
                let mut lo = vec![f32::INFINITY; d];
                let mut hi = vec![f32::NEG_INFINITY; d];
                for row in rows {
                    for ((l, h), &x) in lo.iter_mut().zip(hi.iter_mut()).zip(row) {
                        *l = l.min(x);
                        *h = h.max(x);
                    }
                }
                let (scale, offset) = lo
                    .iter()
                    .zip(&hi)
                    .map(|(&l, &h)| min_max(f64::from(l), f64::from(h)))
                    .unzip();
                InputMap { scale, offset }
            }
            Scaling::Standard => {
                let n = (values.len() / d.max(1)).max(1) as f64;
                let mut sum = vec![0.0f64; d];
                for row in rows.clone() {
                    for (s, &x) in sum.iter_mut().zip(row) {
                        *s += f64::from(x);
                    }
                }
                let mean: Vec<f64> = sum.iter().map(|s| s / n).collect();
                let mut var = vec![0.0f64; d];
                for row in rows {
                    for ((v, &m), &x) in var.iter_mut().zip(&mean).zip(row) {
                        *v += (f64::from(x) - m).powi(2);
                    }
                }
                let (scale, offset) = var
                    .iter()
                    .zip(&mean)
                    .map(|(&v, &m)| {
                        let sd = (v / n).sqrt();
                        if sd > 0.0 && (1.0 / sd).is_finite() && (m / sd).is_finite() {
                            ((1.0 / sd) as f32, (-m / sd) as f32)
                        } else {
                            (0.0, 0.0)
                        }
                    })
                    .unzip();
                InputMap { scale, offset }
            }
        }
    }

    /// Applies the map to one row in place: `x_i ← a_i·x_i + b_i` in `f32`
    /// (a product, then a sum: the same bits on every target).
    pub fn apply(&self, row: &mut [f32]) {
        for ((x, &a), &b) in row.iter_mut().zip(&self.scale).zip(&self.offset) {
            *x = a * *x + b;
        }
    }
}

/// The affine map taking `[lo, hi]` to `[−1, 1]` (a constant to 0), in f32.
fn min_max(lo: f64, hi: f64) -> (f32, f32) {
    let a = 2.0 / (hi - lo);
    if hi > lo && a.is_finite() && (a as f32).is_finite() && (a as f32) > 0.0 {
        let a32 = a as f32;
        // −1 at the minimum: b = −1 − a·lo, computed as the map will be.
        (a32, -1.0 - a32 * lo as f32)
    } else {
        (0.0, 0.0)
    }
}

/// How to split and scale.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// When the data have no test split: the fraction of rows held out
    /// for testing (stratified).
    pub test_fraction: f64,
    /// The fraction of the training rows held out for model selection
    /// (stratified; `0`: none).
    pub val_fraction: f64,
    /// Seed of both splits.
    pub seed: u64,
    /// The input map.
    pub scaling: Scaling,
    /// The rows are `height × width` images (overrides the file's shape).
    pub image_shape: Option<(usize, usize)>,
    /// Use only the first `n` training rows.
    pub train_limit: Option<usize>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            test_fraction: 0.2,
            val_fraction: 0.1,
            seed: 0,
            scaling: Scaling::Auto,
            image_shape: None,
            train_limit: None,
        }
    }
}

impl Options {
    /// Checks the fractions.
    pub fn validate(&self) -> Result<()> {
        for (name, f) in [
            ("--test-fraction", self.test_fraction),
            ("--val-fraction", self.val_fraction),
        ] {
            if !(0.0..1.0).contains(&f) {
                bail!("{name} must be in [0, 1), got {f}");
            }
        }
        if self.test_fraction <= 0.0 {
            bail!("--test-fraction must be above 0 when the data have no test split");
        }
        Ok(())
    }
}

/// Everything the trainer needs, ready.
#[derive(Debug, Clone, PartialEq)]
pub struct Prepared {
    /// The training split (mapped inputs, class indices).
    pub train: Split,
    /// The validation split, if any.
    pub val: Option<Split>,
    /// The test split.
    pub test: Split,
    /// The user's classes.
    pub classes: ClassMap,
    /// The input map fitted on `train`, applied to every split.
    pub map: InputMap,
    /// `(height, width)` if the rows are images.
    pub image_shape: Option<(usize, usize)>,
}

/// Checks a declared image shape against the row width.
pub fn check_image_shape(shape: (usize, usize), d: usize, source: &str) -> Result<()> {
    if shape.0 == 0 || shape.1 == 0 || shape.0.checked_mul(shape.1) != Some(d) {
        bail!(
            "{source}: image shape {}×{} does not match the {d} features of each row",
            shape.0,
            shape.1
        );
    }
    Ok(())
}

/// Stratified split of `labels`' row indices: `(kept, held out)`, each
/// class contributing `round(fraction · n_class)` rows to the held-out
/// part but always keeping one. Both parts sorted.
pub fn stratified(labels: &[u16], nc: usize, fraction: f64, seed: u64) -> (Vec<usize>, Vec<usize>) {
    let mut by_class: Vec<Vec<usize>> = vec![Vec::new(); nc];
    for (i, &l) in labels.iter().enumerate() {
        if let Some(c) = by_class.get_mut(usize::from(l)) {
            c.push(i);
        }
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (mut kept, mut held) = (Vec::new(), Vec::new());
    for rows in &mut by_class {
        rows.shuffle(&mut rng);
        let n = rows.len();
        let take = ((fraction * n as f64).round() as usize).min(n.saturating_sub(1));
        held.extend_from_slice(&rows[..take]);
        kept.extend_from_slice(&rows[take..]);
    }
    kept.sort_unstable();
    held.sort_unstable();
    (kept, held)
}

/// Turns a table into a split: class indices and mapped inputs.
fn to_split(t: &Table, classes: &ClassMap, map: &InputMap) -> Result<Split> {
    let labels = classes.index(&t.labels, &t.source)?;
    let mut images = t.values.clone();
    for row in images.chunks_exact_mut(t.cols.max(1)) {
        map.apply(row);
    }
    Ok(Split {
        images,
        labels,
        dim: t.cols,
    })
}

/// The first `n` rows of a table.
fn head(t: Table, n: usize) -> Table {
    if n >= t.rows {
        return t;
    }
    let labels = match t.labels {
        Labels::Int(mut v) => {
            v.truncate(n);
            Labels::Int(v)
        }
        Labels::Text(mut v) => {
            v.truncate(n);
            Labels::Text(v)
        }
    };
    let mut values = t.values;
    values.truncate(n * t.cols);
    Table {
        values,
        rows: n,
        labels,
        ..t
    }
}

/// Labels, splits and scales (see the module docs). `test` is the file's
/// own test split, if it has one.
///
/// ```
/// use dam_std::data::dataset::{Options, prepare};
/// use dam_std::data::table::{Labels, Table};
/// let train = Table {
///     values: (0..40).map(|i| i as f32).collect(), rows: 20, cols: 2,
///     image_shape: None, feature_names: None,
///     labels: Labels::Text((0..20).map(|i| ["cat", "dog"][i % 2].to_string()).collect()),
///     source: "pets.csv".into(),
/// };
/// let p = prepare(train, None, &Options { test_fraction: 0.2, val_fraction: 0.0, ..Options::default() })?;
/// assert_eq!((p.train.len(), p.test.len(), p.classes.len()), (16, 4, 2));
/// assert_eq!(p.classes.display(1), "dog");
/// # Ok::<(), anyhow::Error>(())
/// ```
pub fn prepare(train: Table, test: Option<Table>, opts: &Options) -> Result<Prepared> {
    opts.validate()?;
    train.validate()?;
    let train = match opts.train_limit {
        Some(0) => bail!("--train-limit 0 leaves no training rows"),
        Some(n) => head(train, n),
        None => train,
    };
    if let Some(t) = &test {
        t.validate()?;
        check_same_width(&train, t)?;
    }
    let image_shape = match opts.image_shape.or(train.image_shape) {
        Some(s) => {
            check_image_shape(s, train.cols, &train.source)?;
            Some(s)
        }
        None => None,
    };
    let classes = ClassMap::from_labels(&train.labels, &train.source)?;
    let all = classes.index(&train.labels, &train.source)?;
    let nc = classes.len();
    // Test rows: the file's own, else a stratified part of the training rows.
    let (train_rows, test_rows) = match &test {
        Some(_) => ((0..train.rows).collect::<Vec<_>>(), Vec::new()),
        None => stratified(&all, nc, opts.test_fraction, opts.seed),
    };
    // Validation rows, from what is left for training.
    let left: Vec<u16> = train_rows.iter().map(|&i| all[i]).collect();
    let (fit_pos, val_pos) = if opts.val_fraction > 0.0 {
        stratified(&left, nc, opts.val_fraction, opts.seed ^ 0x5eed_7a1d)
    } else {
        ((0..left.len()).collect(), Vec::new())
    };
    let fit_rows: Vec<usize> = fit_pos.iter().map(|&p| train_rows[p]).collect();
    let val_rows: Vec<usize> = val_pos.iter().map(|&p| train_rows[p]).collect();
    // Every class must be in the rows the model is fitted on.
    let mut seen = vec![false; nc];
    for &i in &fit_rows {
        seen[usize::from(all[i])] = true;
    }
    if let Some(c) = seen.iter().position(|&s| !s) {
        bail!(
            "{}: class {} has no row left in the training split (too few rows of it to split off test and validation rows)",
            train.source,
            classes.display(c)
        );
    }
    let mut fit_values = Vec::with_capacity(fit_rows.len() * train.cols);
    for &i in &fit_rows {
        fit_values.extend_from_slice(&train.values[i * train.cols..(i + 1) * train.cols]);
    }
    let map = InputMap::fit(&fit_values, train.cols, opts.scaling, image_shape.is_some());
    drop(fit_values);
    let whole = to_split(&train, &classes, &map)?;
    let test = match &test {
        Some(t) => to_split(t, &classes, &map)?,
        None => whole.select(&test_rows),
    };
    if test.is_empty() {
        bail!(
            "{}: the test split is empty (raise --test-fraction or give a test file)",
            train.source
        );
    }
    let val = (!val_rows.is_empty()).then(|| whole.select(&val_rows));
    let train_split = if val_rows.is_empty() && test_rows.is_empty() {
        whole
    } else {
        whole.select(&fit_rows)
    };
    Ok(Prepared {
        train: train_split,
        val,
        test,
        classes,
        map,
        image_shape,
    })
}

/// Maps a test table with a model's classes and input map (what `dam eval`
/// does: it never reads the training data).
pub fn test_split(t: &Table, classes: &ClassMap, map: &InputMap) -> Result<Split> {
    t.validate()?;
    if t.cols != map.scale.len() {
        bail!(
            "{}: {} features per row, the model expects {}",
            t.source,
            t.cols,
            map.scale.len()
        );
    }
    to_split(t, classes, map)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(rows: usize, labels: Labels) -> Table {
        Table {
            values: (0..rows * 3).map(|i| (i % 7) as f32).collect(),
            rows,
            cols: 3,
            image_shape: None,
            feature_names: None,
            labels,
            source: "t".into(),
        }
    }

    #[test]
    fn stratified_keeps_class_proportions_and_is_seeded() {
        let labels: Vec<u16> = (0..100).map(|i| (i % 4 == 0) as u16).collect();
        let (kept, held) = stratified(&labels, 2, 0.2, 3);
        assert_eq!(kept.len() + held.len(), 100);
        assert_eq!(held.iter().filter(|&&i| labels[i] == 1).count(), 5);
        assert_eq!(held.iter().filter(|&&i| labels[i] == 0).count(), 15);
        assert_eq!(stratified(&labels, 2, 0.2, 3), (kept.clone(), held.clone()));
        assert_ne!(stratified(&labels, 2, 0.2, 4).1, held);
    }

    #[test]
    fn labels_map_to_sorted_indices_and_back() {
        let t = table(6, Labels::Int(vec![42, -5, 42, 7, -5, 7]));
        let p = prepare(
            t,
            None,
            &Options {
                test_fraction: 0.34,
                val_fraction: 0.0,
                ..Options::default()
            },
        )
        .unwrap();
        assert_eq!(p.classes.values, [-5, 7, 42]);
        assert_eq!(p.train.len() + p.test.len(), 6);
        assert_eq!(p.test.len(), 3);
    }

    #[test]
    fn unknown_test_class_is_named() {
        let train = table(4, Labels::Int(vec![0, 1, 0, 1]));
        let test = table(2, Labels::Int(vec![1, 9]));
        let e = prepare(train, Some(test), &Options::default()).unwrap_err();
        assert!(e.to_string().contains("row 1: label 9"), "{e}");
    }

    #[test]
    fn one_class_is_refused() {
        let e = prepare(table(4, Labels::Int(vec![3; 4])), None, &Options::default()).unwrap_err();
        assert!(e.to_string().contains("one class only (3)"), "{e}");
    }

    #[test]
    fn feature_min_max_maps_training_range_to_unit() {
        let vals = [1.0f32, -3.0, 5.0, 3.0, 9.0, 5.0];
        let m = InputMap::fit(&vals, 3, Scaling::Auto, false);
        let mut r = [1.0f32, -3.0, 5.0];
        m.apply(&mut r);
        assert_eq!(r, [-1.0, -1.0, 0.0]);
        let mut r = [3.0f32, 9.0, 123.0];
        m.apply(&mut r);
        assert_eq!(r, [1.0, 1.0, 0.0]);
    }

    #[test]
    fn global_min_max_of_bytes_is_the_mnist_pixel_map() {
        let vals: Vec<f32> = (0..=255).map(|p| p as f32).collect();
        let m = InputMap::fit(&vals, 1, Scaling::Auto, true);
        for p in 0..=255u8 {
            let mut x = [f32::from(p)];
            m.apply(&mut x);
            assert_eq!(x[0], crate::data::mnist::pixel_value(p), "pixel {p}");
        }
    }

    /// The host's map and dam-core's `Preprocessing::apply` (what firmware
    /// runs) give the same bits, for every scaling, on random data.
    #[test]
    fn host_and_dam_core_apply_the_same_bits() {
        use rand::{RngExt, SeedableRng};
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let d = 13;
        let vals: Vec<f32> = (0..50 * d)
            .map(|i| rng.random_range(-300.0f32..300.0) * (1 + i % 5) as f32)
            .collect();
        for scaling in [
            Scaling::GlobalMinMax,
            Scaling::FeatureMinMax,
            Scaling::Standard,
        ] {
            let m = InputMap::fit(&vals, d, scaling, false);
            let core = dam_core::model::Preprocessing::new(&m.scale, &m.offset).unwrap();
            for _ in 0..200 {
                let raw: Vec<f32> = (0..d).map(|_| rng.random_range(-1e3f32..1e3)).collect();
                let mut host = raw.clone();
                m.apply(&mut host);
                let mut out = vec![0.0f32; d];
                core.apply(&raw, &mut out).unwrap();
                let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&host), bits(&out), "{scaling:?}");
            }
        }
    }

    #[test]
    fn standard_scaling_centres_and_scales() {
        let vals = [1.0f32, 3.0, 1.0, 3.0];
        let m = InputMap::fit(&vals, 1, Scaling::Standard, false);
        let mut x = [3.0f32];
        m.apply(&mut x);
        assert!((x[0] - 1.0).abs() < 1e-6);
    }
}
