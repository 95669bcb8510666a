//! The grader of drill `flash-sale`, generic over the module graded: `grade_flash_sale!(path)`.
//! The catalogue database is simulated on Tokio's paused clock: the counts of queries are exact.

#[macro_export]
macro_rules! grade_flash_sale {
    ($module:path) => {
        use std::sync::Arc;
        use std::time::Duration;

        use exercise_incidents::support;
        use $module as drill;

        #[tokio::test(flavor = "current_thread", start_paused = true)]
        #[allow(clippy::await_holding_lock)]
        async fn a_cached_page_is_served_without_a_query_until_it_expires() {
            let _counters = support::counters_lock();
            let pages = drill::ProductPages::new();
            let first = pages.page(42).await;
            assert!(first.contains("Product 42"), "{first}");
            for _ in 0..10 {
                assert_eq!(pages.page(42).await, first);
            }
            assert_eq!(support::counter("catalogue_queries"), 1);
            // moka keeps time by the real clock, not Tokio's paused one: this wait is the expiry being tested, so
            // it is real (half a second), and blocking is harmless here — nothing else runs on this test's runtime.
            std::thread::sleep(drill::PAGE_TTL + Duration::from_millis(20));
            pages.page(42).await;
            assert_eq!(
                support::counter("catalogue_queries"),
                2,
                "an expired page is built again"
            );
        }

        #[tokio::test(flavor = "current_thread", start_paused = true)]
        #[allow(clippy::await_holding_lock)]
        async fn a_thousand_views_at_once_of_a_cold_page_send_one_query() {
            let _counters = support::counters_lock();
            let pages = Arc::new(drill::ProductPages::new());
            let views: Vec<_> = (0..1_000)
                .map(|_| {
                    let pages = pages.clone();
                    tokio::spawn(async move { pages.page(7).await })
                })
                .collect();
            for view in views {
                assert!(view.await.expect("a view panicked").contains("Product 7"));
            }
            let queries = support::counter("catalogue_queries");
            assert_eq!(
                queries, 1,
                "1,000 simultaneous views of a page not yet cached sent {queries} queries: a stampede"
            );
        }

        #[tokio::test(flavor = "current_thread", start_paused = true)]
        #[allow(clippy::await_holding_lock)]
        async fn different_products_are_built_independently() {
            let _counters = support::counters_lock();
            let pages = Arc::new(drill::ProductPages::new());
            let views: Vec<_> = (0..10)
                .map(|id| {
                    let pages = pages.clone();
                    tokio::spawn(async move { pages.page(id).await })
                })
                .collect();
            for (id, view) in views.into_iter().enumerate() {
                assert!(view.await.unwrap().contains(&format!("Product {id}")));
            }
            assert_eq!(support::counter("catalogue_queries"), 10);
        }
    };
}
