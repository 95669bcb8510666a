//! The exercise's grader run against the reference solution — the redactor every variant but `exercise` uses.

#[path = "../exercise/tests/grader.rs"]
mod grader;

grade!(lab_logging::redact);
