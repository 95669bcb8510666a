//! The clustering exercise's grader, written once and run against the learner's starter
//! (`exercise_rate_limiter.rs`) and the reference (the lab's `tests/reference_passes_grader.rs`). Time is passed
//! in, so windows are tested exactly, without sleeping.

#[macro_export]
macro_rules! grade {
    ($m:path) => {
        use std::time::{Duration, Instant};

        use $m as imp;

        const MINUTE: Duration = Duration::from_secs(60);

        #[test]
        fn the_limit_is_admitted_and_no_more() {
            let limiter = imp::RateLimiter::new(3, MINUTE);
            let now = Instant::now();
            let admitted: Vec<bool> = (0..5).map(|_| limiter.admit("k", now)).collect();
            assert_eq!(admitted, [true, true, true, false, false]);
        }

        #[test]
        fn keys_do_not_share_an_allowance() {
            let limiter = imp::RateLimiter::new(1, MINUTE);
            let now = Instant::now();
            assert!(limiter.admit("a", now));
            assert!(limiter.admit("b", now), "b has its own allowance");
            assert!(!limiter.admit("a", now));
        }

        #[test]
        fn a_window_lasts_exactly_its_length_from_its_first_request() {
            let limiter = imp::RateLimiter::new(2, MINUTE);
            let start = Instant::now();
            assert!(limiter.admit("k", start));
            assert!(limiter.admit("k", start + Duration::from_secs(30)));
            assert!(
                !limiter.admit("k", start + MINUTE - Duration::from_millis(1)),
                "still the first window"
            );
            assert!(
                limiter.admit("k", start + MINUTE),
                "a window of 60 s is over at 60 s: a new one begins"
            );
            assert!(limiter.admit("k", start + MINUTE + Duration::from_secs(1)));
            assert!(
                !limiter.admit("k", start + MINUTE + Duration::from_secs(2)),
                "the new window has its limit too"
            );
        }

        #[test]
        fn a_limit_of_zero_admits_nothing() {
            let limiter = imp::RateLimiter::new(0, MINUTE);
            assert!(!limiter.admit("k", Instant::now()));
        }

        #[test]
        fn threads_asking_at_once_get_exactly_the_limit() {
            let limiter = imp::RateLimiter::new(1000, MINUTE);
            let now = Instant::now();
            let start = std::sync::Barrier::new(4);
            let admitted: usize = std::thread::scope(|scope| {
                let threads: Vec<_> = (0..4)
                    .map(|_| {
                        scope.spawn(|| {
                            start.wait();
                            (0..50_000).filter(|_| limiter.admit("hot", now)).count()
                        })
                    })
                    .collect();
                threads.into_iter().map(|t| t.join().unwrap()).sum()
            });
            assert_eq!(
                admitted, 1000,
                "200,000 requests from 4 threads against a limit of 1000"
            );
        }
    };
}
