//! Interaction (separation) functions `F` of math.md §1, in the raw \[KH16\] and
//! normalized \[McA\] forms of math.md §2, and the overflow-free sums behind every
//! energy, update decision and class score of the crate.
//!
//! The raw form evaluates `F(ξ·x)` literally and, like the paper, overflows:
//! `794^14` is already past `f32::MAX`. Here that surfaces as
//! [`Error::Overflow`], never as an infinity. The normalized form evaluates
//! `F(β ξ·x / D)` and sums through [`InteractionSum`], which factors the
//! largest power of two out of the terms (`Σ F(a) = 2^{ne} Σ F(a/2^e)` for
//! homogeneous `F`), keeps exponentials relative to their running maximum,
//! and returns a [`Wide`]: it cannot overflow or underflow.

use crate::error::{Error, Param, Quantity, Result, check_param};
use crate::real::Real;
use crate::wide::Wide;

/// The largest degree `n` accepted (keeps `n · exponent` inside `i32`).
pub const MAX_DEGREE: u32 = 1 << 16;

/// An interaction function `F` (math.md §1).
///
/// ```
/// use dam_core::Interaction;
/// let f = Interaction::<f32>::RectifiedPolynomial { n: 3 };
/// assert_eq!(f.value(2.0), Ok(8.0));
/// assert_eq!(f.value(-2.0), Ok(0.0));
/// assert_eq!(f.derivative(2.0), Ok(12.0));
/// assert!(Interaction::<f32>::Polynomial { n: 14 }.value(794.0).is_err()); // overflows f32
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Interaction<T> {
    /// `F(s) = s^n`.
    Polynomial {
        /// The degree, `1 ≤ n ≤ MAX_DEGREE`.
        n: u32,
    },
    /// `F(s) = s^n` for `s ≥ 0`, else `0`.
    RectifiedPolynomial {
        /// The degree, `1 ≤ n ≤ MAX_DEGREE`.
        n: u32,
    },
    /// `F(s) = s^n` for `s ≥ 0`, else `ε·s`.
    LeakyRectifiedPolynomial {
        /// The degree, `1 ≤ n ≤ MAX_DEGREE`.
        n: u32,
        /// The leak `ε`, finite and `≥ 0` (default `1e-2`, math.md §1).
        leak: T,
    },
    /// `F(s) = e^s` (log-sum-exp energies).
    Exponential,
}

impl<T: Real> Interaction<T> {
    /// The leaky rectified polynomial with the default leak `ε = 1e-2`.
    pub fn leaky(n: u32) -> Self {
        Interaction::LeakyRectifiedPolynomial {
            n,
            leak: T::from_f64(1e-2),
        }
    }

    /// Checks the parameters: `1 ≤ n ≤ MAX_DEGREE`, `ε` finite and `≥ 0`.
    pub fn validate(&self) -> Result<()> {
        match *self {
            Interaction::Polynomial { n } | Interaction::RectifiedPolynomial { n } => {
                check_degree(n)
            }
            Interaction::LeakyRectifiedPolynomial { n, leak } => {
                check_degree(n)?;
                check_param(Param::Leak, leak, 0.0, f64::MAX)
            }
            Interaction::Exponential => Ok(()),
        }
    }

    /// `true` if `F(c·s) = c^n F(s)` for `c > 0`: then update decisions do
    /// not depend on `β` or on the normalization.
    pub fn is_homogeneous(&self) -> bool {
        matches!(
            self,
            Interaction::Polynomial { .. } | Interaction::RectifiedPolynomial { .. }
        )
    }

    /// `F(s)`, evaluated literally; [`Error::Overflow`] if it does not fit,
    /// [`Error::InvalidParameter`] for invalid parameters of `F`.
    pub fn value(&self, s: T) -> Result<T> {
        self.validate()?;
        finite_or_overflow(self.eval(s), Quantity::Interaction, || {
            self.sum_of([(s, false)]).map_or(T::LN_MAX, |w| w.ln())
        })
    }

