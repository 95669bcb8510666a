//! The process-manager exercise's grader against every mutant of its reference
//! (`labs/process-manager/exercise/mutants.toml`, built by `tests/build.rs`). Every mutant must fail at least one
//! expectation; `tests/tests/exercises.rs` runs this target and checks that.

#[path = "../../../labs/process-manager/exercise/tests/grader.rs"]
mod grader;

include!(concat!(env!("OUT_DIR"), "/mutants_process_manager.rs"));
