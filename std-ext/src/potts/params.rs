//! The trainable parameters of a Potts memory and their model file.
//!
//! Memories `w^μ` are stored as they are (entries kept in `[−1, 1]`, the
//! constraint set); class weights and prior are stored as logits, so that
//! SGD moves them freely while `p^μ = softmax(θ^μ)` and
//! `p_h = softmax(ρ)` stay distributions. The overlap is scaled by `1/D`:
//! `π_μ(v) = softmax_μ(β w^μ·v / D + ln p_h(μ))`, so `β` does not depend on
//! the image size; the file stores `β/D` (`dam-core` computes `β w·v`).

use std::path::Path;

use anyhow::{Result, anyhow, bail};
use dam_core::model::{ElementType, Header, Kind, Model};
use dam_core::{Form, Interaction};

use crate::model_io::{self, Entries};

/// Memories, class-weight logits and prior logits of `P` hidden states.
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    /// Hidden states `P`.
    pub p: usize,
    /// Visible units `D`.
    pub d: usize,
    /// Classes `C`.
    pub c: usize,
    /// `β` (of the overlap scaled by `1/D`).
    pub beta: f32,
    /// `P × D` memories, entries in `[−1, 1]`.
    pub w: Vec<f32>,
    /// `P × C` logits `θ`: `p^μ = softmax(θ^μ)`.
    pub theta: Vec<f32>,
    /// `P` logits `ρ`: `p_h = softmax(ρ)`.
    pub rho: Vec<f32>,
}

/// Row-wise softmax of a `rows × cols` table, in place.
pub fn softmax_rows(x: &mut [f32], cols: usize) {
    for row in x.chunks_exact_mut(cols.max(1)) {
        let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let mut sum = 0.0f32;
        row.iter_mut().for_each(|v| {
            *v = (*v - max).exp();
            sum += *v;
        });
        row.iter_mut().for_each(|v| *v /= sum);
    }
}

impl Params {
    /// Which parameter is not finite, if any (`memory entry 7 is NaN`): a
    /// run whose parameters left the float range has diverged.
    pub fn first_non_finite(&self) -> Option<String> {
        [
            ("memory entry", &self.w),
            ("class logit", &self.theta),
            ("prior logit", &self.rho),
        ]
        .into_iter()
        .find_map(|(name, v)| {
            let (i, x) = v.iter().enumerate().find(|(_, x)| !x.is_finite())?;
            Some(format!("{name} {i} is {x}"))
        })
    }

    /// The factor of the overlaps, `β / D`.
    pub fn scale(&self) -> f32 {
        self.beta / self.d as f32
    }

    /// The class weights `p^μ_y`, `P × C`.
    pub fn class_weights(&self) -> Vec<f32> {
        let mut p = self.theta.clone();
        softmax_rows(&mut p, self.c);
        p
    }

    /// The prior `p_h(μ)`.
    pub fn prior(&self) -> Vec<f32> {
        let mut p = self.rho.clone();
        softmax_rows(&mut p, self.p);
        p
    }

    /// `ln p_h(μ)`.
    pub fn log_prior(&self) -> Vec<f32> {
        let max = self.rho.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let lse = max + self.rho.iter().map(|r| (r - max).exp()).sum::<f32>().ln();
        self.rho.iter().map(|r| r - lse).collect()
    }

    /// The model header (kind Potts, f32, exponential `F`, raw form with
    /// `β/D`).
    pub fn header(&self) -> Header {
        Header {
            kind: Kind::Potts,
            element: ElementType::F32,
            interaction: Interaction::Exponential,
            form: Form::Raw {
                beta: f64::from(self.scale()),
            },
            k: self.p as u32,
            nv: self.d as u32,
            nc: self.c as u32,
        }
    }

    /// The model file's bytes (class labels `0..C`).
    ///
    /// ```
    /// use dam_std::potts::Params;
    /// use dam_std::model_io::AlignedBytes;
    /// let params = Params { p: 2, d: 2, c: 2, beta: 4.0, w: vec![1.0, 0.0, 0.0, 1.0],
    ///                       theta: vec![2.0, 0.0, 0.0, 2.0], rho: vec![0.0, 0.0] };
    /// let bytes = AlignedBytes::new(&params.encode()?);
    /// let model = dam_core::model::Model::parse(bytes.as_bytes())?;
    /// let clf = model.potts::<f32>()?;
    /// assert_eq!(clf.nearest_memory(&[0.1, 0.9])?, (1, 1));
    /// assert_eq!(Params::from_model(&model)?.w, params.w);
    /// # Ok::<(), anyhow::Error>(())
    /// ```
    pub fn encode(&self) -> Result<Vec<u8>> {
        let mut entries = self.w.clone();
        entries.extend(self.class_weights());
        entries.extend(self.log_prior());
        let labels: Vec<u32> = (0..self.c as u32).collect();
        model_io::encode(&self.header(), &labels, Entries::F32(&entries))
    }

