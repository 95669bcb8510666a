//! The grader, run against your restart policy: `cargo test -p exercise-process-manager --test exercise_restart_policy`.

mod grader;

grade!(exercise_process_manager);
