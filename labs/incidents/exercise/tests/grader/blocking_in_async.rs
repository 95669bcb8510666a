//! The grader of drill `blocking-in-async`, generic over the module graded: `grade_blocking_in_async!(path)`.
//! The vendor SDK counts the calls made on the event loop's thread: the test names its own runtime's thread.

#[macro_export]
macro_rules! grade_blocking_in_async {
    ($module:path) => {
        // Each test holds the counters' std mutex across its awaits — what clippy's `await_holding_lock` warns of
        // and what the lock drill is about. Here it is safe: each test runs its own runtime on its own thread, so a
        // test waiting for the lock blocks only its own thread, never a runtime that the holder needs.
        use exercise_incidents::support;
        use $module as drill;

        #[tokio::test(flavor = "current_thread")]
        #[allow(clippy::await_holding_lock)]
        async fn conversions_are_right_and_unknown_currencies_are_refused() {
            let _counters = support::counters_lock();
            assert_eq!(drill::convert(1_000, "USD".into()).await, Some(1_080));
            assert_eq!(drill::convert(999, "EUR".into()).await, Some(999));
            assert_eq!(drill::convert(1_000, "XYZ".into()).await, None);
        }

        #[tokio::test(flavor = "current_thread")]
        #[allow(clippy::await_holding_lock)]
        async fn the_vendor_sdk_is_never_called_on_the_event_loop() {
            let _counters = support::counters_lock();
            support::mark_event_loop();
            let conversions: Vec<_> = ["USD", "GBP", "JPY", "CHF"]
                .into_iter()
                .map(|currency| tokio::spawn(drill::convert(5_000, currency.into())))
                .collect();
            for conversion in conversions {
                assert!(conversion.await.expect("a conversion panicked").is_some());
            }
            let calls = support::counter("exchange_rate_calls");
            let on_loop = support::counter("exchange_rate_calls_on_event_loop");
            assert_eq!(calls, 4, "each conversion asks the vendor once");
            assert_eq!(
                on_loop, 0,
                "{on_loop} of {calls} blocking SDK calls ran on the event loop's thread, stalling every request"
            );
        }
    };
}
