//! Sign-up form validation, fixed: the pattern is compiled once, the first time it is needed, and every request
//! after that only runs it.
//!
//! Building a regex turns its text into an automaton — parsing, Unicode class tables, compiling and optimising the
//! program — often hundreds of times the cost of one match. `Regex` is `Send + Sync` and matching takes `&self`, so
//! one compiled value serves every thread (the regex crate keeps a small pool of per-thread scratch space inside).
//! In Node.js the trap is `new RegExp(userPattern)` in a handler; a regex *literal* is compiled once by V8.

use std::sync::LazyLock;

use regex::Regex;

use super::support::{compile_regex, EMAIL_PATTERN};

// ANCHOR: fix
/// Compiled on first use, then shared.
static EMAIL: LazyLock<Regex> = LazyLock::new(|| compile_regex(EMAIL_PATTERN));

/// Whether `candidate` is an address the sign-up form accepts.
pub fn is_valid_email(candidate: &str) -> bool {
    EMAIL.is_match(candidate)
}
// ANCHOR_END: fix
