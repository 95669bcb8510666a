//! `quiz`: interview questions graded offline, honestly, saying what was missed.
//!
//! | module | what it holds |
//! |---|---|
//! | [`bank`] | question banks (`quiz/banks/<topic>.toml`): loading and validation with `file:line` errors |
//! | [`grade`] | grading every kind: single, multi, numeric (with tolerance), order, and free text by rubric |
//! | [`answers`] | answer files (`name` + `[answers]`), and the graded result the `--json` output shows |
//! | [`calibration`] | graded example answers with the verdict they deserve: the grader's agreement |
//! | [`web`] | the banks and the grader's rules as JSON, for the book's in-page quiz |
//! | [`review`] | Leitner boxes: the order a review asks questions in, missed ones first |
//!
//! Free text is graded by a rubric of weighted concepts, each earned when one of its patterns matches. Two guards
//! keep that honest: a concept matched only inside a negation ("never use a TTL") is not earned, and an answer
//! that is a bare list of terms rather than sentences cannot pass, however many terms it names.

pub mod answers;
pub mod bank;
pub mod calibration;
pub mod grade;
pub mod review;
pub mod web;

pub use answers::{grade_answers, AnswerSheet, Graded, GradedQuestion};
pub use bank::{load_banks, Bank, BankError, Kind, Question};
pub use grade::{grade, Answer, Grade};
