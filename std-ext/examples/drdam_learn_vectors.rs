//! Writes the vectors of `boards/drdam-learn` (`dam_std::learn_board`):
//! the patterns the board receives, the constants it runs with, and the
//! states, energies and memory hashes it must reproduce bit for bit.
//!
//! ```sh
//! cargo run --release -p dam-std --example drdam_learn_vectors -- [PATTERNS] [DIR]
//! ```
//! `PATTERNS` defaults to 10, `DIR` to `boards/data/drdam-learn`.

use std::path::PathBuf;

use anyhow::{Context, Result};
use dam_std::learn_board::{self, FORGOTTEN, patterns, recovered, unpack};

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let n: usize = match args.next() {
        Some(a) => a.parse().with_context(|| format!("PATTERNS: {a:?}"))?,
        None => 10,
    };
    let dir: PathBuf = args
        .next()
        .map_or_else(|| "boards/data/drdam-learn".into(), PathBuf::from);
    let e = learn_board::write(&dir, n)?;
    let link = patterns(n);
    let xi =
        |r: usize| unpack(&link[r * learn_board::PATTERN_BYTES..][..learn_board::PATTERN_BYTES]);
    let count = |cs: &[learn_board::Completion], skip: Option<usize>| {
        cs.iter()
            .enumerate()
            .filter(|&(r, c)| Some(r) != skip && recovered(&c.state, &xi(r)))
            .count()
    };
    println!(
        "{n} patterns: {}/{} cues completed; after forgetting pattern {FORGOTTEN}: \
         its cue completed: {}, energy at it {:.3} -> {:.3}, others completed {}/{}; \
         wrote {}",
        count(&e.before, None),
        e.before.len(),
        recovered(&e.after[FORGOTTEN].state, &xi(FORGOTTEN)),
        e.before[FORGOTTEN].energy_at_pattern,
        e.after[FORGOTTEN].energy_at_pattern,
        count(&e.after, Some(FORGOTTEN)),
        e.after.len() - 1,
        dir.display()
    );
    Ok(())
}
