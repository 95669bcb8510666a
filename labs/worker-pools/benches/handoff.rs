//! Criterion benchmarks: what it costs to hand a job to another thread and get its answer back.
//!
//! - per-job overhead of tokio's `spawn_blocking`, rayon's `spawn` and the lab's bounded pool, for a job that does
//!   nothing: the price of moving work off the event loop, to compare with the work itself (~18 ms for a hash);
//! - handing a 1 MiB buffer to a job: a reference-counted `Bytes` (the `SharedArrayBuffer` of Node.js: no copy)
//!   against cloning a `Vec<u8>` (what `postMessage` does by default: a structured clone).
//!
//! Run: `cargo bench -p lab-worker-pools --bench handoff`. Figures are in the lab's README.

use std::hint::black_box;
use std::time::Duration;

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion};
use lab_worker_pools::bounded_pool::BoundedPool;
use tokio::sync::oneshot;

fn per_job(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let pool = BoundedPool::new(2, 1024);
    let rayon = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
    let mut group = c.benchmark_group("one empty job there and back");
    group.bench_function("tokio spawn_blocking", |b| {
        b.iter(|| runtime.block_on(async { tokio::task::spawn_blocking(|| black_box(1)).await.unwrap() }))
    });
    group.bench_function("rayon spawn + oneshot", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let (tx, rx) = oneshot::channel();
                rayon.spawn(move || {
                    let _ = tx.send(black_box(1));
                });
                rx.await.unwrap()
            })
        })
    });
    group.bench_function("bounded pool submit", |b| {
        b.iter(|| runtime.block_on(async { pool.submit(|| black_box(1)).unwrap().await.unwrap().unwrap() }))
    });
    group.finish();
}

fn buffer_handoff(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let pool = BoundedPool::new(2, 1024);
    let shared = Bytes::from(vec![7u8; 1 << 20]);
    let owned = vec![7u8; 1 << 20];
    let mut group = c.benchmark_group("hand a 1 MiB buffer to a job");
    group.bench_function("Bytes (shared, no copy)", |b| {
        b.iter(|| {
            let buffer = shared.clone();
            runtime.block_on(async {
                pool.submit(move || buffer[buffer.len() / 2])
                    .unwrap()
                    .await
                    .unwrap()
                    .unwrap()
            })
        })
    });
    group.bench_function("Vec<u8> (copied)", |b| {
        b.iter(|| {
            let buffer = owned.clone();
            runtime.block_on(async {
                pool.submit(move || buffer[buffer.len() / 2])
                    .unwrap()
                    .await
                    .unwrap()
                    .unwrap()
            })
        })
    });
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
}

criterion_group! { name = benches; config = config(); targets = per_job, buffer_handoff }
criterion_main!(benches);
