//! A labelled split: rows of `dim` model inputs and a class index per row.

/// Labelled samples, each a row of `dim` inputs (already mapped into the
/// range the model expects), with one class index in `0..Nc` per row.
#[derive(Debug, Clone, PartialEq)]
pub struct Split {
    /// `len() × dim` inputs, row-major.
    pub images: Vec<f32>,
    /// One class index per row (`0..Nc`; up to 65 536 classes).
    pub labels: Vec<u16>,
    /// Inputs per row (784 for MNIST).
    pub dim: usize,
}

impl Split {
    /// The number of rows.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// `true` if there are no rows.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Row `i` (panics if `i ≥ len()`).
    pub fn image(&self, i: usize) -> &[f32] {
        &self.images[i * self.dim..(i + 1) * self.dim]
    }

    /// The first `n` rows (all of them if `n ≥ len()`).
    ///
    /// ```
    /// use dam_std::data::Split;
    /// let s = Split { images: vec![0.0, 1.0, 2.0, 3.0], labels: vec![0, 1], dim: 2 };
    /// assert_eq!(s.head(1).images, [0.0, 1.0]);
    /// ```
    pub fn head(&self, n: usize) -> Split {
        let n = n.min(self.len());
        Split {
            images: self.images[..n * self.dim].to_vec(),
            labels: self.labels[..n].to_vec(),
            dim: self.dim,
        }
    }

    /// Appends the rows of `other` (of the same width).
    ///
    /// ```
    /// use dam_std::data::Split;
    /// let mut a = Split { images: vec![1.0, 2.0], labels: vec![0], dim: 2 };
    /// a.append(&Split { images: vec![3.0, 4.0], labels: vec![1], dim: 2 });
    /// assert_eq!((a.images, a.labels), (vec![1.0, 2.0, 3.0, 4.0], vec![0, 1]));
    /// ```
    pub fn append(&mut self, other: &Split) {
        debug_assert_eq!(self.dim, other.dim);
        self.images.extend_from_slice(&other.images);
        self.labels.extend_from_slice(&other.labels);
    }

    /// The rows at `indices`, in that order (panics on an index `≥ len()`).
    ///
    /// ```
    /// use dam_std::data::Split;
    /// let s = Split { images: vec![0.0, 1.0, 2.0, 3.0], labels: vec![0, 1], dim: 2 };
    /// assert_eq!(s.select(&[1, 0]).labels, [1, 0]);
    /// ```
    pub fn select(&self, indices: &[usize]) -> Split {
        let mut images = Vec::with_capacity(indices.len() * self.dim);
        for &i in indices {
            images.extend_from_slice(self.image(i));
        }
        Split {
            images,
            labels: indices.iter().map(|&i| self.labels[i]).collect(),
            dim: self.dim,
        }
    }
}
