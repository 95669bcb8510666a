//! The grader of drill `lock-across-await`, generic over the module graded: `grade_lock_across_await!(path)`.
//! Tokio's paused clock stands in for the pricing service's 20 ms, so "in parallel" is decided by virtual time and
//! the counters, never by how fast this machine is.

#[macro_export]
macro_rules! grade_lock_across_await {
    ($module:path) => {
        // Each test holds the counters' std mutex across its awaits — what clippy's `await_holding_lock` warns of
        // and what the lock drill is about. Here it is safe: each test runs its own runtime on its own thread, so a
        // test waiting for the lock blocks only its own thread, never a runtime that the holder needs.
        use std::sync::Arc;

        use exercise_incidents::support::{self, QuoteBook, PRICING_LATENCY};
        use tokio::sync::Mutex;
        use $module as drill;

        #[tokio::test(start_paused = true)]
        #[allow(clippy::await_holding_lock)]
        async fn a_quote_is_the_base_price_less_the_discount_and_is_recorded() {
            let _counters = support::counters_lock();
            let book = Mutex::new(QuoteBook::default());
            // sku 3: base 1000 + 3 * 10, discount (3 % 7) * 25.
            assert_eq!(drill::quote(&book, 3).await, 1_030 - 75);
            assert_eq!(book.lock().await.last_quote(3), Some(955));
        }

        #[tokio::test(start_paused = true)]
        #[allow(clippy::await_holding_lock)]
        async fn twenty_quotes_at_once_wait_for_the_pricing_service_together_not_in_turn() {
            let _counters = support::counters_lock();
            let book = Arc::new(Mutex::new(QuoteBook::default()));
            let started = tokio::time::Instant::now();
            let quotes: Vec<_> = (0..20u32)
                .map(|sku| {
                    let book = Arc::clone(&book);
                    tokio::spawn(async move { drill::quote(&book, sku).await })
                })
                .collect();
            for quote in quotes {
                quote.await.expect("a quote task panicked");
            }
            let took = started.elapsed();
            let overlapping = support::counter("pricing_in_flight_max");
            assert!(
                took < PRICING_LATENCY * 3,
                "20 quotes took {took:?} of (virtual) time, {overlapping} pricing call(s) at most at once: the calls \
                 waited for each other"
            );
            assert!(
                overlapping >= 10,
                "only {overlapping} pricing calls were ever in flight at once"
            );
            for sku in 0..20u32 {
                assert!(
                    book.lock().await.last_quote(sku).is_some(),
                    "the quote of {sku} was not recorded"
                );
            }
        }
    };
}