    /// `F'(s)`, evaluated literally; [`Error::Overflow`] if it does not fit,
    /// [`Error::InvalidParameter`] for invalid parameters of `F`.
    pub fn derivative(&self, s: T) -> Result<T> {
        self.validate()?;
        let power = |n: u32| T::from_usize(n as usize) * s.powi(n.saturating_sub(1));
        let v = match *self {
            Interaction::Polynomial { n } => power(n),
            Interaction::RectifiedPolynomial { n } => {
                if s >= T::ZERO {
                    power(n)
                } else {
                    T::ZERO
                }
            }
            Interaction::LeakyRectifiedPolynomial { n, leak } => {
                if s >= T::ZERO {
                    power(n)
                } else {
                    leak
                }
            }
            Interaction::Exponential => s.exp(),
        };
        finite_or_overflow(v, Quantity::Interaction, || {
            // ln|F'(s)| ≈ ln n + (n-1) ln|s|: a magnitude for the message.
            let n = self.degree().unwrap_or(1);
            let ln_n = T::from_usize(n as usize).ln();
            ln_n + Wide::from_real(s).powi(n.saturating_sub(1)).ln()
        })
    }

    /// `(rectified, n)` for the homogeneous families (see
    /// [`Interaction::is_homogeneous`]), whose sums can be computed a block
    /// of powers at a time under one power-of-two scale.
    pub(crate) fn homogeneous(&self) -> Option<(bool, u32)> {
        match *self {
            Interaction::Polynomial { n } => Some((false, n)),
            Interaction::RectifiedPolynomial { n } => Some((true, n)),
            _ => None,
        }
    }

    /// The degree `n` of the polynomial families, `None` for the exponential.
    pub fn degree(&self) -> Option<u32> {
        match *self {
            Interaction::Polynomial { n }
            | Interaction::RectifiedPolynomial { n }
            | Interaction::LeakyRectifiedPolynomial { n, .. } => Some(n),
            Interaction::Exponential => None,
        }
    }

    /// `F(s)` in plain float arithmetic (may be infinite: internal only).
    #[inline]
    pub(crate) fn eval(&self, s: T) -> T {
        match *self {
            Interaction::Polynomial { n } => s.powi(n),
            Interaction::RectifiedPolynomial { n } => {
                if s >= T::ZERO {
                    s.powi(n)
                } else {
                    T::ZERO
                }
            }
            Interaction::LeakyRectifiedPolynomial { n, leak } => {
                if s >= T::ZERO {
                    s.powi(n)
                } else {
                    leak * s
                }
            }
            Interaction::Exponential => s.exp(),
        }
    }

    /// `Σ ±F(a)` over `(a, subtract)` terms, overflow-free. The only error is
    /// [`Error::Overflow`] for an argument that is itself not finite.
    pub fn sum_of<I: IntoIterator<Item = (T, bool)>>(&self, terms: I) -> Result<Wide<T>> {
        let mut acc = InteractionSum::new(self);
        for (a, subtract) in terms {
            if subtract {
                acc.sub(a);
            } else {
                acc.add(a);
            }
        }
        acc.finish()
    }
}

fn check_degree(n: u32) -> Result<()> {
    if (1..=MAX_DEGREE).contains(&n) {
        Ok(())
    } else {
        Err(Error::InvalidParameter {
            param: Param::Degree,
            value: f64::from(n),
        })
    }
}

/// `Ok(v)` if `v` is finite, else an overflow error whose magnitude is
/// computed (lazily, only on the error path) by `ln_magnitude`.
pub(crate) fn finite_or_overflow<T: Real>(
    v: T,
    quantity: Quantity,
    ln_magnitude: impl FnOnce() -> T,
) -> Result<T> {
    if v.is_finite() {
        Ok(v)
    } else {
        Err(Error::Overflow {
            quantity,
            ln_magnitude: ln_magnitude().to_f64(),
        })
    }
}

