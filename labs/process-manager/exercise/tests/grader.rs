//! The process-manager exercise's grader, written once and run against the learner's starter
//! (`exercise_restart_policy.rs`), the reference (the lab's `tests/reference_passes_grader.rs`) and every mutant of
//! it. `grade!(path::to::module)` expands to one test per expectation.

#[macro_export]
macro_rules! grade {
    ($m:path) => {
        use std::time::Duration;

        use imp::{Backoff, Decision, RestartPolicy};
        use $m as imp;

        fn ms(n: u64) -> Duration {
            Duration::from_millis(n)
        }

        fn pm2(max_restarts: Option<u32>) -> Backoff {
            Backoff::new(RestartPolicy {
                base: ms(100),
                max_restarts,
            })
        }

        fn delay(d: Decision) -> Duration {
            match d {
                Decision::RestartAfter(d) => d,
                Decision::Errored => panic!("errored where a restart was expected"),
            }
        }

        #[test]
        fn the_first_delay_is_the_base_and_each_next_one_is_half_again_as_long() {
            let mut b = pm2(None);
            let delays: Vec<Duration> = (0..5).map(|_| delay(b.on_crash(ms(10)))).collect();
            assert_eq!(
                delays,
                [
                    ms(100),
                    ms(150),
                    ms(225),
                    Duration::from_micros(337_500),
                    Duration::from_micros(506_250)
                ],
                "PM2: 100 ms, then x1.5 per crash (not doubling)"
            );
            assert_eq!(b.in_a_row(), 5);
        }

        #[test]
        fn no_delay_is_ever_longer_than_fifteen_seconds() {
            let mut b = pm2(None);
            let delays: Vec<Duration> = (0..40).map(|_| delay(b.on_crash(ms(10)))).collect();
            // 100 ms x 1.5^12 = 12.97 s; the 14th would be 19.5 s: capped.
            assert!(delays[12] < imp::MAX_DELAY, "{:?}", delays[12]);
            assert_eq!(delays[13], imp::MAX_DELAY);
            assert!(delays[13..].iter().all(|d| *d == imp::MAX_DELAY), "{delays:?}");
        }

        #[test]
        fn thirty_seconds_up_starts_a_new_streak() {
            let mut b = pm2(None);
            for _ in 0..6 {
                b.on_crash(ms(10));
            }
            assert_eq!(
                delay(b.on_crash(imp::RESET_AFTER)),
                ms(100),
                "healthy for 30 s: back to the base delay"
            );
            assert_eq!(b.in_a_row(), 1, "and the count starts over");
            assert_eq!(delay(b.on_crash(ms(10))), ms(150));
            // 29.9 s up is not healthy: the streak goes on.
            assert_eq!(delay(b.on_crash(imp::RESET_AFTER - ms(100))), ms(225));
        }

        #[test]
        fn max_restarts_restarts_are_allowed_and_the_next_crash_is_errored() {
            let mut b = pm2(Some(3));
            for _ in 0..3 {
                delay(b.on_crash(ms(10)));
            }
            assert_eq!(
                b.on_crash(ms(10)),
                Decision::Errored,
                "the 4th crash in a row of at most 3 restarts"
            );
            assert_eq!(b.in_a_row(), 4);
            let mut none = pm2(Some(0));
            assert_eq!(
                none.on_crash(ms(10)),
                Decision::Errored,
                "max_restarts = 0: never restarted"
            );
            let mut healthy_between = pm2(Some(1));
            for _ in 0..10 {
                // Each crash after 30 s up is the first of its streak: never errored.
                assert_eq!(delay(healthy_between.on_crash(imp::RESET_AFTER)), ms(100));
            }
        }

        #[test]
        fn a_zero_base_restarts_at_once_every_time() {
            let mut b = Backoff::new(RestartPolicy {
                base: Duration::ZERO,
                max_restarts: None,
            });
            assert!((0..100).all(|_| b.on_crash(ms(1)) == Decision::RestartAfter(Duration::ZERO)));
        }

        /// A minute of a crash loop (up 10 ms, then crash), on tokio's paused clock: virtual time, so this takes a
        /// millisecond and gives the same count every time.
        #[tokio::test(start_paused = true)]
        async fn a_minute_of_crash_loop_has_the_restarts_pm2_would_make() {
            let mut b = pm2(None);
            let start = tokio::time::Instant::now();
            let mut restarts = 0;
            loop {
                // These sleeps are the thing tested — the supervisor's waits — on tokio's paused clock: virtual time,
                // no real time passes.
                tokio::time::sleep(ms(10)).await; // up for 10 ms, then it crashes
                let Decision::RestartAfter(wait) = b.on_crash(ms(10)) else {
                    break;
                };
                tokio::time::sleep(wait).await; // the policy's delay before the restart
                if start.elapsed() > Duration::from_secs(60) {
                    break;
                }
                restarts += 1;
            }
            // The 13 growing delays (100 ms x 1.5^n) add up to 38.9 s; then 15 s each: the 14th restart is at ~54 s.
            assert_eq!(restarts, 14, "restarts within a minute of crash loop");
        }
    };
}
