//! Grades the learner's fix of drill `csv-upload` (the file `labs/incidents/exercise/src/csv_upload.rs`).

#[path = "grader/csv_upload.rs"]
mod grader;

grade_csv_upload!(exercise_incidents::csv_upload);
