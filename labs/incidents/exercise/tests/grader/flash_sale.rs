//! The grader of drill `flash-sale`, generic over the module graded: `grade_flash_sale!(path)`.
//! The catalogue database is simulated on Tokio's paused clock: the counts of queries, and how long each view
//! waited, are exact.

#[macro_export]
macro_rules! grade_flash_sale {
    ($module:path) => {
        use std::sync::Arc;
        use std::time::Duration;

        use exercise_incidents::support;
        use $module as drill;

        /// The page's objective: a view answered (built, or refused) later than this has missed it.
        const OBJECTIVE: Duration = Duration::from_millis(100);

        /// A view of each of `ids`, all started at once, each on its own task.
        fn views_of(
            pages: &Arc<drill::ProductPages>,
            ids: impl IntoIterator<Item = u32>,
        ) -> Vec<tokio::task::JoinHandle<Result<Arc<String>, support::CatalogueBusy>>> {
            ids.into_iter()
                .map(|id| {
                    let pages = pages.clone();
                    tokio::spawn(async move { pages.page(id).await })
                })
                .collect()
        }

        #[tokio::test(flavor = "current_thread", start_paused = true)]
        #[allow(clippy::await_holding_lock)]
        async fn a_cached_page_is_served_without_a_query_until_it_expires() {
            let _counters = support::counters_lock();
            let pages = drill::ProductPages::new();
            let first = pages.page(42).await.expect("an idle catalogue builds the page");
            assert!(first.contains("Product 42"), "{first}");
            for _ in 0..10 {
                assert_eq!(pages.page(42).await.expect("cached"), first);
            }
            assert_eq!(support::counter("catalogue_queries"), 1);
            // moka keeps time by the real clock, not Tokio's paused one: this wait is the expiry being tested, so
            // it is real (half a second), and blocking is harmless here — nothing else runs on this test's runtime.
            std::thread::sleep(drill::PAGE_TTL + Duration::from_millis(20));
            pages.page(42).await.expect("rebuilt");
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
            for view in views_of(&pages, std::iter::repeat_n(7, 1_000)) {
                let page = view
                    .await
                    .expect("a view panicked")
                    .expect("an idle catalogue builds the page");
                assert!(page.contains("Product 7"));
            }
            let queries = support::counter("catalogue_queries");
            assert_eq!(
                queries, 1,
                "1,000 simultaneous views of a page not yet cached sent {queries} queries: a stampede"
            );
            assert_eq!(support::counter("catalogue_duplicate_builds"), 0);
        }

        #[tokio::test(flavor = "current_thread", start_paused = true)]
        #[allow(clippy::await_holding_lock)]
        async fn different_products_are_built_independently() {
            let _counters = support::counters_lock();
            let pages = Arc::new(drill::ProductPages::new());
            let views = views_of(&pages, 0..support::CATALOGUE_CONNECTIONS as u32);
            for (id, view) in views.into_iter().enumerate() {
                let page = view
                    .await
                    .unwrap()
                    .expect("one build per free connection is never refused");
                assert!(page.contains(&format!("Product {id}")));
            }
            assert_eq!(
                support::counter("catalogue_queries"),
                support::CATALOGUE_CONNECTIONS as u64
            );
        }

        #[tokio::test(flavor = "current_thread", start_paused = true)]
        #[allow(clippy::await_holding_lock)]
        async fn a_build_that_waits_a_moment_for_a_connection_is_not_refused() {
            let _counters = support::counters_lock();
            let pages = Arc::new(drill::ProductPages::new());
            // Every connection busy until 50 ms …
            let busy = views_of(&pages, 0..support::CATALOGUE_CONNECTIONS as u32);
            tokio::time::sleep(Duration::from_millis(45)).await;
            // … so this view waits 5 ms for one: well within the objective, and worth waiting for.
            let page = pages.page(99).await;
            assert!(
                page.is_ok(),
                "a build that would have had a connection 5 ms later was refused: shedding that refuses whenever \
                 the pool is busy turns away work the database was about to take"
            );
            for view in busy {
                view.await.unwrap().expect("built");
            }
        }

        #[tokio::test(flavor = "current_thread", start_paused = true)]
        #[allow(clippy::await_holding_lock)]
        async fn when_the_catalogue_is_saturated_every_view_is_answered_within_the_objective() {
            let _counters = support::counters_lock();
            let pages = Arc::new(drill::ProductPages::new());
            // 200 distinct cold pages at once: 2.5 s of the catalogue's work on its four connections.
            let views: Vec<_> = (1_000..1_200)
                .map(|id| {
                    let pages = pages.clone();
                    tokio::spawn(async move {
                        let asked = tokio::time::Instant::now();
                        let page = pages.page(id).await;
                        (page.is_ok(), asked.elapsed())
                    })
                })
                .collect();
            let (mut built, mut refused, mut slowest) = (0, 0, Duration::ZERO);
            for view in views {
                let (ok, took) = view.await.expect("a view panicked");
                if ok {
                    built += 1;
                } else {
                    refused += 1;
                }
                slowest = slowest.max(took);
            }
            assert!(
                slowest <= OBJECTIVE,
                "with the catalogue saturated a view waited {slowest:?} ({built} built, {refused} refused): a \
                 build that cannot get a connection soon enough should be refused at once (the server answers \
                 429), not queued past the page's {OBJECTIVE:?} objective"
            );
            assert!(
                built >= support::CATALOGUE_CONNECTIONS,
                "only {built} pages built: the free connections went unused"
            );
            assert_eq!(support::counter("catalogue_shed"), refused);
        }
    };
}
