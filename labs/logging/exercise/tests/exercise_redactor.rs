//! The grader, run against your redactor: `cargo test -p exercise-logging --test exercise_redactor`.

mod grader;

grade!(exercise_logging);