/// Where `β` goes (math.md §2).
///
/// ```
/// use dam_core::{Form, Interaction};
/// let f = Interaction::<f32>::Polynomial { n: 20 };
/// // Raw \[KH16\]: β · F(m) with β = 1/T^n, which underflows f32 for T = 540 …
/// let raw = Form::Raw { beta: 1.0 };
/// assert!(raw.term(&f, 794.0, 794).is_err());
/// // … normalized \[McA\]: F(β m / D), argument in [-β, β].
/// let normalized = Form::Normalized { beta: 1.0 };
/// let t = normalized.term(&f, 794.0, 794)?;
/// assert!((t - 1.0).abs() < 1e-5);
/// # Ok::<(), dam_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Form<T> {
    /// \[KH16\]: terms `F(ξ·x)`, their sum multiplied by `β` from outside
    /// (`β = 1/T^n` in the paper; `β = 1` for the plain bipolar energy of
    /// math.md §3). Evaluated literally; overflows like the paper's.
    Raw {
        /// The outside factor, finite and `> 0`.
        beta: T,
    },
    /// \[McA\]: terms `F(β ξ·x / D)`, no outside factor. Overflow-free.
    /// Documented domain where every result is finite: `0 < β ≤ 1` with
    /// entries in `[-1, 1]` (then `|F| ≤ 1` for the polynomial families).
    Normalized {
        /// The inverse temperature, finite and `> 0`.
        beta: T,
    },
}

impl<T: Real> Form<T> {
    /// `β`, whichever form.
    pub fn beta(&self) -> T {
        match *self {
            Form::Raw { beta } | Form::Normalized { beta } => beta,
        }
    }

    /// Checks `β`: finite and `> 0`.
    pub fn validate(&self) -> Result<()> {
        let beta = self.beta();
        if beta.is_finite() && beta > T::ZERO {
            Ok(())
        } else {
            Err(Error::InvalidParameter {
                param: Param::Beta,
                value: beta.to_f64(),
            })
        }
    }

    /// The factor applied to an overlap before `F`: `1` (raw) or `β/D`.
    pub fn arg_scale(&self, d: usize) -> T {
        match *self {
            Form::Raw { .. } => T::ONE,
            Form::Normalized { beta } => beta / T::from_usize(d.max(1)),
        }
    }

    /// One energy term for overlap `m` in dimension `d`: `β F(m)` (raw) or
    /// `F(β m / D)` (normalized). [`Error::Overflow`] if it does not fit.
    pub fn term(&self, f: &Interaction<T>, m: T, d: usize) -> Result<T> {
        self.validate()?;
        f.validate()?;
        let c = self.arg_scale(d);
        let v = self.outside(f.eval(c * m));
        finite_or_overflow(v, Quantity::Interaction, || {
            self.sum(f, [(c * m, false)]).map_or(T::LN_MAX, |w| w.ln())
        })
    }

    /// The derivative of [`Form::term`] with respect to `m`: `β F'(m)` or
    /// `(β/D) F'(β m / D)`.
    pub fn term_derivative(&self, f: &Interaction<T>, m: T, d: usize) -> Result<T> {
        self.validate()?;
        f.validate()?;
        let c = self.arg_scale(d);
        let inner = f.derivative(c * m)?;
        let v = match *self {
            Form::Raw { beta } => beta * inner,
            Form::Normalized { .. } => c * inner,
        };
        finite_or_overflow(v, Quantity::Interaction, || {
            (Wide::from_real(self.beta()) * Wide::from_real(inner)).ln()
        })
    }

    /// Multiplies by the outside factor (raw) or returns `v` (normalized).
    #[inline]
    pub(crate) fn outside(&self, v: T) -> T {
        match *self {
            Form::Raw { beta } => beta * v,
            Form::Normalized { .. } => v,
        }
    }

    /// `outside · Σ ±F(a)` over already-scaled arguments, overflow-free.
    pub(crate) fn sum<I: IntoIterator<Item = (T, bool)>>(
        &self,
        f: &Interaction<T>,
        terms: I,
    ) -> Result<Wide<T>> {
        let s = f.sum_of(terms)?;
        Ok(match *self {
            Form::Raw { beta } => s * Wide::from_real(beta),
            Form::Normalized { .. } => s,
        })
    }
}

/// Pairs processed per block by [`homogeneous_diff`]: small enough for the
/// stack, large enough for the power loops to vectorize.
const BLOCK: usize = 32;

