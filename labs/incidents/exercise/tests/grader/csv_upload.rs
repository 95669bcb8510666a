//! The grader of drill `csv-upload`, generic over the module graded: `grade_csv_upload!(path)`.
//! The row checker counts the rows checked on the event loop's thread: the test names its own runtime's thread.

#[macro_export]
macro_rules! grade_csv_upload {
    ($module:path) => {
        // Each test holds the counters' std mutex across its awaits: safe, as in the blocking-in-async grader (each
        // test runs its own runtime on its own thread).
        use exercise_incidents::support;
        use $module as drill;

        fn orders(rows: usize) -> String {
            let mut csv = format!("{}\n", support::IMPORT_HEADER);
            for i in 0..rows {
                csv.push_str(&format!("{i},Chloé Martin,chloe.martin@example.com,250,2026-11-27\n"));
            }
            csv
        }

        #[tokio::test(flavor = "current_thread")]
        #[allow(clippy::await_holding_lock)]
        async fn an_import_sums_its_orders_and_refuses_the_first_bad_row() {
            let _counters = support::counters_lock();
            let imported = drill::import(orders(3)).await.expect("three good rows");
            assert_eq!((imported.orders, imported.total_cents), (3, 750));
            let bad = orders(1) + "2,Ben,ben@example.com,twelve,2026-11-27\n3,Cy,cy@example.com,1,2026-02-30\n";
            let refused = drill::import(bad).await.expect_err("a row with an amount in words");
            assert_eq!(refused.line, 3, "the header is line 1: {refused:?}");
            assert!(refused.reason.contains("twelve"), "{refused:?}");
        }

        #[tokio::test(flavor = "current_thread")]
        #[allow(clippy::await_holding_lock)]
        async fn no_row_is_checked_on_the_event_loop() {
            let _counters = support::counters_lock();
            support::mark_event_loop();
            let imported = drill::import(orders(2_000)).await.expect("good rows");
            assert_eq!(imported.orders, 2_000);
            let checked = support::counter("import_rows_checked");
            let on_loop = support::counter("import_rows_checked_on_event_loop");
            assert_eq!(checked, 2_000, "each row is checked once");
            assert_eq!(
                on_loop, 0,
                "{on_loop} of {checked} rows were checked on the event loop's thread: every other request waited for them"
            );
        }
    };
}
