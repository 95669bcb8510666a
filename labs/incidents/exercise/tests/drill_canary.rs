//! Grades the learner's fix of drill `canary` (the file `labs/incidents/exercise/src/canary.rs`).

#[path = "grader/canary.rs"]
mod grader;

grade_canary!(exercise_incidents::canary);
