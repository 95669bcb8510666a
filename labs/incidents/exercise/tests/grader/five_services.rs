//! The grader of drill `five-services`, generic over the module graded: `grade_five_services!(path)`.
//! The five services are simulated on Tokio's paused clock (no service runs in a test): time moves only when every
//! task waits, so "the page took 100 ms" is exact, and nothing depends on the machine's speed.

#[macro_export]
macro_rules! grade_five_services {
    ($module:path) => {
        // Each test holds the counters' std mutex across its awaits: safe, as in the other graders (each test runs
        // its own runtime on its own thread).
        use std::time::Duration;

        use exercise_incidents::support::{self, Behaviour, HEALTHY};
        use tokio::time::Instant;
        use $module as drill;

        fn slow(latency: Duration) -> Behaviour {
            Behaviour {
                latency,
                fail_every: 0,
            }
        }

        #[tokio::test(flavor = "current_thread", start_paused = true)]
        #[allow(clippy::await_holding_lock)]
        async fn with_every_service_healthy_the_page_has_every_part() {
            let _counters = support::counters_lock();
            let page = drill::Downstream::new().account_page(7).await.expect("a page");
            assert!(page.profile.contains("user 7"), "{page:?}");
            assert!(
                page.orders.is_some()
                    && page.recommendations.is_some()
                    && page.inventory.is_some()
                    && page.reviews.is_some(),
                "{page:?}"
            );
            assert_eq!(support::counter("downstream_calls"), 5, "one call per service");
        }

        #[tokio::test(flavor = "current_thread", start_paused = true)]
        #[allow(clippy::await_holding_lock)]
        async fn the_calls_overlap_so_a_page_takes_its_slowest_call_not_the_sum() {
            let _counters = support::counters_lock();
            for service in support::SERVICES {
                support::simulate(service, slow(Duration::from_millis(40)));
            }
            let started = Instant::now();
            drill::Downstream::new().account_page(1).await.expect("a page");
            let took = started.elapsed();
            assert!(
                took < Duration::from_millis(80),
                "five 40 ms calls took {took:?}: one after another they add up to 200 ms"
            );
            assert_eq!(support::counter("downstream_in_flight_max"), 5);
        }

        #[tokio::test(flavor = "current_thread", start_paused = true)]
        #[allow(clippy::await_holding_lock)]
        async fn a_service_that_hangs_is_cut_off_and_its_part_left_out() {
            let _counters = support::counters_lock();
            support::simulate("recommendations", slow(Duration::from_secs(30)));
            let started = Instant::now();
            let page = drill::Downstream::new()
                .account_page(1)
                .await
                .expect("a page without recommendations");
            let took = started.elapsed();
            assert!(
                took <= Duration::from_millis(500),
                "the page waited {took:?} for a service that hangs"
            );
            assert_eq!(page.recommendations, None);
            assert!(page.orders.is_some() && page.reviews.is_some(), "{page:?}");
        }

        #[tokio::test(flavor = "current_thread", start_paused = true)]
        #[allow(clippy::await_holding_lock)]
        async fn a_failing_optional_service_leaves_a_gap_and_a_failing_profile_fails_the_page() {
            let _counters = support::counters_lock();
            let always = Behaviour {
                fail_every: 1,
                ..HEALTHY
            };
            support::simulate("reviews", always);
            let page = drill::Downstream::new()
                .account_page(1)
                .await
                .expect("a page without reviews");
            assert_eq!(page.reviews, None);
            assert!(page.recommendations.is_some(), "{page:?}");
            support::simulate("reviews", HEALTHY);
            support::simulate("profile", always);
            let failed = drill::Downstream::new().account_page(1).await;
            assert!(failed.is_err(), "without a profile there is no page: {failed:?}");
        }

        #[tokio::test(flavor = "current_thread", start_paused = true)]
        #[allow(clippy::await_holding_lock)]
        async fn a_service_that_keeps_timing_out_stops_being_called_for_a_while() {
            let _counters = support::counters_lock();
            support::simulate("recommendations", slow(Duration::from_secs(30)));
            let downstream = drill::Downstream::new();
            for _ in 0..50 {
                let page = downstream.account_page(1).await.expect("a page");
                assert_eq!(page.recommendations, None);
            }
            let calls = support::counter("downstream_calls_recommendations");
            assert!(
                calls <= 10,
                "50 pages called a service that never answers {calls} times: a breaker stops after a few failures"
            );
            assert_eq!(support::counter("downstream_calls_profile"), 50);
        }

        #[tokio::test(flavor = "current_thread", start_paused = true)]
        #[allow(clippy::await_holding_lock)]
        async fn a_service_that_recovers_is_called_again_after_a_cool_down() {
            let _counters = support::counters_lock();
            support::simulate("recommendations", slow(Duration::from_secs(30)));
            let downstream = drill::Downstream::new();
            for _ in 0..20 {
                downstream.account_page(1).await.expect("a page");
            }
            support::simulate("recommendations", HEALTHY);
            tokio::time::sleep(Duration::from_secs(60)).await;
            let mut recovered = false;
            for _ in 0..3 {
                recovered |= downstream
                    .account_page(1)
                    .await
                    .expect("a page")
                    .recommendations
                    .is_some();
            }
            assert!(
                recovered,
                "a minute after it recovered, the service is still not called"
            );
        }
    };
}
