//! The exercise's grader run against the reference solution — the splitter every variant but `exercise` imports with.

#[path = "../exercise/tests/grader.rs"]
mod grader;

grade!(lab_streams::splitter);