    /// Writes the model file atomically.
    pub fn save(&self, path: &Path) -> Result<()> {
        model_io::write_atomic(path, &self.encode()?)
    }

    /// The model file's bytes with the user's class label values (one per
    /// class), and the input map and class names of `extras`
    /// ([`model_io::encode_with`]: format version 2 where they need it), so
    /// that `dam eval`, `dam predict` and firmware feed raw values and
    /// report the user's labels.
    ///
    /// ```
    /// use dam_std::potts::Params;
    /// use dam_std::model_io::{AlignedBytes, Extras};
    /// let params = Params { p: 2, d: 2, c: 2, beta: 4.0, w: vec![1.0, 0.0, 0.0, 1.0],
    ///                       theta: vec![2.0, 0.0, 0.0, 2.0], rho: vec![0.0, 0.0] };
    /// let names = ["cold".to_string(), "hot".to_string()];
    /// let extras = Extras { preprocessing: Some((&[0.5, 0.5], &[-1.0, -1.0])), names: Some(&names) };
    /// let bytes = AlignedBytes::new(&params.encode_with(&[7, 9], &extras)?);
    /// let model = dam_core::model::Model::parse(bytes.as_bytes())?;
    /// assert_eq!((model.label_value(1), model.class_name(0)), (Some(9), Some("cold")));
    /// let mut v = [0.0f32; 2];
    /// model.preprocessing().unwrap().apply(&[0.0, 4.0], &mut v)?;
    /// assert_eq!(model.potts::<f32>()?.nearest_memory(&v)?, (1, 1));
    /// # Ok::<(), anyhow::Error>(())
    /// ```
    pub fn encode_with(&self, labels: &[i64], extras: &model_io::Extras<'_>) -> Result<Vec<u8>> {
        let mut entries = self.w.clone();
        entries.extend(self.class_weights());
        entries.extend(self.log_prior());
        model_io::encode_with(&self.header(), labels, Entries::F32(&entries), extras)
    }

    /// Writes [`Params::encode_with`]'s file atomically.
    pub fn save_with(
        &self,
        path: &Path,
        labels: &[i64],
        extras: &model_io::Extras<'_>,
    ) -> Result<()> {
        model_io::write_atomic(path, &self.encode_with(labels, extras)?)
    }

    /// The parameters stored in a Potts model (logits are the logarithms
    /// of the stored probabilities, floored at `1e-30`).
    pub fn from_model(model: &Model<'_>) -> Result<Self> {
        let h = model.header();
        if h.kind != Kind::Potts {
            bail!("the model is a {:?}, not a Potts model", h.kind);
        }
        // Checks the class weights and the prior before they are used.
        model.potts::<f32>().map_err(|e| anyhow!("{e}"))?;
        let (p, d, c) = (h.k as usize, h.nv as usize, h.nc as usize);
        let all: &[f32] = zerocopy::FromBytes::ref_from_bytes(model.memory_bytes())
            .map_err(|_| anyhow!("misaligned model"))?;
        let ln = |x: &f32| x.max(1e-30).ln();
        Ok(Params {
            p,
            d,
            c,
            beta: (h.form.beta() * d as f64) as f32,
            w: all[..p * d].to_vec(),
            theta: all[p * d..p * (d + c)].iter().map(ln).collect(),
            rho: all[p * (d + c)..].to_vec(),
        })
    }

    /// Duplicates every hidden state (copy `μ + P` of `μ`): the prior
    /// logits are copied, so each copy carries half of the original's prior
    /// mass, and the network computes exactly the same `p(y | v)`.
    pub fn duplicated(&self) -> Params {
        let mut out = self.clone();
        out.p = 2 * self.p;
        out.w.extend_from_slice(&self.w);
        out.theta.extend_from_slice(&self.theta);
        out.rho.extend_from_slice(&self.rho);
        out
    }
}
