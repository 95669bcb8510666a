//! Grades the learner's fix of drill `flash-sale` (the file `labs/incidents/exercise/src/flash_sale.rs`).

#[path = "grader/flash_sale.rs"]
mod grader;

grade_flash_sale!(exercise_incidents::flash_sale);
