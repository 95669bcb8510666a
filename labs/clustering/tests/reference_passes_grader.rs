//! The exercise's grader run against the reference solution — the limiter the primary keeps in every cluster variant.

#[path = "../exercise/tests/grader.rs"]
mod grader;

grade!(lab_clustering::rate_limit);
