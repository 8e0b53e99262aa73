//! Test-only helpers shared by the unit tests.

use proptest::test_runner::Config;

/// `native`, except under Miri (about 10^5 times slower than native code,
/// and without a file system under its isolation): `miri_cases` cases and
/// no failure file.
pub(crate) fn proptest_config(native: Config, miri_cases: u32) -> Config {
    if cfg!(miri) {
        Config {
            cases: miri_cases,
            failure_persistence: None,
            ..native
        }
    } else {
        native
    }
}