/// `Σ F(a·scale) − F(b·scale)` for a homogeneous `F` (polynomial or
/// rectified polynomial of degree `n`), summed in pair order exactly as
/// `s += F(a) − F(b)` would be, but with the powers computed a block at a
/// time (the same multiplications as [`Real::powi`], so the same bits).
pub(crate) fn homogeneous_diff<T: Real, I: Iterator<Item = (T, T)>>(
    rectified: bool,
    n: u32,
    pairs: I,
    scale: T,
) -> T {
    let mut sum = T::ZERO;
    let mut pairs = pairs.peekable();
    while pairs.peek().is_some() {
        let mut a = [T::ZERO; BLOCK];
        let mut b = [T::ZERO; BLOCK];
        let mut len = 0;
        for ((sa, sb), (pa, pb)) in a.iter_mut().zip(b.iter_mut()).zip(pairs.by_ref()) {
            let (pa, pb) = (pa * scale, pb * scale);
            // Rectified: F(s < 0) = 0 = 0^n.
            *sa = if rectified && pa < T::ZERO {
                T::ZERO
            } else {
                pa
            };
            *sb = if rectified && pb < T::ZERO {
                T::ZERO
            } else {
                pb
            };
            len += 1;
        }
        pow_in_place(&mut a, n);
        pow_in_place(&mut b, n);
        for (&fa, &fb) in a.iter().zip(b.iter()).take(len) {
            sum += fa - fb;
        }
    }
    sum
}

/// `v_k ← v_k^n` by the multiplication sequence of [`Real::powi`], a whole
/// array at a time so the multiplications vectorize.
#[inline]
pub(crate) fn pow_in_place<T: Real, const N: usize>(v: &mut [T; N], n: u32) {
    let mut acc = [T::ONE; N];
    let mut exp = n;
    while exp > 0 {
        if exp & 1 == 1 {
            acc.iter_mut().zip(v.iter()).for_each(|(a, &b)| *a *= b);
        }
        exp >>= 1;
        if exp > 0 {
            v.iter_mut().for_each(|b| *b = *b * *b);
        }
    }
    *v = acc;
}

/// The scale `2^-e` that brings the largest `|a|, |b|` into `[0.5, 1)`:
/// powers of the scaled pairs cannot overflow, and scaling is exact.
/// `None` if an argument is not finite.
pub(crate) fn power_of_two_scale<T: Real, I: Iterator<Item = (T, T)>>(pairs: I) -> Option<T> {
    let big = pairs.fold(T::ZERO, |m, (a, b)| m.max(a.abs()).max(b.abs()));
    if !big.is_finite() {
        return None;
    }
    let e = if big > T::ZERO { big.frexp().1 } else { 0 };
    Some(T::ONE.ldexp(-e.max(T::MIN_SAFE_EXP)))
}

/// A running, overflow-free `Σ F(a_μ) − F(b_μ)`.
///
/// Polynomial terms are kept relative to `2^{n e}`, where `2^e` bounds every
/// argument seen so far; when a larger argument arrives the partial sum is
/// rescaled by an exact power of two. Exponential terms are kept relative to
/// `e^M` for the running maximum `M` (the online log-sum-exp). The leaky
/// polynomial keeps its two halves apart. No step can overflow, and because
/// power-of-two scaling is exact, the partial sums carry exactly the bits the
/// literal float sum would (wherever that one is finite and not subnormal):
/// the signs it produces are the raw form's signs.
///
/// ```
/// use dam_core::{Interaction, InteractionSum};
/// let f = Interaction::<f32>::Polynomial { n: 20 };
/// let mut acc = InteractionSum::new(&f);
/// acc.add_diff(794.0, 792.0); // 794^20 − 792^20 ≈ 5e56: not an f32
/// assert_eq!(acc.signum(), Ok(1));
/// assert!((acc.finish()?.ln() - 130.6).abs() < 0.1);
/// # Ok::<(), dam_core::Error>(())
/// ```
///
/// An argument that is itself infinite or NaN (an overlap that overflowed
/// before it got here) is remembered, and [`InteractionSum::finish`] and
/// [`InteractionSum::signum`] then return [`Error::Overflow`].
#[derive(Debug, Clone, Copy)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct InteractionSum<T> {
    kind: SumKind<T>,
    overflowed: bool,
}

#[derive(Debug, Clone, Copy)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
enum SumKind<T> {
    Poly(PowerSum<T>),
    Rectified(PowerSum<T>),
    Leaky {
        positive: PowerSum<T>,
        negative: PowerSum<T>,
        leak: T,
    },
    Exp(ExpSum<T>),
}

