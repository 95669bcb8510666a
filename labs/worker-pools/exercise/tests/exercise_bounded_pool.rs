//! Grades the learner's `exercise_worker_pools::BoundedPool` (the file `labs/worker-pools/exercise/src/lib.rs`).

#[path = "grader.rs"]
mod grader;

grade!(exercise_worker_pools);
