//! The grader of drill `memory-leak`, generic over the module graded: `grade_memory_leak!(path)`. It counts what
//! the store keeps; the memory slope itself is measured by `cargo xtask incident check`.

#[macro_export]
macro_rules! grade_memory_leak {
    ($module:path) => {
        use $module as drill;

        #[test]
        fn a_session_can_be_found_by_its_token() {
            let sessions = drill::Sessions::new();
            let ada = sessions.start("ada");
            let grace = sessions.start("grace");
            assert_ne!(ada, grace, "two sign-ins, two tokens");
            assert_eq!(sessions.get(&ada).expect("ada's session is kept").user, "ada");
            assert_eq!(
                sessions.get(&grace).expect("grace's session is kept").user,
                "grace"
            );
            assert!(sessions.get("no-such-token").is_none());
        }

        #[test]
        fn twenty_thousand_sign_ins_keep_a_bounded_number_of_sessions() {
            let sessions = drill::Sessions::new();
            for i in 0..20_000 {
                sessions.start(&format!("user{i}"));
            }
            let kept = sessions.kept();
            assert!(
                kept <= 5_000,
                "{kept} sessions kept after 20,000 sign-ins: the store grows with every sign-in and never shrinks"
            );
        }

        #[test]
        fn the_newest_session_is_kept_when_the_store_is_full() {
            let sessions = drill::Sessions::new();
            for i in 0..20_000 {
                sessions.start(&format!("user{i}"));
            }
            let newest = sessions.start("newest");
            assert!(
                sessions.get(&newest).is_some(),
                "a user who just signed in must find their session (an admission policy may refuse new entries)"
            );
        }
    };
}