impl<T: Real> InteractionSum<T> {
    /// An empty sum for `f` (whose parameters should be validated first:
    /// a degree of 0 is treated as 1).
    pub fn new(f: &Interaction<T>) -> Self {
        let kind = match *f {
            Interaction::Polynomial { n } => SumKind::Poly(PowerSum::new(n)),
            Interaction::RectifiedPolynomial { n } => SumKind::Rectified(PowerSum::new(n)),
            Interaction::LeakyRectifiedPolynomial { n, leak } => SumKind::Leaky {
                positive: PowerSum::new(n),
                negative: PowerSum::new(1),
                leak,
            },
            Interaction::Exponential => SumKind::Exp(ExpSum::new()),
        };
        InteractionSum {
            kind,
            overflowed: false,
        }
    }

    fn overflow_error() -> Error {
        Error::Overflow {
            quantity: Quantity::Interaction,
            ln_magnitude: T::LN_MAX.to_f64(),
        }
    }

    /// Adds `F(a)`.
    #[inline]
    pub fn add(&mut self, a: T) {
        self.overflowed |= !a.is_finite();
        match &mut self.kind {
            SumKind::Poly(p) => p.add_diff(Some(a), None),
            SumKind::Rectified(p) => {
                if a >= T::ZERO {
                    p.add_diff(Some(a), None)
                }
            }
            SumKind::Leaky {
                positive, negative, ..
            } => {
                if a >= T::ZERO {
                    positive.add_diff(Some(a), None)
                } else {
                    negative.add_diff(Some(a), None)
                }
            }
            SumKind::Exp(e) => e.add_diff(Some(a), None),
        }
    }

    /// Subtracts `F(b)`.
    #[inline]
    pub fn sub(&mut self, b: T) {
        self.overflowed |= !b.is_finite();
        match &mut self.kind {
            SumKind::Poly(p) => p.add_diff(None, Some(b)),
            SumKind::Rectified(p) => {
                if b >= T::ZERO {
                    p.add_diff(None, Some(b))
                }
            }
            SumKind::Leaky {
                positive, negative, ..
            } => {
                if b >= T::ZERO {
                    positive.add_diff(None, Some(b))
                } else {
                    negative.add_diff(None, Some(b))
                }
            }
            SumKind::Exp(e) => e.add_diff(None, Some(b)),
        }
    }

    /// Adds `F(a) − F(b)` (one rounding for the pair, as `s += F(a) − F(b)`).
    #[inline]
    pub fn add_diff(&mut self, a: T, b: T) {
        self.overflowed |= !(a.is_finite() && b.is_finite());
        match &mut self.kind {
            SumKind::Poly(p) => p.add_diff(Some(a), Some(b)),
            SumKind::Rectified(p) => match (a >= T::ZERO, b >= T::ZERO) {
                (true, true) => p.add_diff(Some(a), Some(b)),
                (true, false) => p.add_diff(Some(a), None),
                (false, true) => p.add_diff(None, Some(b)),
                (false, false) => {}
            },
            SumKind::Leaky {
                positive, negative, ..
            } => {
                match (a >= T::ZERO, b >= T::ZERO) {
                    (true, true) => positive.add_diff(Some(a), Some(b)),
                    (false, false) => negative.add_diff(Some(a), Some(b)),
                    (true, false) => {
                        positive.add_diff(Some(a), None);
                        negative.add_diff(None, Some(b));
                    }
                    (false, true) => {
                        positive.add_diff(None, Some(b));
                        negative.add_diff(Some(a), None);
                    }
                };
            }
            SumKind::Exp(e) => e.add_diff(Some(a), Some(b)),
        }
    }

    /// The sign of the sum so far: `-1`, `0` or `+1`. Cheap (no logarithms).
    pub fn signum(&self) -> Result<i8> {
        if self.overflowed {
            return Err(Self::overflow_error());
        }
        Ok(match &self.kind {
            SumKind::Poly(p) | SumKind::Rectified(p) => sign_of(p.sum),
            SumKind::Exp(e) => sign_of(e.sum),
            SumKind::Leaky { .. } => self.finish()?.signum(),
        })
    }

