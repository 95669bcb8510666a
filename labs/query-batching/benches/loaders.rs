//! Our hand-built DataLoader ([`lab_query_batching::dataloader`], the exercise's reference) against the
//! `dataloader` crate (cksac/dataloader-rs, the DataLoader most Rust GraphQL servers pulled in before
//! async-graphql grew its own).
//!
//! Run with `cargo bench -p lab-query-batching --bench loaders`. Two questions:
//!
//! 1. **Overhead** — a page of 50 loads against an in-memory table: what does batching itself cost per page?
//! 2. **Concurrent pages** — 8 pages of 50 at once against a table 1 ms away: the crate holds one lock across each
//!    batch call (its `BatchFn` takes `&mut self`), so batches run one after another; ours lets batches overlap.
//!
//! Before timing, each case prints how many batch calls one iteration made: a loader that is fast because it
//! stopped batching would show it there.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use futures_util::future::join_all;
use lab_query_batching::dataloader as ours;

/// A table of `key → 2 × key`, `round_trip` away, counting its batch calls.
#[derive(Clone)]
struct Table {
    calls: Arc<AtomicUsize>,
    round_trip: Duration,
}

impl Table {
    fn new(round_trip: Duration) -> Table {
        Table {
            calls: Arc::new(AtomicUsize::new(0)),
            round_trip,
        }
    }

    async fn lookup(&self, keys: &[u64]) -> HashMap<u64, u64> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        if !self.round_trip.is_zero() {
            tokio::time::sleep(self.round_trip).await;
        }
        keys.iter().map(|k| (*k, k * 2)).collect()
    }
}

impl ours::BatchFn for Table {
    type Key = u64;
    type Value = u64;
    type Error = ();

    async fn load(&self, keys: Vec<u64>) -> Result<HashMap<u64, u64>, ()> {
        Ok(self.lookup(&keys).await)
    }
}

impl dataloader::BatchFn<u64, u64> for Table {
    async fn load(&mut self, keys: &[u64]) -> HashMap<u64, u64> {
        self.lookup(keys).await
    }
}

type Crate = dataloader::non_cached::Loader<u64, u64, Table>;

async fn pages_ours(loader: &ours::Loader<Table>, pages: u64) {
    let pages = (0..pages).map(|p| join_all((0..50).map(move |k| loader.load(p * 50 + k))));
    for page in join_all(pages).await {
        assert!(page.iter().all(|v| matches!(v, Ok(Some(_)))));
    }
}

async fn pages_crate(loader: &Crate, pages: u64) {
    let pages = (0..pages).map(|p| join_all((0..50).map(move |k| loader.load(p * 50 + k))));
    for page in join_all(pages).await {
        assert_eq!(page.len(), 50);
    }
}

fn case(c: &mut Criterion, group: &str, pages: u64, round_trip: Duration) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut g = c.benchmark_group(group);
    g.sample_size(20);

    for window_us in [0, 500] {
        let table = Table::new(round_trip);
        let loader = ours::Loader::new(table.clone(), Duration::from_micros(window_us), 200);
        rt.block_on(pages_ours(&loader, pages));
        eprintln!(
            "{group}: ours, window {window_us} µs: {} batch calls per iteration",
            table.calls.swap(0, Ordering::Relaxed)
        );
        g.bench_function(format!("ours_window_{window_us}us"), |b| {
            b.to_async(&rt).iter(|| pages_ours(&loader, pages))
        });
    }

    let table = Table::new(round_trip);
    let loader: Crate = dataloader::non_cached::Loader::new(table.clone()).with_yield_count(10);
    rt.block_on(pages_crate(&loader, pages));
    eprintln!(
        "{group}: dataloader crate, yield 10: {} batch calls per iteration",
        table.calls.swap(0, Ordering::Relaxed)
    );
    g.bench_function("dataloader_crate_yield_10", |b| {
        b.to_async(&rt).iter(|| pages_crate(&loader, pages))
    });
    g.finish();
}

fn loaders(c: &mut Criterion) {
    case(c, "one_page_of_50_in_memory", 1, Duration::ZERO);
    case(c, "8_pages_of_50_1ms_away", 8, Duration::from_millis(1));
}

criterion_group!(benches, loaders);
criterion_main!(benches);
