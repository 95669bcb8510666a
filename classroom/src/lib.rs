//! `classroom`: what a team training session shares. Each learner runs `cargo xtask submit DIR` at a break; the
//! instructor runs `cargo xtask class DIR` and sees the room.
//!
//! The shared folder is the only channel — a network share, a synced folder, a git repository: the workbench needs a
//! path, no server, no accounts. So the file format is the contract, and reading it must survive anything a room of
//! laptops can put there: a half-copied file, a workbench a week newer, two people called Sam.
//!
//! | module | what it holds |
//! |---|---|
//! | [`submission`] | one learner's file: who, which machine, progress, quiz grades, the newest run report per lab — written atomically, read with file:line errors |
//! | [`room`] | every submission in a folder, the broken ones named and skipped, same names told apart |
//! | [`summary`] | what the instructor reads: per learner, per question (what to re-teach), per exercise (a leaderboard by same-run ratio), per lesson (the room's machines side by side) |
//! | [`csv`] | the summary as one long CSV for a spreadsheet |
//! | [`html`] | the summary as one self-contained page with SVG dot plots |
//! | [`serve`] | `--watch`: the page served and re-rendered while submissions arrive |
//!
//! Why ratios: a leaderboard of absolute latencies would rank laptops, not fixes. Every number compared across
//! learners here is a ratio measured within one run on one machine (the learner's variant against the reference,
//! an optimised variant against the naive one), so a fan-less ultrabook and a desktop can stand in one table.

pub mod csv;
pub mod html;
pub mod room;
pub mod serve;
pub mod submission;
pub mod summary;

pub use room::Room;
pub use submission::Submission;
pub use summary::Summary;