    /// `ln |·|` to report when the literal evaluation of this sum left the
    /// float range: the larger of the exact sum's and (a lower bound of) the
    /// largest term's, because `F(a) − F(b)` overflows in its terms even
    /// where they cancel exactly. Finite for finite arguments.
    pub(crate) fn ln_overflow(&self) -> Result<T> {
        let sum = self.finish()?.ln();
        let term = match &self.kind {
            SumKind::Poly(p) | SumKind::Rectified(p) => p.ln_largest(),
            SumKind::Exp(e) => e.ln_largest(),
            SumKind::Leaky {
                positive,
                negative,
                leak,
            } => positive
                .ln_largest()
                .max(negative.ln_largest() + leak.abs().ln()),
        };
        Ok(sum.max(term).max(-T::MAX))
    }

    /// The sum as a [`Wide`] number.
    pub fn finish(&self) -> Result<Wide<T>> {
        if self.overflowed {
            return Err(Self::overflow_error());
        }
        Ok(match &self.kind {
            SumKind::Poly(p) | SumKind::Rectified(p) => p.finish(),
            SumKind::Exp(e) => e.finish(),
            SumKind::Leaky {
                positive,
                negative,
                leak,
            } => positive.finish() + negative.finish() * Wide::from_real(*leak),
        })
    }
}

fn sign_of<T: Real>(v: T) -> i8 {
    if v > T::ZERO {
        1
    } else if v < T::ZERO {
        -1
    } else {
        0
    }
}

/// `Σ a^n − b^n = 2^{n·exp} · sum`, every scaled argument in `(-1, 1)`.
#[derive(Debug, Clone, Copy)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
struct PowerSum<T> {
    n: u32,
    sum: T,
    exp: i32,
    /// `2^exp` (may be `+inf` at the top of the range: then nothing exceeds it).
    bound: T,
    /// `2^-exp`, exact.
    inv: T,
}

impl<T: Real> PowerSum<T> {
    fn new(n: u32) -> Self {
        let exp = T::MIN_SAFE_EXP;
        PowerSum {
            n: n.clamp(1, MAX_DEGREE),
            sum: T::ZERO,
            exp,
            bound: T::ONE.ldexp(exp),
            inv: T::ONE.ldexp(-exp),
        }
    }

    /// Adds `a^n − b^n` (a missing side counts as zero).
    #[inline]
    fn add_diff(&mut self, a: Option<T>, b: Option<T>) {
        let abs = |v: Option<T>| v.map_or(T::ZERO, |v| v.abs());
        let big = abs(a).max(abs(b));
        if big >= self.bound {
            self.rescale(big);
        }
        match (a, b) {
            (Some(a), Some(b)) => {
                self.sum += (a * self.inv).powi(self.n) - (b * self.inv).powi(self.n)
            }
            (Some(a), None) => self.sum += (a * self.inv).powi(self.n),
            (None, Some(b)) => self.sum -= (b * self.inv).powi(self.n),
            (None, None) => {}
        }
    }

    #[cold]
    fn rescale(&mut self, big: T) {
        if !big.is_finite() {
            return;
        }
        let (_, e) = big.frexp();
        // n ≤ 2^16 and |Δe| ≤ 2200: the product fits an i32.
        let shift = (self.n as i32).saturating_mul(self.exp.saturating_sub(e));
        self.sum = self.sum.ldexp(shift);
        self.exp = e;
        self.bound = T::ONE.ldexp(e);
        self.inv = T::ONE.ldexp(e.saturating_neg());
    }

    fn finish(&self) -> Wide<T> {
        Wide::from_parts(self.sum, (self.n as i32).saturating_mul(self.exp))
    }

    /// A lower bound of `ln` of the largest `|a|^n` added: every rescale
    /// leaves the largest argument in `[2^(exp−1), 2^exp)`; `−MAX` while
    /// no argument reached the initial bound.
    fn ln_largest(&self) -> T {
        if self.exp == T::MIN_SAFE_EXP {
            return -T::MAX;
        }
        let bits = f64::from(self.n) * (f64::from(self.exp) - 1.0);
        T::from_f64(bits * core::f64::consts::LN_2)
    }
}

/// `Σ e^a − e^b = e^max · sum`.
#[derive(Debug, Clone, Copy)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
struct ExpSum<T> {
    sum: T,
    max: T,
    empty: bool,
}

