//! Criterion benchmarks: the lab's hand-built LRU against the crates production uses, moka and quick_cache.
//!
//! Workload: a Zipf(1.0) trace over 10,000 keys, a cache of 1,000 entries, get-or-insert on every access (what a
//! cache-aside read does). Measured single-threaded and with two threads sharing one cache (the machine has two
//! cores). The hit ratio of each policy on the trace is printed once: recency (LRU) against moka's TinyLFU
//! admission and quick_cache's CLOCK-Pro, which both keep frequently used keys through bursts of one-off ones.
//!
//! Run: `cargo bench -p lab-caching --bench caches`. Figures are in the lab's README.

use std::hint::black_box;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use lab_caching::lru::Lru;
use rand::rngs::SmallRng;
use rand::SeedableRng;
use rand_distr::{Distribution, Zipf};

const KEYS: f64 = 10_000.0;
const CAPACITY: usize = 1_000;
const TRACE: usize = 100_000;

fn trace(seed: u64) -> Vec<u64> {
    let zipf = Zipf::new(KEYS, 1.0).unwrap();
    let mut rng = SmallRng::seed_from_u64(seed);
    (0..TRACE).map(|_| zipf.sample(&mut rng) as u64).collect()
}

/// The three caches behind one get-or-insert, each as a cache-aside read would use it from several threads.
enum Subject {
    Lru(Mutex<Lru<u64, u64>>),
    Moka(moka::sync::Cache<u64, u64>),
    Quick(quick_cache::sync::Cache<u64, u64>),
}

/// A name and a constructor: each benchmark gets a fresh cache.
type MakeSubject = fn() -> Subject;

impl Subject {
    fn all() -> Vec<(&'static str, MakeSubject)> {
        vec![
            ("hand-built lru", || {
                Subject::Lru(Mutex::new(Lru::new(CAPACITY, Duration::from_secs(3600))))
            }),
            ("moka", || Subject::Moka(moka::sync::Cache::new(CAPACITY as u64))),
            ("quick_cache", || {
                Subject::Quick(quick_cache::sync::Cache::new(CAPACITY))
            }),
        ]
    }

    /// Returns true on a hit; on a miss inserts the key.
    fn access(&self, key: u64) -> bool {
        match self {
            Subject::Lru(lru) => {
                let mut lru = lru.lock().unwrap();
                let now = Instant::now();
                if lru.get(&key, now).is_some() {
                    return true;
                }
                lru.insert(key, key, now);
                false
            }
            Subject::Moka(cache) => {
                if cache.get(&key).is_some() {
                    return true;
                }
                cache.insert(key, key);
                false
            }
            Subject::Quick(cache) => {
                if cache.get(&key).is_some() {
                    return true;
                }
                cache.insert(key, key);
                false
            }
        }
    }
}

fn hit_ratios() {
    let keys = trace(1);
    for (name, make) in Subject::all() {
        let cache = make();
        // One pass to warm, one measured.
        keys.iter().for_each(|k| {
            cache.access(*k);
        });
        if let Subject::Moka(m) = &cache {
            m.run_pending_tasks();
        }
        let hits = keys.iter().filter(|k| cache.access(**k)).count();
        eprintln!(
            "hit ratio on the Zipf trace, {name}: {:.1}%",
            hits as f64 * 100.0 / keys.len() as f64
        );
    }
}

fn single_thread(c: &mut Criterion) {
    hit_ratios();
    let keys = trace(2);
    let mut group = c.benchmark_group("get-or-insert, 1 thread");
    group.throughput(Throughput::Elements(keys.len() as u64));
    for (name, make) in Subject::all() {
        let cache = make();
        group.bench_function(name, |b| {
            b.iter(|| {
                for k in &keys {
                    black_box(cache.access(*k));
                }
            })
        });
    }
    group.finish();
}

fn contended(c: &mut Criterion) {
    let traces = [trace(3), trace(4)];
    let mut group = c.benchmark_group("get-or-insert, 2 threads sharing one cache");
    group.throughput(Throughput::Elements((traces[0].len() * 2) as u64));
    for (name, make) in Subject::all() {
        let cache = make();
        group.bench_function(name, |b| {
            b.iter(|| {
                std::thread::scope(|s| {
                    for t in &traces {
                        let cache = &cache;
                        s.spawn(move || {
                            for k in t {
                                black_box(cache.access(*k));
                            }
                        });
                    }
                });
            })
        });
    }
    group.finish();
}

fn config() -> Criterion {
    // Short runs: a learner's laptop, two cores. The ranking is stable well before criterion's defaults.
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
}

criterion_group! { name = benches; config = config(); targets = single_thread, contended }
criterion_main!(benches);
