//! The metrics exercise's grader, written once and run against the learner's starter (`exercise_histogram.rs`)
//! and the reference (the lab's `tests/reference_passes_grader.rs`). `grade!(path::to::module)` expands to one
//! test per expectation.
//!
//! The exposition is read back by a strict parser written here (the text format's rules for a histogram), and by
//! Prometheus's own `promtool check metrics` where promtool is installed (CI installs it).

/// One sample line of an exposition: the metric name, its `le` label if any, its value.
pub struct Sample {
    pub name: String,
    pub le: Option<String>,
    pub value: f64,
}

/// Parses the sample lines of `text`, checking the `# HELP`/`# TYPE` header of `family`; panics with the line on
/// anything the text format does not allow.
pub fn parse(text: &str, family: &str) -> Vec<Sample> {
    assert!(text.ends_with('\n'), "an exposition ends with a newline:\n{text}");
    let mut lines = text.lines();
    let help = lines.next().unwrap_or_default();
    assert!(
        help.starts_with(&format!("# HELP {family} ")),
        "the first line should be `# HELP {family} <text>`, not {help:?}"
    );
    let kind = lines.next().unwrap_or_default();
    assert_eq!(
        kind,
        format!("# TYPE {family} histogram"),
        "the second line declares the type"
    );
    lines
        .map(|line| {
            let (series, value) = line
                .rsplit_once(' ')
                .unwrap_or_else(|| panic!("a sample line is `name{{labels}} value`: {line:?}"));
            let value = match value {
                "+Inf" => f64::INFINITY,
                "-Inf" => f64::NEG_INFINITY,
                v => v.parse().unwrap_or_else(|_| panic!("not a number: {v:?} in {line:?}")),
            };
            let (name, le) = match series.split_once('{') {
                None => (series.to_string(), None),
                Some((name, labels)) => {
                    let le = labels
                        .strip_prefix("le=\"")
                        .and_then(|l| l.strip_suffix("\"}"))
                        .unwrap_or_else(|| panic!("the only label is le=\"…\": {line:?}"));
                    (name.to_string(), Some(le.to_string()))
                }
            };
            Sample { name, le, value }
        })
        .collect()
}

/// Where `promtool` is, if installed.
pub fn promtool() -> Option<std::path::PathBuf> {
    std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join("promtool"))
            .find(|p| p.is_file())
    })
}

