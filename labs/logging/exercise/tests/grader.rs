//! The logging exercise's grader, written once and run against the learner's starter (`exercise_redactor.rs`) and
//! the reference (the lab's `tests/reference_passes_grader.rs`). `grade!(path::to::module)` expands to one test per
//! expectation.

#[macro_export]
macro_rules! grade {
    ($m:path) => {
        use std::borrow::Cow;

        use $m as imp;
        use serde_json::json;

        fn redactor() -> imp::Redactor {
            imp::Redactor::default()
        }

        #[test]
        fn secret_fields_are_replaced_whatever_their_case() {
            let r = redactor();
            assert_eq!(r.scrub("card_number", "4111 1111 1111 1111"), imp::REDACTED);
            assert_eq!(r.scrub("Authorization", "Basic dXNlcjpwYXNz"), imp::REDACTED);
            assert_eq!(r.scrub("PASSWORD", "hunter2"), imp::REDACTED);
            assert!(r.is_secret_field("Token") && !r.is_secret_field("order_id"));
        }

        #[test]
        fn secrets_in_any_other_field_are_found_by_their_shape() {
            let r = redactor();
            assert_eq!(
                r.scrub("msg", "retry with Bearer eyJhbGci.OiJIUzI1.NiJ9 please"),
                "retry with [REDACTED] please"
            );
            assert_eq!(r.scrub("note", "card 4111-1111-1111-1111 declined"), "card [REDACTED] declined");
            assert_eq!(
                r.scrub("note", "two cards: 4111111111111111 and 5500 0000 0000 0004"),
                "two cards: [REDACTED] and [REDACTED]",
                "every match, not the first"
            );
            assert_eq!(r.scrub("order_id", "order 1234, 12 items"), "order 1234, 12 items", "short numbers stay");
        }

        #[test]
        fn clean_values_are_borrowed_not_copied() {
            let r = redactor();
            assert!(matches!(r.scrub("route", "/order/{id}"), Cow::Borrowed("/order/{id}")));
        }

        #[test]
        fn nested_json_is_redacted_at_any_depth() {
            let r = redactor();
            let mut body = json!({
                "order": 7,
                "payment": { "card_number": 4111111111111111u64, "holder": "Zoé" },
                "headers": [ { "authorization": { "scheme": "Bearer", "value": "x" } }, { "accept": "text/csv" } ],
                "notes": [ "call before 5", "paid by 4111 1111 1111 1111", { "password": null } ],
            });
            r.scrub_json("body", &mut body);
            assert_eq!(
                body,
                json!({
                    "order": 7,
                    "payment": { "card_number": "[REDACTED]", "holder": "Zoé" },
                    "headers": [ { "authorization": "[REDACTED]" }, { "accept": "text/csv" } ],
                    "notes": [ "call before 5", "paid by [REDACTED]", { "password": "[REDACTED]" } ],
                })
            );
            let mut top = json!({ "a": 1 });
            r.scrub_json("token", &mut top);
            assert_eq!(top, json!("[REDACTED]"), "a secret name at the top redacts the whole value");
        }

        #[test]
        fn bytes_that_are_not_utf8_are_logged_and_still_scrubbed() {
            let r = redactor();
            let bytes = b"\xff\xfe agent=curl Bearer abc.def \xc3";
            let out = r.scrub_bytes("user_agent", bytes);
            assert_eq!(out, "\u{fffd}\u{fffd} agent=curl [REDACTED] \u{fffd}");
            assert_eq!(r.scrub_bytes("authorization", b"\xffsecret"), imp::REDACTED);
        }

        #[test]
        fn custom_names_and_patterns_and_a_bad_pattern_is_an_error() {
            let r = imp::Redactor::new(&["ssn"], &[r"\b\d{3}-\d{2}-\d{4}\b"]).unwrap();
            assert_eq!(r.scrub("SSN", "x"), imp::REDACTED);
            assert_eq!(r.scrub("note", "id 123-45-6789 ok"), "id [REDACTED] ok");
            assert_eq!(r.scrub("note", "Bearer abc"), "Bearer abc", "only the patterns given");
            assert!(imp::Redactor::new(&[], &["(unclosed"]).is_err());
        }
    };
}
