//! Grades the learner's fix of drill `memory-leak` (the file `labs/incidents/exercise/src/memory_leak.rs`).

#[path = "grader/memory_leak.rs"]
mod grader;

grade_memory_leak!(exercise_incidents::memory_leak);
