//! Grades the learner's fix of drill `blocking-in-async` (the file `labs/incidents/exercise/src/blocking_in_async.rs`).

#[path = "grader/blocking_in_async.rs"]
mod grader;

grade_blocking_in_async!(exercise_incidents::blocking_in_async);