impl<T: Real> ExpSum<T> {
    fn new() -> Self {
        ExpSum {
            sum: T::ZERO,
            max: T::ZERO,
            empty: true,
        }
    }

    /// Adds `e^a − e^b` (a missing side counts as zero).
    #[inline]
    fn add_diff(&mut self, a: Option<T>, b: Option<T>) {
        let big = match (a, b) {
            (Some(a), Some(b)) => a.max(b),
            (Some(v), None) | (None, Some(v)) => v,
            (None, None) => return,
        };
        if !big.is_finite() {
            return;
        }
        if self.empty {
            self.max = big;
            self.empty = false;
        } else if big > self.max {
            self.sum *= (self.max - big).exp();
            self.max = big;
        }
        let e = |v: Option<T>| v.map_or(T::ZERO, |v| (v - self.max).exp());
        self.sum += e(a) - e(b);
    }

    /// `ln` of the largest `e^a` added (`−MAX` if none).
    fn ln_largest(&self) -> T {
        if self.empty { -T::MAX } else { self.max }
    }

    fn finish(&self) -> Wide<T> {
        if self.empty {
            return Wide::ZERO;
        }
        Wide::from_real(self.sum) * Wide::exp(self.max)
    }
}

/// `xⁿ` by the square-and-multiply of [`Real::powi`] (the same operations
/// in the same order, so the same bits) for `N < 64`, written out in six
/// steps so that with `N` known at compile time only its multiplications
/// remain, whatever the optimizer's loop unrolling (`opt-level = "s"`
/// firmware does not unroll `Real::powi`'s loop).
#[inline(always)]
pub(crate) fn pow_const<T: Real, const N: u32>(x: T) -> T {
    if N >= 64 {
        return x.powi(N);
    }
    let (mut acc, mut base, mut e) = (T::ONE, x, N);
    macro_rules! step {
        () => {
            if e & 1 == 1 {
                acc *= base;
            }
            e >>= 1;
            if e > 0 {
                base *= base;
            }
        };
    }
    step!();
    step!();
    step!();
    step!();
    step!();
    if e & 1 == 1 {
        acc *= base;
    }
    acc
}

/// [`pow_const`] for a degree known only at run time, for `1 ≤ n ≤ 40`
/// (chosen once per forward pass; others use [`Real::powi`]).
pub(crate) fn pow_unrolled<T: Real>(n: u32) -> Option<fn(T) -> T> {
    macro_rules! table {
        ($($n:literal)*) => {
            match n {
                $($n => Some(pow_const::<T, $n> as fn(T) -> T),)*
                _ => None,
            }
        };
    }
    table!(1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20
        21 22 23 24 25 26 27 28 29 30 31 32 33 34 35 36 37 38 39 40)
}

#[cfg(test)]
mod tests {
    /// The unrolled powers are bit-identical to `Real::powi` (the host and
    /// the boards must agree with the general path's arithmetic).
    #[test]
    fn unrolled_powers_are_powi_bit_for_bit() {
        for n in 0..50u32 {
            match pow_unrolled::<f32>(n) {
                Some(pow) => {
                    assert!((1..=40).contains(&n), "n = {n}");
                    for x in [0.0f32, 1.0, -0.7, 0.999_9, 1.3, -1.000_1, 3.7e-3, 2.5] {
                        assert_eq!(pow(x).to_bits(), Real::powi(x, n).to_bits(), "{x}^{n}");
                    }
                }
                None => assert!(n == 0 || n > 40, "n = {n}"),
            }
        }
    }

    use super::*;

    fn literal(f: &Interaction<f64>, pairs: &[(f64, f64)]) -> f64 {
        pairs.iter().map(|&(a, b)| f.eval(a) - f.eval(b)).sum()
    }

    #[test]
    fn overflow_free_sum_equals_literal_sum_where_finite() {
        let pairs = [(3.0, -2.0), (0.5, 0.25), (-7.0, 1.5), (100.0, 99.0)];
        for f in [
            Interaction::Polynomial { n: 3 },
            Interaction::RectifiedPolynomial { n: 5 },
            Interaction::leaky(4),
            Interaction::Exponential,
        ] {
            let mut acc = InteractionSum::new(&f);
            for &(a, b) in &pairs {
                acc.add_diff(a, b);
            }
            let want = literal(&f, &pairs);
            let got = acc.finish().unwrap().to_real(Quantity::Energy).unwrap();
            assert!(
                (got - want).abs() <= 1e-12 * want.abs(),
                "{f:?}: {got} vs {want}"
            );
        }
    }

