//! Grades the learner's `exercise_caching::SingleFlight` (the file `labs/caching/exercise/src/lib.rs`).

#[path = "grader.rs"]
mod grader;

grade!(exercise_caching);
