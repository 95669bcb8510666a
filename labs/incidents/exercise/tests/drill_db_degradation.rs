//! Grades the learner's fix of drill `db-degradation` (the file `labs/incidents/exercise/src/db_degradation.rs`).

#[path = "grader/db_degradation.rs"]
mod grader;

grade_db_degradation!(exercise_incidents::db_degradation);
