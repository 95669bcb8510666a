//! The exercise's grader run against the reference restart policy — the one the supervisor uses.

#[path = "../exercise/tests/grader.rs"]
mod grader;

grade!(lab_process_manager::restart_policy);
