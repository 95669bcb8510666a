//! What one log event costs: disabled, disabled behind an eager `format!`, and enabled as a JSON line (into
//! `io::sink()`, so the cost is the formatting and redaction, not a disk). `cargo bench -p lab-logging --bench
//! events`; the figures are in the lab's README.

use criterion::{criterion_group, criterion_main, Criterion};
use lab_kit::Counters;
use lab_logging::layer::JsonLines;
use lab_logging::redact::Redactor;
use lab_logging::server::COUNTERS;
use tracing::level_filters::LevelFilter;
use tracing::Dispatch;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::Layer;

fn dispatch(enabled: bool) -> Dispatch {
    let layer = JsonLines::new(
        std::io::sink,
        std::sync::Arc::new(Redactor::default()),
        Counters::new(COUNTERS),
    );
    let level = if enabled { LevelFilter::INFO } else { LevelFilter::WARN };
    Dispatch::new(tracing_subscriber::registry().with(layer.with_filter(level)))
}

fn events(c: &mut Criterion) {
    let mut group = c.benchmark_group("one INFO event");
    let card = "4111 1111 1111 1234";
    let off = dispatch(false);
    tracing::dispatcher::with_default(&off, || {
        group.bench_function("disabled", |b| {
            b.iter(|| {
                tracing::info!(
                    order_id = std::hint::black_box(42u64),
                    amount_cents = 1999u64,
                    "payment authorized"
                )
            })
        });
        group.bench_function("disabled, message built eagerly with format!", |b| {
            b.iter(|| {
                let message = format!(
                    "payment authorized for order {} with card {}",
                    std::hint::black_box(42),
                    card
                );
                tracing::info!(message = message.as_str())
            })
        });
    });
    let on = dispatch(true);
    tracing::dispatcher::with_default(&on, || {
        group.bench_function("enabled: a redacted JSON line", |b| {
            b.iter(|| {
                tracing::info!(
                    order_id = std::hint::black_box(42u64),
                    card_number = card,
                    amount_cents = 1999u64,
                    "payment authorized"
                )
            })
        });
    });
    group.finish();
}

criterion_group!(benches, events);
criterion_main!(benches);
