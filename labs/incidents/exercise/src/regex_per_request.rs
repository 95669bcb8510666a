//! Sign-up form validation: is this an e-mail address the service accepts?
//!
//! Drill `regex-per-request` — `cargo xtask incident start regex-per-request` shows how this behaves under load.

use super::support::{compile_regex, EMAIL_PATTERN};

/// Whether `candidate` is an address the sign-up form accepts.
pub fn is_valid_email(candidate: &str) -> bool {
    let pattern = compile_regex(EMAIL_PATTERN);
    pattern.is_match(candidate)
}
