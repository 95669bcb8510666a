//! Grades the learner's fix of drill `lock-across-await` (the file `labs/incidents/exercise/src/lock_across_await.rs`).

#[path = "grader/lock_across_await.rs"]
mod grader;

grade_lock_across_await!(exercise_incidents::lock_across_await);
