//! The exercise's grader run against the reference solution — the module the `fixed-buckets` variant serves.

#[path = "../exercise/tests/grader.rs"]
mod grader;

grade!(lab_metrics::fixed_buckets);
