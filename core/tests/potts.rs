//! Potts-hidden-unit inference [TT] against a naive f64 evaluation of
//! math.md §7.

mod common;

use dam_core::{MemoryView, PottsClassifier};
use proptest::prelude::*;

fn softmax_rows(raw: &[f64], c: usize) -> Vec<f64> {
    raw.chunks_exact(c)
        .flat_map(|r| {
            let m = r.iter().cloned().fold(f64::MIN, f64::max);
            let e: Vec<f64> = r.iter().map(|x| (x - m).exp()).collect();
            let s: f64 = e.iter().sum();
            e.into_iter().map(move |x| x / s)
        })
        .collect()
}

proptest! {
    #![proptest_config(common::proptest_config(ProptestConfig::with_cases(200), 16))]

    #[test]
    fn posterior_equals_naive_formula(
        seed in any::<u64>(),
        p in 1usize..20,
        d in 1usize..30,
        c in 1usize..8,
        beta in 0.1f64..30.0,
        with_prior in any::<bool>(),
    ) {
        let mut rng = common::rng(seed);
        let w = common::uniform(&mut rng, p * d);
        let labels = softmax_rows(&common::uniform(&mut rng, p * c).iter().map(|x| 3.0 * x).collect::<Vec<_>>(), c);
        let prior: Vec<f64> = common::uniform(&mut rng, p);
        let v = common::uniform(&mut rng, d);
        let clf = PottsClassifier::new(
            MemoryView::new(&w, p, d).unwrap(), &labels, c,
            if with_prior { Some(&prior[..]) } else { None }, beta).unwrap();
        let mut probs = vec![0.0; c];
        let class = clf.posterior(&v, &mut probs, &mut vec![0.0; p]).unwrap();

        let logits: Vec<f64> = (0..p).map(|mu| {
            let o: f64 = w[mu * d..(mu + 1) * d].iter().zip(&v).map(|(a, b)| a * b).sum();
            beta * o + if with_prior { prior[mu] } else { 0.0 }
        }).collect();
        let z: f64 = logits.iter().map(|l| l.exp()).sum();
        for y in 0..c {
            let want: f64 = (0..p).map(|mu| logits[mu].exp() / z * labels[mu * c + y]).sum();
            prop_assert!((probs[y] - want).abs() < 1e-12, "{} vs {}", probs[y], want);
        }
        prop_assert!((probs.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        let best = probs.iter().cloned().fold(f64::MIN, f64::max);
        prop_assert_eq!(probs[class], best);

        let (mu, label) = clf.nearest_memory(&v).unwrap();
        let overlaps: Vec<f64> = (0..p).map(|m| w[m * d..(m + 1) * d].iter().zip(&v).map(|(a, b)| a * b).sum()).collect();
        let top = overlaps.iter().cloned().fold(f64::MIN, f64::max);
        prop_assert_eq!(overlaps[mu], top);
        let row = &labels[mu * c..(mu + 1) * c];
        prop_assert_eq!(row[label], row.iter().cloned().fold(f64::MIN, f64::max));
    }
}

/// Huge β·overlap saturates the softmax without overflowing.
#[test]
fn large_inverse_temperature_stays_finite() {
    let w = [1.0f32, 1.0, -1.0, -1.0];
    let labels = [1.0f32, 0.0, 0.0, 1.0];
    let clf =
        PottsClassifier::new(MemoryView::new(&w, 2, 2).unwrap(), &labels, 2, None, 1e30).unwrap();
    let mut probs = [0.0f32; 2];
    assert_eq!(
        clf.posterior(&[0.5, 0.5], &mut probs, &mut [0.0; 2])
            .unwrap(),
        0
    );
    assert_eq!(probs, [1.0, 0.0]);
}

mod model_file {
    //! The Potts model kind of the model format: round trip and corruption.
    use dam_core::model::{ElementType, HEADER_LEN, Header, Kind, Model, ModelError, crc32};
    use dam_core::{Error, Form, Interaction};

    fn header(k: u32, nv: u32, nc: u32) -> Header {
        Header {
            kind: Kind::Potts,
            element: ElementType::F32,
            interaction: Interaction::Exponential,
            form: Form::Raw { beta: 2.5 },
            k,
            nv,
            nc,
        }
    }

    /// Header, labels, padding, then `entries`, then the CRC.
    fn encode(h: &Header, entries: &[f32]) -> Vec<u8> {
        let mut head = [0u8; HEADER_LEN];
        h.encode(&mut head).unwrap();
        let mut out = head.to_vec();
        for a in 0..h.nc {
            out.extend_from_slice(&a.to_le_bytes());
        }
        out.resize(h.data_offset(), 0);
        entries
            .iter()
            .for_each(|x| out.extend_from_slice(&x.to_le_bytes()));
        let crc = crc32(&out);
        out.extend_from_slice(&crc.to_le_bytes());
        out
    }

    fn aligned(bytes: &[u8]) -> Vec<u64> {
        let mut w = vec![0u64; bytes.len().div_ceil(8)];
        for (i, &b) in bytes.iter().enumerate() {
            w[i / 8] |= u64::from(b) << (8 * (i % 8));
        }
        w
    }

    fn view(words: &[u64], len: usize) -> &[u8] {
        let bytes: &[u8] =
            zerocopy::FromBytes::ref_from_bytes(zerocopy::IntoBytes::as_bytes(words)).unwrap();
        &bytes[..len]
    }

    /// Three memories in 4-D, 2 classes, a non-uniform log-prior.
    fn parts() -> (Vec<f32>, Vec<f32>, Vec<f32>) {
        let w = vec![
            1.0, 0.5, -1.0, 0.0, //
            -0.5, 1.0, 0.25, -1.0, //
            0.0, -0.75, 1.0, 1.0,
        ];
        let p = vec![0.9, 0.1, 0.3, 0.7, 0.5, 0.5];
        let lp = vec![-1.0, -0.5, -2.0];
        (w, p, lp)
    }

    #[test]
    fn round_trip_predicts_like_the_parts() {
        let (w, p, lp) = parts();
        let h = header(3, 4, 2);
        let entries: Vec<f32> = w.iter().chain(&p).chain(&lp).copied().collect();
        let b = encode(&h, &entries);
        assert_eq!(Some(b.len()), h.total_len());
        let words = aligned(&b);
        let model = Model::parse(view(&words, b.len())).unwrap();
        assert_eq!(*model.header(), h);
        let from_file = model.potts::<f32>().unwrap();
        // The memories are borrowed in place, not copied.
        assert_eq!(from_file.memories().as_slice(), &w[..]);
        assert_eq!(model.memories::<f32>().unwrap().d(), 4);
        let direct = dam_core::PottsClassifier::new(
            dam_core::MemoryView::new(&w, 3, 4).unwrap(),
            &p,
            2,
            Some(&lp),
            2.5,
        )
        .unwrap();
        for v in [
            [1.0f32, 0.0, -1.0, 0.0],
            [0.0, -1.0, 1.0, 1.0],
            [-0.2, 0.9, 0.1, -0.4],
        ] {
            let (mut a, mut b) = ([0.0f32; 2], [0.0f32; 2]);
            let ca = from_file.posterior(&v, &mut a, &mut [0.0; 3]).unwrap();
            let cb = direct.posterior(&v, &mut b, &mut [0.0; 3]).unwrap();
            assert_eq!((ca, a), (cb, b));
            assert_eq!(from_file.nearest_memory(&v), direct.nearest_memory(&v));
        }
        // Other kinds' accessors refuse it, and it refuses theirs.
        assert!(matches!(
            model.classifier::<f32>(),
            Err(Error::Model(ModelError::WrongKind { .. }))
        ));
        assert!(matches!(
            model.potts::<f64>(),
            Err(Error::Model(ModelError::ElementType { .. }))
        ));
    }

    #[test]
    fn every_single_byte_corruption_is_rejected() {
        let (w, p, lp) = parts();
        let entries: Vec<f32> = w.iter().chain(&p).chain(&lp).copied().collect();
        let b = encode(&header(3, 4, 2), &entries);
        for at in 0..b.len() {
            for flip in [0x01u8, 0x80, 0xff] {
                let mut c = b.clone();
                c[at] ^= flip;
                let words = aligned(&c);
                assert!(
                    Model::parse(view(&words, c.len())).is_err(),
                    "byte {at} ^ {flip:#x}"
                );
            }
        }
        // Truncated by one entry (header left claiming the full length).
        let words = aligned(&b[..b.len() - 4]);
        assert!(Model::parse(view(&words, b.len() - 4)).is_err());
    }

    /// A well-formed file (valid CRC) whose contents are not a Potts model:
    /// the header checks and the classifier's own checks catch it.
    #[test]
    fn invalid_contents_with_a_valid_crc_are_rejected() {
        let (w, p, lp) = parts();
        let mut h = header(3, 4, 2);
        h.interaction = Interaction::RectifiedPolynomial { n: 3 };
        assert!(h.encode(&mut [0u8; HEADER_LEN]).is_err());
        let mut h = header(3, 4, 2);
        h.form = Form::Normalized { beta: 1.0 };
        assert!(h.encode(&mut [0u8; HEADER_LEN]).is_err());
        assert!(header(3, 4, 0).encode(&mut [0u8; HEADER_LEN]).is_err());

        let mut bad_weights = p.clone();
        bad_weights[0] = 0.5; // row 0 sums to 0.6
        let mut bad_prior = lp.clone();
        bad_prior[1] = f32::INFINITY;
        for (pw, pl) in [(&bad_weights, &lp), (&p, &bad_prior)] {
            let entries: Vec<f32> = w.iter().chain(pw).chain(pl).copied().collect();
            let b = encode(&header(3, 4, 2), &entries);
            let words = aligned(&b);
            let model = Model::parse(view(&words, b.len())).unwrap();
            assert!(model.potts::<f32>().is_err());
        }
    }
}
