//! Grades the learner's fix of drill `lock-across-await` (the file `labs/incidents/fix/src/lock_across_await.rs`).

#[path = "grader/lock_across_await.rs"]
mod grader;

grade_lock_across_await!(incidents_fix::lock_across_await);
