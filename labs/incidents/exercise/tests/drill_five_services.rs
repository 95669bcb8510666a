//! Grades the learner's fix of drill `five-services` (the file `labs/incidents/exercise/src/five_services.rs`).

#[path = "grader/five_services.rs"]
mod grader;

grade_five_services!(exercise_incidents::five_services);
