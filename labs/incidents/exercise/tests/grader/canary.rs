//! The grader of drill `canary`, generic over the module graded: `grade_canary!(path)`.
//! Counts only: how many checkouts each build served, how many the canary failed.

#[macro_export]
macro_rules! grade_canary {
    ($module:path) => {
        use exercise_incidents::support;
        use $module as drill;

        async fn checkouts(rollout: &drill::Rollout, count: u32) -> u32 {
            let mut failed = 0;
            for cart in 0..count {
                failed += u32::from(rollout.checkout(cart).await.is_err());
            }
            failed
        }

        #[tokio::test(flavor = "current_thread")]
        #[allow(clippy::await_holding_lock)]
        async fn a_healthy_canary_keeps_about_a_tenth_of_the_checkouts() {
            let _counters = support::counters_lock();
            support::set_canary_bug(0);
            let failed = checkouts(&drill::Rollout::new(), 2_000).await;
            assert_eq!(failed, 0);
            let canary = support::counter("canary_requests");
            assert!(
                (100..=300).contains(&canary),
                "the canary served {canary} of 2,000 checkouts"
            );
        }

        #[tokio::test(flavor = "current_thread")]
        #[allow(clippy::await_holding_lock)]
        async fn a_failing_canary_is_rolled_back_after_a_few_errors() {
            let _counters = support::counters_lock();
            let rollout = drill::Rollout::new();
            checkouts(&rollout, 5_000).await;
            let errors = support::counter("canary_errors");
            assert!(
                errors <= 25,
                "a canary failing 3 checkouts in 10 failed {errors} of 5,000: nothing rolled it back"
            );
            let before = support::counter("canary_requests");
            let failed = checkouts(&rollout, 1_000).await;
            assert_eq!(
                failed, 0,
                "after the rollback every checkout goes to the stable build"
            );
            assert_eq!(
                support::counter("canary_requests"),
                before,
                "rolled back means no canary traffic"
            );
        }
    };
}
