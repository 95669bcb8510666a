//! Grades the learner's fix of drill `blocking-in-async` (the file `labs/incidents/fix/src/blocking_in_async.rs`).

#[path = "grader/blocking_in_async.rs"]
mod grader;

grade_blocking_in_async!(incidents_fix::blocking_in_async);
