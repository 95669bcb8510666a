//! Grades the learner's fix of drill `regex-per-request` (the file `labs/incidents/exercise/src/regex_per_request.rs`).

#[path = "grader/regex_per_request.rs"]
mod grader;

grade_regex_per_request!(exercise_incidents::regex_per_request);
