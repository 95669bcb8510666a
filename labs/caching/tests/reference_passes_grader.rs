//! The exercise's grader run against the reference solution — the very module the `single-flight` variant serves.
//! (The starter fails the same grader: `tests/` at the workspace root proves that.)

#[path = "../exercise/tests/grader.rs"]
mod grader;

grade!(lab_caching::single_flight);