    #[test]
    fn polynomial_sum_is_bitwise_the_literal_sum() {
        let f = Interaction::Polynomial { n: 7 };
        let pairs = [(13.0, -11.0), (2.5, 3.25), (-40.0, 41.0), (0.125, 0.0)];
        let mut acc = InteractionSum::new(&f);
        let mut s = 0.0f64;
        for &(a, b) in &pairs {
            acc.add_diff(a, b);
            s += f.eval(a) - f.eval(b);
        }
        assert_eq!(acc.finish().unwrap().to_real(Quantity::Energy), Ok(s));
    }

    #[test]
    fn block_powers_are_bitwise_the_literal_sum() {
        // A deterministic spread of magnitudes and signs, 100 pairs (3 blocks + a tail).
        let mut pairs = [(0.0f64, 0.0f64); 100];
        for (i, p) in pairs.iter_mut().enumerate() {
            let t = i as f64;
            *p = (libm::sin(t * 0.37) * 50.0, libm::cos(t * 0.91) * 47.0);
        }
        for rectified in [false, true] {
            for n in [1u32, 2, 3, 7, 20, 33] {
                let f = if rectified {
                    Interaction::RectifiedPolynomial { n }
                } else {
                    Interaction::Polynomial { n }
                };
                let mut literal = 0.0f64;
                for &(a, b) in &pairs {
                    literal += f.eval(a) - f.eval(b);
                }
                let got: f64 = homogeneous_diff(rectified, n, pairs.iter().copied(), 1.0);
                assert_eq!(got.to_bits(), literal.to_bits(), "n = {n}");
                let scale = power_of_two_scale(pairs.iter().copied()).unwrap();
                assert_eq!(scale, 1.0 / 64.0);
                let scaled: f64 = homogeneous_diff(rectified, n, pairs.iter().copied(), scale);
                assert_eq!(
                    scaled.ldexp(6 * n as i32).to_bits(),
                    literal.to_bits(),
                    "n = {n}"
                );
            }
        }
    }

    #[test]
    fn invalid_parameters_are_errors() {
        assert!(Interaction::<f32>::Polynomial { n: 0 }.validate().is_err());
        assert!(
            Interaction::<f32>::Polynomial { n: MAX_DEGREE + 1 }
                .validate()
                .is_err()
        );
        assert!(
            Interaction::LeakyRectifiedPolynomial {
                n: 2,
                leak: -1.0f32
            }
            .validate()
            .is_err()
        );
        assert!(Form::Normalized { beta: 0.0f32 }.validate().is_err());
        assert!(Form::Raw { beta: f32::NAN }.validate().is_err());
    }

    #[test]
    fn derivatives_match_finite_differences() {
        let h = 1e-6;
        for f in [
            Interaction::Polynomial { n: 3 },
            Interaction::RectifiedPolynomial { n: 4 },
            Interaction::leaky(2),
            Interaction::Exponential,
        ] {
            for &s in &[-1.3f64, 0.7, 2.0] {
                let fd = (f.value(s + h).unwrap() - f.value(s - h).unwrap()) / (2.0 * h);
                let d = f.derivative(s).unwrap();
                assert!((fd - d).abs() <= 1e-6 * (1.0 + d.abs()), "{f:?} at {s}");
            }
        }
    }
}

#[cfg(test)]
mod overflow_tests {
    use super::*;

    #[test]
    fn non_finite_arguments_poison_the_sum() {
        let f = Interaction::<f32>::Polynomial { n: 2 };
        let mut acc = InteractionSum::new(&f);
        acc.add(1.0);
        acc.add_diff(f32::INFINITY, 0.0);
        assert!(matches!(acc.finish(), Err(Error::Overflow { .. })));
        assert!(matches!(acc.signum(), Err(Error::Overflow { .. })));
        assert!(f.sum_of([(f32::NAN, true)]).is_err());
    }
}