#[macro_export]
macro_rules! grade {
    ($m:path) => {
        use $m as imp;

        use $crate::grader::{parse, promtool};

        fn rendered(h: &imp::LatencyHistogram) -> String {
            let mut out = String::new();
            h.render("req_seconds", "How long requests took.", &mut out);
            out
        }

        /// The cumulative bucket counts, by `le` label, in the order written.
        fn buckets(h: &imp::LatencyHistogram) -> Vec<(String, u64)> {
            parse(&rendered(h), "req_seconds")
                .into_iter()
                .filter(|s| s.name == "req_seconds_bucket")
                .map(|s| (s.le.expect("a bucket has le"), s.value as u64))
                .collect()
        }

        fn le(pairs: &[(&str, u64)]) -> Vec<(String, u64)> {
            pairs.iter().map(|(l, n)| (l.to_string(), *n)).collect()
        }

        #[test]
        fn bounds_must_be_finite_and_increasing() {
            for bad in [
                &[][..],
                &[0.1, 0.1],
                &[0.2, 0.1],
                &[0.1, f64::NAN],
                &[f64::INFINITY],
            ] {
                assert!(
                    imp::LatencyHistogram::new(bad).is_err(),
                    "{bad:?} should be refused"
                );
            }
            assert!(imp::LatencyHistogram::new(imp::DEFAULT_BOUNDS).is_ok());
            assert!(imp::LatencyHistogram::new(&[0.5]).is_ok(), "one bound is enough");
        }

        #[test]
        fn a_value_on_a_bound_counts_in_that_bound() {
            let h = imp::LatencyHistogram::new(&[0.1, 0.2, 0.5]).unwrap();
            h.observe(0.1);
            h.observe(0.5);
            assert_eq!(
                buckets(&h),
                le(&[("0.1", 1), ("0.2", 1), ("0.5", 2), ("+Inf", 2)]),
                "le means less than or equal: 0.1 is in le=\"0.1\", 0.5 in le=\"0.5\""
            );
        }

        #[test]
        fn buckets_are_cumulative_and_end_with_inf() {
            let h = imp::LatencyHistogram::new(&[0.1, 0.2, 0.5]).unwrap();
            for v in [0.0, 0.05, 0.15, 0.3, 0.4, 0.7, 42.0] {
                h.observe(v);
            }
            assert_eq!(
                buckets(&h),
                le(&[("0.1", 2), ("0.2", 3), ("0.5", 5), ("+Inf", 7)]),
                "each bucket counts every value at or below its bound; +Inf counts them all"
            );
        }

        #[test]
        fn count_and_sum_add_up_and_nan_is_ignored() {
            let h = imp::LatencyHistogram::new(imp::DEFAULT_BOUNDS).unwrap();
            assert_eq!((h.count(), h.sum()), (0, 0.0), "a new histogram is empty");
            for v in [0.25, 0.5, 2.0, f64::NAN, 12.0] {
                h.observe(v);
            }
            assert_eq!(h.count(), 4, "four numbers observed (a NaN is not one)");
            assert_eq!(h.sum(), 14.75);
        }

        #[test]
        fn an_empty_histogram_renders_zeros() {
            let h = imp::LatencyHistogram::new(&[1.0]).unwrap();
            let samples = parse(&rendered(&h), "req_seconds");
            let lines: Vec<(&str, Option<&str>, f64)> = samples
                .iter()
                .map(|s| (s.name.as_str(), s.le.as_deref(), s.value))
                .collect();
            assert_eq!(
                lines,
                vec![
                    ("req_seconds_bucket", Some("1"), 0.0),
                    ("req_seconds_bucket", Some("+Inf"), 0.0),
                    ("req_seconds_sum", None, 0.0),
                    ("req_seconds_count", None, 0.0),
                ]
            );
        }

        #[test]
        fn concurrent_observations_lose_nothing() {
            // Enough threads and observations that a lost update shows even when another process holds one of
            // the cores and the threads only interleave by preemption (measured: 4 x 250,000 let a racy sum
            // through once, beside a busy test run).
            const THREADS: u64 = 8;
            const PAIRS: u64 = 500_000;
            let h = imp::LatencyHistogram::new(&[0.5, 1.0]).unwrap();
            // Every thread starts at the same moment, so their observations overlap instead of running one after
            // another (starting a thread can take longer than a short loop).
            let start = std::sync::Barrier::new(THREADS as usize);
            std::thread::scope(|scope| {
                for _ in 0..THREADS {
                    scope.spawn(|| {
                        start.wait();
                        for _ in 0..PAIRS {
                            h.observe(0.25);
                            h.observe(0.75);
                        }
                    });
                }
            });
            let n = THREADS * PAIRS;
            assert_eq!(h.count(), 2 * n, "observations lost between threads");
            // Quarters add up exactly in f64, so any difference is a lost addition, not rounding.
            assert_eq!(h.sum(), n as f64, "additions to the sum lost between threads");
            assert_eq!(buckets(&h), le(&[("0.5", n), ("1", 2 * n), ("+Inf", 2 * n)]));
        }

        #[test]
        fn the_exposition_is_what_prometheus_reads() {
            let h = imp::LatencyHistogram::new(imp::DEFAULT_BOUNDS).unwrap();
            for v in [0.003, 0.02, 0.02, 0.3, 7.5, 30.0] {
                h.observe(v);
            }
            let text = rendered(&h);
            let samples = parse(&text, "req_seconds");
            let bounds: Vec<String> = imp::DEFAULT_BOUNDS.iter().map(|b| b.to_string()).collect();
            let les: Vec<&str> = samples.iter().filter_map(|s| s.le.as_deref()).collect();
            let mut expected: Vec<&str> = bounds.iter().map(String::as_str).collect();
            expected.push("+Inf");
            assert_eq!(
                les, expected,
                "one bucket line per bound, in order, then +Inf:\n{text}"
            );
            let names: Vec<&str> = samples.iter().map(|s| s.name.as_str()).collect();
            let mut expected_names = vec!["req_seconds_bucket"; bounds.len() + 1];
            expected_names.extend(["req_seconds_sum", "req_seconds_count"]);
            assert_eq!(names, expected_names, "buckets, then _sum, then _count:\n{text}");
            let counts: Vec<f64> = samples.iter().take(bounds.len() + 1).map(|s| s.value).collect();
            assert!(
                counts.windows(2).all(|w| w[0] <= w[1]),
                "bucket counts never decrease:\n{text}"
            );
            assert_eq!(
                samples[bounds.len()].value,
                6.0,
                "+Inf counts every value:\n{text}"
            );
            assert_eq!(
                samples[bounds.len() + 2].value,
                6.0,
                "_count equals the +Inf bucket:\n{text}"
            );
            assert!(
                (samples[bounds.len() + 1].value - 37.843).abs() < 1e-9,
                "_sum:\n{text}"
            );

            match promtool() {
                Some(promtool) => {
                    use std::io::Write;
                    let mut child = std::process::Command::new(promtool)
                        .args(["check", "metrics"])
                        .stdin(std::process::Stdio::piped())
                        .stdout(std::process::Stdio::piped())
                        .stderr(std::process::Stdio::piped())
                        .spawn()
                        .expect("start promtool");
                    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
                    let out = child.wait_with_output().unwrap();
                    let said =
                        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
                    // promtool also exits non-zero for style advice (lint); what fails here is text it cannot parse.
                    assert!(
                        !said.contains("error while linting"),
                        "promtool could not read the exposition: {said}\n{text}"
                    );
                }
                None => eprintln!("promtool is not installed: the exposition was checked by this grader's parser only"),
            }
        }
    };
}
