//! The worker-pools exercise's grader, written once and run against the learner's starter
//! (`exercise_bounded_pool.rs`) and the reference (the lab's `tests/reference_passes_grader.rs`).
//! `grade!(path::to::module)` expands to one test per expectation; every wait has a deadline, so a wrong
//! implementation fails instead of hanging.

#[macro_export]
macro_rules! grade {
    ($m:path) => {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::mpsc;
        use std::sync::Arc;
        use std::time::Duration;

        use $m as imp;

        async fn within<T>(what: &str, f: impl std::future::Future<Output = T>) -> T {
            match tokio::time::timeout(Duration::from_secs(10), f).await {
                Ok(v) => v,
                Err(_) => panic!("waited 10 s for {what}: it never finished"),
            }
        }

        #[tokio::test]
        async fn results_come_back_over_a_oneshot() {
            let pool = imp::BoundedPool::new(2, 4);
            let answer = pool.submit(|| 6 * 7).expect("an empty pool accepts a job");
            assert_eq!(within("the result", answer).await.unwrap(), Ok(42));
        }

        #[tokio::test]
        async fn a_full_queue_says_full_at_once() {
            let pool = imp::BoundedPool::new(1, 1);
            let (started_tx, started) = mpsc::channel();
            let (release, release_rx) = mpsc::channel::<()>();
            let running = pool
                .submit(move || {
                    started_tx.send(()).unwrap();
                    release_rx.recv_timeout(Duration::from_secs(10)).is_ok()
                })
                .expect("the first job is accepted");
            started.recv_timeout(Duration::from_secs(10)).expect("the only worker starts the first job");
            let queued = pool.submit(|| 2).expect("one job fits in the queue");
            assert_eq!(pool.waiting(), 1, "one job waits");
            assert!(pool.submit(|| 3).is_err(), "the queue is full: submit must say so, not block or grow");
            release.send(()).unwrap();
            assert_eq!(within("the running job", running).await.unwrap(), Ok(true));
            assert_eq!(within("the queued job", queued).await.unwrap(), Ok(2));
        }

        #[tokio::test]
        async fn a_panicking_job_does_not_kill_the_pool() {
            let pool = imp::BoundedPool::new(1, 4);
            let boom = pool.submit(|| -> u32 { panic!("boom") }).unwrap();
            let got = within("the panicked job", boom).await.expect("the submitter is told");
            assert!(matches!(&got, Err(imp::Panicked(m)) if m.contains("boom")), "{got:?}");
            let after = pool.submit(|| 1).unwrap();
            assert_eq!(within("a job after the panic", after).await.unwrap(), Ok(1), "the worker survived");
        }

        #[test]
        fn shutdown_drains_the_queue() {
            let pool = imp::BoundedPool::new(1, 16);
            let done = Arc::new(AtomicUsize::new(0));
            // The first job holds the only worker until released; nine more wait in the queue.
            let (release, held) = mpsc::channel::<()>();
            let first = done.clone();
            pool.submit(move || {
                let _ = held.recv_timeout(Duration::from_secs(10));
                first.fetch_add(1, Ordering::SeqCst);
            })
            .expect("an empty pool accepts a job");
            for _ in 0..9 {
                let done = done.clone();
                pool.submit(move || {
                    done.fetch_add(1, Ordering::SeqCst);
                })
                .expect("16 places in the queue");
            }
            let (finished_tx, finished) = mpsc::channel();
            std::thread::spawn(move || {
                pool.shutdown();
                let _ = finished_tx.send(());
            });
            assert!(
                finished.recv_timeout(Duration::from_millis(200)).is_err(),
                "shutdown returned while a job was still running and nine were queued: it must wait for them"
            );
            release.send(()).unwrap();
            finished.recv_timeout(Duration::from_secs(10)).expect("shutdown must return once the queue is drained");
            assert_eq!(done.load(Ordering::SeqCst), 10, "every queued job ran before shutdown returned");
        }

        #[tokio::test]
        async fn jobs_run_in_parallel_on_every_worker() {
            let pool = imp::BoundedPool::new(2, 4);
            let (a_tx, a_rx) = mpsc::channel::<()>();
            let (b_tx, b_rx) = mpsc::channel::<()>();
            // Each job signals the other and waits for it: only two threads at once can finish both.
            let a = pool.submit(move || {
                a_tx.send(()).unwrap();
                b_rx.recv_timeout(Duration::from_secs(5)).is_ok()
            });
            let b = pool.submit(move || {
                b_tx.send(()).unwrap();
                a_rx.recv_timeout(Duration::from_secs(5)).is_ok()
            });
            let (a, b) = (a.unwrap(), b.unwrap());
            assert_eq!(within("job a", a).await.unwrap(), Ok(true), "two workers run two jobs at the same time");
            assert_eq!(within("job b", b).await.unwrap(), Ok(true));
        }
    };
}
