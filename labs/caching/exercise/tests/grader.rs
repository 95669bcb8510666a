//! The caching exercise's grader, written once and run against two implementations: the learner's starter
//! (`exercise_single_flight.rs` in this folder) and the reference solution (the caching lab's own tests).
//!
//! `grade!(path::to::module)` expands to one `#[tokio::test]` per expectation; the module must export
//! `SingleFlight` and `Source`. Each test's name says what is expected, so a failure reads as a task.

#[macro_export]
macro_rules! grade {
    ($m:path) => {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::Arc;
        use std::time::Duration;

        use $m as imp;

        #[derive(Debug, Clone, PartialEq)]
        struct Failed(&'static str);

        /// Awaits `f`, failing the test (not hanging it) after 10 s.
        async fn within<T>(what: &str, f: impl std::future::Future<Output = T>) -> T {
            match tokio::time::timeout(Duration::from_secs(10), f).await {
                Ok(v) => v,
                Err(_) => panic!("waited 10 s for {what}: something never finished"),
            }
        }

        /// Lets every spawned caller run until it waits. The tests run on tokio's current-thread runtime, where
        /// `yield_now` sends this task to the back of the queue: after a few rounds, every caller has reached the
        /// cache and is either waiting on a load or loading.
        async fn settle() {
            for _ in 0..100 {
                tokio::task::yield_now().await;
            }
        }

        #[tokio::test]
        async fn a_thousand_concurrent_misses_load_once() {
            let cache = Arc::new(imp::SingleFlight::<u32, String, Failed>::new(
                Duration::from_secs(60),
            ));
            let loads = Arc::new(AtomicUsize::new(0));
            let gate = Arc::new(tokio::sync::Semaphore::new(0));
            let mut callers = Vec::new();
            for _ in 0..1000 {
                let (cache, loads, gate) = (cache.clone(), loads.clone(), gate.clone());
                callers.push(tokio::spawn(async move {
                    cache
                        .get_or_load(7, move || async move {
                            loads.fetch_add(1, Ordering::SeqCst);
                            // Hold the load open until every caller has asked.
                            let _permit = gate.acquire().await;
                            Ok("value".to_string())
                        })
                        .await
                }));
            }
            // Let every caller reach the cache, then release the one load.
            settle().await;
            gate.add_permits(1000);
            let mut sources = Vec::new();
            for caller in callers {
                let (value, source) = within("a caller", caller).await.unwrap().unwrap();
                assert_eq!(value, "value");
                sources.push(source);
            }
            assert_eq!(
                loads.load(Ordering::SeqCst),
                1,
                "1000 concurrent misses must call load exactly once"
            );
            assert_eq!(
                sources.iter().filter(|s| **s == imp::Source::Loaded).count(),
                1,
                "exactly one caller loads"
            );
            assert_eq!(
                sources.iter().filter(|s| **s == imp::Source::Coalesced).count(),
                999,
                "the others wait for it"
            );
        }

        #[tokio::test]
        async fn a_fresh_value_is_a_hit_without_loading() {
            let cache = imp::SingleFlight::<u32, String, Failed>::new(Duration::from_secs(60));
            let first = cache
                .get_or_load(1, || async { Ok("a".to_string()) })
                .await
                .unwrap();
            assert_eq!(first, ("a".to_string(), imp::Source::Loaded));
            let second = cache
                .get_or_load(1, || async { panic!("a fresh value must not be loaded again") })
                .await
                .unwrap();
            assert_eq!(second, ("a".to_string(), imp::Source::Hit));
        }

        #[tokio::test]
        async fn a_failed_load_reaches_every_waiter_and_is_not_cached() {
            let cache = Arc::new(imp::SingleFlight::<u32, String, Failed>::new(
                Duration::from_secs(60),
            ));
            let gate = Arc::new(tokio::sync::Semaphore::new(0));
            let mut callers = Vec::new();
            for _ in 0..10 {
                let (cache, gate) = (cache.clone(), gate.clone());
                callers.push(tokio::spawn(async move {
                    cache
                        .get_or_load(3, move || async move {
                            let _permit = gate.acquire().await;
                            Err(Failed("database down"))
                        })
                        .await
                }));
            }
            settle().await;
            gate.add_permits(1000);
            for caller in callers {
                let got = within("a caller", caller).await.unwrap();
                assert_eq!(got, Err(Failed("database down")), "every waiter gets the error");
            }
            let retry = cache.get_or_load(3, || async { Ok("back".to_string()) }).await;
            assert_eq!(
                retry,
                Ok(("back".to_string(), imp::Source::Loaded)),
                "an error must not be cached"
            );
        }

        #[tokio::test(start_paused = true)]
        async fn a_value_older_than_the_ttl_is_loaded_again() {
            let cache = imp::SingleFlight::<u32, u32, Failed>::new(Duration::from_millis(100));
            assert_eq!(
                cache.get_or_load(5, || async { Ok(1) }).await,
                Ok((1, imp::Source::Loaded))
            );
            tokio::time::advance(Duration::from_millis(50)).await;
            assert_eq!(
                cache.get_or_load(5, || async { Ok(2) }).await,
                Ok((1, imp::Source::Hit))
            );
            tokio::time::advance(Duration::from_millis(60)).await;
            assert_eq!(
                cache.get_or_load(5, || async { Ok(3) }).await,
                Ok((3, imp::Source::Loaded)),
                "expired after the TTL"
            );
        }

        #[tokio::test]
        async fn a_cancelled_loader_does_not_wedge_the_others() {
            let cache = Arc::new(imp::SingleFlight::<u32, String, Failed>::new(
                Duration::from_secs(60),
            ));
            let release = Arc::new(tokio::sync::Semaphore::new(0));
            let started = Arc::new(tokio::sync::Notify::new());
            let (c, r, s) = (cache.clone(), release.clone(), started.clone());
            let leader = tokio::spawn(async move {
                c.get_or_load(9, move || async move {
                    s.notify_one();
                    let _permit = r.acquire().await;
                    Ok("done".to_string())
                })
                .await
            });
            within("the load to start", started.notified()).await;
            let c = cache.clone();
            let follower =
                tokio::spawn(async move { c.get_or_load(9, || async { Ok("second load".to_string()) }).await });
            for _ in 0..50 {
                tokio::task::yield_now().await;
            }
            leader.abort(); // the caller that started the load goes away
            let _ = leader.await;
            release.add_permits(10);
            let got = tokio::time::timeout(Duration::from_secs(5), follower).await;
            let got = got.expect("the follower must not wait forever").unwrap().unwrap();
            assert_eq!(
                got.0, "done",
                "the follower gets the load that was already running"
            );
        }

        #[tokio::test]
        async fn invalidate_forgets_the_value() {
            let cache = imp::SingleFlight::<u32, u32, Failed>::new(Duration::from_secs(60));
            assert_eq!(
                cache.get_or_load(4, || async { Ok(1) }).await,
                Ok((1, imp::Source::Loaded))
            );
            cache.invalidate(&4);
            assert_eq!(
                cache.get_or_load(4, || async { Ok(2) }).await,
                Ok((2, imp::Source::Loaded))
            );
        }

        #[tokio::test]
        async fn a_load_that_finishes_after_invalidate_does_not_put_the_old_value_back() {
            let cache = Arc::new(imp::SingleFlight::<u32, String, Failed>::new(
                Duration::from_secs(60),
            ));
            let gate = Arc::new(tokio::sync::Semaphore::new(0));
            let (c, g) = (cache.clone(), gate.clone());
            // A read starts loading the row as it was before a write...
            let before_the_write = tokio::spawn(async move {
                c.get_or_load(7, move || async move {
                    let _held = g.acquire().await;
                    Ok("old".to_string())
                })
                .await
            });
            settle().await;
            // ...the write lands and invalidates the key while that load is still running...
            cache.invalidate(&7);
            gate.add_permits(1);
            let (value, _) = within("the load that began before the write", before_the_write)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(
                value, "old",
                "a caller that asked before the write may see the old row"
            );
            // ...and the next read must load the new row, not find the old one cached by the late load.
            let after = within(
                "a read after the write",
                cache.get_or_load(7, || async { Ok("new".to_string()) }),
            )
            .await;
            assert_eq!(
                after,
                Ok(("new".to_string(), imp::Source::Loaded)),
                "a load that finished after invalidate stored the value from before the write"
            );
        }
    };
}
