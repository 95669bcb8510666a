//! The exercise's grader run against the reference solution — the module the `bounded-pool` variant serves.

#[path = "../exercise/tests/grader.rs"]
mod grader;

grade!(lab_worker_pools::bounded_pool);
