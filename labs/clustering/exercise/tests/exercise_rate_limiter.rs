//! Grades the learner's `exercise_clustering::RateLimiter` (the file `labs/clustering/exercise/src/lib.rs`).

#[path = "grader.rs"]
mod grader;

grade!(exercise_clustering);
