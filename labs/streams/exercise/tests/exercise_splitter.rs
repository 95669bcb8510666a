//! The grader, run against your splitter: `cargo test -p exercise-streams --test exercise_splitter`.

mod grader;

grade!(exercise_streams);
