//! The grader of drill `regex-per-request`, generic over the module graded: `grade_regex_per_request!(path)`.
//! Counters and answers only — no timing: the latency objective is measured by `cargo xtask incident check`.

#[macro_export]
macro_rules! grade_regex_per_request {
    ($module:path) => {
        use exercise_incidents::support;
        use $module as drill;

        const ACCEPTED: &[&str] = &[
            "ada@example.com",
            "grace.hopper+navy@mail.example.org",
            "josé@exämple.es",
            "o'brien@example.ie",
            "x@y",
        ];
        const REFUSED: &[&str] = &[
            "no-at-sign.example.com",
            "two@@example.com",
            "trailing@example.com.",
            "@example.com",
            "space in@example.com",
            "dash@-example.com",
        ];

        #[test]
        fn it_still_accepts_and_refuses_the_same_addresses() {
            let _counters = support::counters_lock();
            for address in ACCEPTED {
                assert!(drill::is_valid_email(address), "{address} should be accepted");
            }
            for address in REFUSED {
                assert!(!drill::is_valid_email(address), "{address} should be refused");
            }
        }

        #[test]
        fn two_hundred_validations_compile_the_pattern_at_most_once() {
            let _counters = support::counters_lock();
            for i in 0..200 {
                drill::is_valid_email(&format!("user{i}@example.com"));
            }
            let compiled = support::counter("regex_compiled");
            assert!(
                compiled <= 1,
                "the pattern was compiled {compiled} times for 200 validations: compile it once and keep it"
            );
        }
    };
}
