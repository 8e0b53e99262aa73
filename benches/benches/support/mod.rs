//! Shared criterion setup: short runs, and time measured as this thread's
//! CPU time.
//!
//! This machine is shared with other builds (2 cores, load average often
//! above 3). Wall-clock time then charges a benchmark for the time slices
//! the scheduler gives to other processes, and long iterations (a 60 ms
//! GEMM) are hit more often than short ones (a 2 ms peak-FMA loop), which
//! biases every ratio. `CLOCK_THREAD_CPUTIME_ID` counts only the time this
//! thread ran. Caches and memory bandwidth are still shared, so
//! memory-bound figures remain somewhat noisy. Set `DAM_BENCH_WALL=1` for
//! wall-clock time: the numbers are then comparable with other criterion
//! runs but not robust to load.

use criterion::Criterion;
use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use std::time::Duration;

/// This thread's CPU time (Linux `CLOCK_THREAD_CPUTIME_ID`), or wall time
/// when `DAM_BENCH_WALL` is set or the clock is unavailable.
pub struct ThreadTime {
    wall: bool,
}

static WALL: WallTime = WallTime;

fn thread_cpu_time() -> Option<Duration> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the call writes only it.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    (rc == 0).then(|| Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32))
}

impl Measurement for ThreadTime {
    type Intermediate = (Option<Duration>, std::time::Instant);
    type Value = Duration;

    fn start(&self) -> Self::Intermediate {
        let cpu = if self.wall { None } else { thread_cpu_time() };
        (cpu, std::time::Instant::now())
    }
    fn end(&self, (cpu, wall): Self::Intermediate) -> Duration {
        match (cpu, thread_cpu_time()) {
            (Some(a), Some(b)) if !self.wall => b.saturating_sub(a),
            _ => wall.elapsed(),
        }
    }
    fn add(&self, a: &Duration, b: &Duration) -> Duration {
        *a + *b
    }
    fn zero(&self) -> Duration {
        Duration::ZERO
    }
    fn to_f64(&self, v: &Duration) -> f64 {
        v.as_nanos() as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        WALL.formatter()
    }
}

/// Prints, once per run, the CPU the figures come from (model name and the
/// SIMD flags the kernels choose by) and the paths `Isa::best()` and
/// `Isa::best_integer()` pick on it.
pub fn print_machine() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let field = |name: &str| {
            info.lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_once(':'))
                .map_or(String::from("?"), |(_, v)| v.trim().to_string())
        };
        let flags = field("flags");
        let simd: Vec<&str> = flags
            .split_whitespace()
            .filter(|f| {
                [
                    "sse2",
                    "avx2",
                    "fma",
                    "avx512f",
                    "avx512bw",
                    "avx512_vnni",
                    "avx_vnni",
                ]
                .contains(f)
            })
            .collect();
        let threads = std::thread::available_parallelism().map_or(0, |n| n.get());
        use dam_core::simd::{Isa, integer_path_name};
        eprintln!(
            "machine: {} ({threads} threads), flags {}; Isa::best() = {:?}, integer path = {}",
            field("model name"),
            simd.join(" "),
            Isa::best(),
            integer_path_name(Isa::best_integer()),
        );
    });
}

/// The configuration of every benchmark here: 10 samples of about 1.5 s
/// after 0.3 s of warm-up (a full `cargo bench` stays near 3 minutes).
/// Prints the machine first ([`print_machine`]).
pub fn config() -> Criterion<ThreadTime> {
    print_machine();
    Criterion::default()
        .with_measurement(ThreadTime {
            wall: std::env::var_os("DAM_BENCH_WALL").is_some(),
        })
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_millis(1500))
        .sample_size(10)
}

/// [`config`] with wall-clock time, for benchmarks whose work runs on other
/// threads (a thread pool), where this thread's CPU time would miss it.
#[allow(dead_code)] // every bench target compiles this module; only one uses this
pub fn wall_config() -> Criterion<WallTime> {
    print_machine();
    Criterion::default()
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_millis(1500))
        .sample_size(10)
}
