//! Grades the learner's `exercise_query_batching::Loader` (the file `labs/query-batching/exercise/src/lib.rs`).

#[path = "grader.rs"]
mod grader;

grade!(exercise_query_batching);
