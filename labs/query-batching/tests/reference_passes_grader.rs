//! The exercise's grader run against the reference solution — the very module the `dataloader` variant serves.
//! (The starter fails the same grader: `tests/` at the workspace root proves that.)

#[path = "../exercise/tests/grader.rs"]
mod grader;

grade!(lab_query_batching::dataloader);
