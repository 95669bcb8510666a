//! The query-batching exercise's grader, written once and run against two implementations: the learner's starter
//! (`exercise_dataloader.rs` in this folder) and the reference solution (the lab's own tests).
//!
//! `grade!(path::to::module)` expands to one `#[tokio::test]` per expectation; the module must export `Loader`,
//! `BatchFn` and `LoadError`. Each test's name says what is expected, so a failure reads as a task. Every wait has
//! a deadline, so a wrong implementation fails instead of hanging.

#[macro_export]
macro_rules! grade {
    ($m:path) => {
        use std::collections::HashMap;
        use std::sync::{Arc, Mutex};
        use std::time::Duration;

        use $m as imp;

        /// A batch function that records every call. Keys that are multiples of 10 do not exist.
        #[derive(Clone, Default)]
        struct Recording {
            calls: Arc<Mutex<Vec<Vec<u32>>>>,
            fail: bool,
            /// When set, each call waits for a permit first (to hold a batch open).
            gate: Option<Arc<tokio::sync::Semaphore>>,
        }

        impl Recording {
            fn calls(&self) -> Vec<Vec<u32>> {
                self.calls.lock().unwrap().clone()
            }
        }

        impl imp::BatchFn for Recording {
            type Key = u32;
            type Value = String;
            type Error = String;

            fn load(
                &self,
                keys: Vec<u32>,
            ) -> impl std::future::Future<Output = Result<HashMap<u32, String>, String>> + Send {
                let this = self.clone();
                async move {
                    this.calls.lock().unwrap().push(keys.clone());
                    if let Some(gate) = &this.gate {
                        let _permit = gate.acquire().await;
                    }
                    if this.fail {
                        return Err("database down".to_string());
                    }
                    Ok(keys
                        .into_iter()
                        .filter(|k| k % 10 != 0)
                        .map(|k| (k, format!("value {k}")))
                        .collect())
                }
            }
        }

        fn value(k: u32) -> Option<String> {
            Some(format!("value {k}"))
        }

        /// Awaits `f`, failing the test (not hanging it) after 10 s.
        async fn within<T>(what: &str, f: impl std::future::Future<Output = T>) -> T {
            match tokio::time::timeout(Duration::from_secs(10), f).await {
                Ok(v) => v,
                Err(_) => panic!("waited 10 s for {what}: something never finished"),
            }
        }

        const WINDOW: Duration = Duration::from_millis(5);

        #[tokio::test(start_paused = true)]
        async fn concurrent_loads_within_the_window_make_one_batch_call() {
            let source = Recording::default();
            let loader = imp::Loader::new(source.clone(), WINDOW, 100);
            let loads = (1..=20).map(|k| {
                let loader = loader.clone();
                async move { loader.load(k).await }
            });
            let results = within("20 loads", futures_util::future::join_all(loads)).await;
            for (k, result) in (1..=20).zip(results) {
                let expected = if k % 10 == 0 { None } else { value(k) };
                assert_eq!(
                    result,
                    Ok(expected),
                    "load({k}) must return its own value (10 and 20 do not exist)"
                );
            }
            let calls = source.calls();
            assert_eq!(
                calls.len(),
                1,
                "20 concurrent loads must make one batch call, not {}: {calls:?}",
                calls.len()
            );
            assert_eq!(
                calls[0],
                (1..=20).collect::<Vec<_>>(),
                "the batch holds every key, in the order asked"
            );
        }

        #[tokio::test(start_paused = true)]
        async fn keys_asked_later_in_the_window_join_the_same_batch() {
            let source = Recording::default();
            let loader = imp::Loader::new(source.clone(), WINDOW, 100);
            let early = tokio::spawn({
                let loader = loader.clone();
                async move { loader.load(1).await }
            });
            // Half the window later, a second key: it must ride in the same batch. This sleep is the thing tested
            // (a key arriving inside the window), on tokio's paused clock: no real time passes.
            tokio::time::sleep(WINDOW / 2).await;
            let late = within("the second load", loader.load(2)).await;
            let early = within("the first load", early)
                .await
                .expect("the first load panicked");
            assert_eq!((early, late), (Ok(value(1)), Ok(value(2))));
            assert_eq!(source.calls(), vec![vec![1, 2]], "both keys, one batch call");
        }

        #[tokio::test(start_paused = true)]
        async fn each_key_is_sent_once_however_many_callers_ask() {
            let source = Recording::default();
            let loader = imp::Loader::new(source.clone(), WINDOW, 100);
            let results = within("five loads", loader.load_many(vec![3, 3, 5, 3, 5])).await;
            assert_eq!(
                results,
                Ok(vec![value(3), value(3), value(5), value(3), value(5)])
            );
            assert_eq!(
                source.calls(),
                vec![vec![3, 5]],
                "duplicates are asked for once, in first-asked order"
            );
        }

        #[tokio::test(start_paused = true)]
        async fn values_come_back_in_the_order_asked_and_missing_keys_are_none() {
            let source = Recording::default();
            let loader = imp::Loader::new(source.clone(), WINDOW, 100);
            let results = within("four loads", loader.load_many(vec![9, 20, 2, 10, 7])).await;
            assert_eq!(
                results,
                Ok(vec![value(9), None, value(2), None, value(7)]),
                "20 and 10 do not exist"
            );
            assert_eq!(source.calls().len(), 1);
        }

        #[tokio::test]
        async fn a_full_batch_is_sent_without_waiting_for_the_window() {
            let source = Recording::default();
            // A window of a minute: only the size limit can send these batches within the deadline.
            let loader = imp::Loader::new(source.clone(), Duration::from_secs(60), 4);
            let results = tokio::time::timeout(Duration::from_secs(5), loader.load_many((1..=8).collect()))
                .await
                .expect("8 keys with max_batch 4 must be sent as two full batches at once, not after the window");
            assert_eq!(results, Ok((1..=8).map(value).collect::<Vec<_>>()));
            assert_eq!(source.calls(), vec![vec![1, 2, 3, 4], vec![5, 6, 7, 8]]);
        }

        #[tokio::test(start_paused = true)]
        async fn a_failed_batch_fails_every_caller_in_it() {
            let source = Recording {
                fail: true,
                ..Recording::default()
            };
            let loader = imp::Loader::new(source.clone(), WINDOW, 100);
            let (a, b, c) = within("three loads", async {
                tokio::join!(loader.load(1), loader.load(2), loader.load(1))
            })
            .await;
            let failed = Err(imp::LoadError::Batch("database down".to_string()));
            assert_eq!((a, b, c), (failed.clone(), failed.clone(), failed));
            assert_eq!(source.calls().len(), 1);
        }

        #[tokio::test(start_paused = true)]
        async fn a_load_after_a_batch_was_sent_starts_a_new_batch_and_waits_its_window() {
            let source = Recording::default();
            let loader = imp::Loader::new(source.clone(), WINDOW, 100);
            assert_eq!(within("the first load", loader.load(1)).await, Ok(value(1)));
            let started = tokio::time::Instant::now();
            assert_eq!(within("the second load", loader.load(2)).await, Ok(value(2)));
            assert!(
                started.elapsed() >= WINDOW,
                "a lone key must still wait the window for company (waited {:?})",
                started.elapsed()
            );
            assert_eq!(source.calls(), vec![vec![1], vec![2]]);
        }

        #[tokio::test]
        async fn a_cancelled_caller_does_not_stop_the_others() {
            let gate = Arc::new(tokio::sync::Semaphore::new(0));
            let source = Recording {
                gate: Some(gate.clone()),
                ..Recording::default()
            };
            let loader = imp::Loader::new(source.clone(), Duration::from_millis(1), 100);
            let first = tokio::spawn({
                let loader = loader.clone();
                async move { loader.load(1).await }
            });
            let second = tokio::spawn({
                let loader = loader.clone();
                async move { loader.load(2).await }
            });
            // Wait until the batch is running (its call recorded), then cancel the first caller.
            within("the batch call", async {
                while source.calls().is_empty() {
                    tokio::task::yield_now().await;
                }
            })
            .await;
            first.abort();
            gate.add_permits(10);
            let second = within("the second caller", second)
                .await
                .expect("the second load panicked");
            assert_eq!(
                second,
                Ok(value(2)),
                "the batch must finish for the callers still waiting"
            );
            assert_eq!(source.calls(), vec![vec![1, 2]]);
        }
    };
}
