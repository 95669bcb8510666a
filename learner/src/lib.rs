//! `learner`: what the workbench remembers about one learner, and the lookups the exercise commands share.
//!
//! `cargo xtask` is a thin front end over this crate for everything learner-facing: it parses the command line,
//! calls these functions and prints.
//!
//! | module | what it holds |
//! |---|---|
//! | [`progress`] | the progress file: exercises solved, hints shown, quiz grades — written atomically |
//! | [`exercises`] | finding an exercise by `<lab>[/<exercise>]`, the next unsolved one, its task and paths |
//! | [`outcome`] | what one `cargo xtask check` found: the grader's tests read from libtest, the gate, the record |
//! | [`atomic`] | writing a file so a reader or a crash sees the old contents or the new, never half |

pub mod atomic;
pub mod exercises;
pub mod outcome;
pub mod progress;

pub use exercises::{Found, NoSuchExercise};
pub use outcome::Outcome;
pub use progress::{Progress, SaveError};
