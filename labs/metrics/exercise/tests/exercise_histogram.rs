//! Grades the learner's `exercise_metrics::LatencyHistogram` (the file `labs/metrics/exercise/src/lib.rs`).

#[path = "grader.rs"]
mod grader;

grade!(exercise_metrics);
