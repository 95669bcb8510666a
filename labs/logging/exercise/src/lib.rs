//! Exercise: keep secrets out of every log line.
//!
//! A log line is read by more people and kept longer than the data it describes: a card number or a token that
//! reaches it has leaked. pino's `redact` replaces configured paths; log pipelines add patterns for what a developer
//! forgot to name. Implement [`Redactor`] so that:
//!
//! 1. `new(fields, patterns)` keeps the field names (compared case-insensitively) and compiles the patterns
//!    (regular expressions) **once** — a redactor runs on every line, so compiling per call is a CPU bill;
//! 2. `is_secret_field(name)` says whether a field is always redacted;
//! 3. `scrub(name, value)` returns [`REDACTED`] for a secret field, else the value with every match of every
//!    pattern replaced by [`REDACTED`] — borrowed (`Cow::Borrowed`) when nothing matched, so clean values cost no
//!    copy;
//! 4. `scrub_json(name, value)` redacts a JSON value in place at any depth: under a secret key the whole value
//!    (string, number, object…) becomes `"[REDACTED]"`; every other string, in objects and arrays, is scrubbed;
//! 5. `scrub_bytes(name, bytes)` accepts bytes that are not UTF-8 (invalid sequences become U+FFFD) and still
//!    finds a secret next to a bad byte.
//!
//! The lab logs through your redactor with `--variant exercise`; `cargo xtask check logging` runs the grader and
//! then measures the server's CPU per request against `tracing-sync` (the reference redactor) in the same run.
//! The tests alone: `cargo test -p exercise-logging --test exercise_redactor`.

use std::borrow::Cow;

use serde_json::Value;

/// What a redacted value is replaced with.
pub const REDACTED: &str = "[REDACTED]";

/// Card numbers, bearer tokens, passwords and authorization headers: what the logging lab redacts.
pub const DEFAULT_FIELDS: &[&str] = &["card_number", "authorization", "password", "token"];

/// `Bearer <token>` (RFC 6750's characters), and 13 to 19 digits grouped by spaces or dashes (a card number).
pub const DEFAULT_PATTERNS: &[&str] = &[r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]+", r"\b(?:\d[ -]?){12,18}\d\b"];

/// The field names and patterns to redact.
#[derive(Debug, Clone)]
pub struct Redactor {
    // TODO: the field names, lower-cased, and the compiled patterns (regex::Regex).
}

impl Default for Redactor {
    fn default() -> Self {
        Redactor::new(DEFAULT_FIELDS, DEFAULT_PATTERNS).expect("the default patterns are valid")
    }
}

impl Redactor {
    /// Redacts these field names (compared case-insensitively) and these patterns (compiled once, here).
    pub fn new(fields: &[&str], patterns: &[&str]) -> Result<Redactor, regex::Error> {
        // TODO: keep the names, compile every pattern (a bad one is the error).
        let _ = (fields, patterns);
        todo!("keep the names and compile the patterns")
    }

    /// True when the field `name` is redacted whatever its value.
    pub fn is_secret_field(&self, name: &str) -> bool {
        // TODO
        let _ = name;
        todo!("compare with the names, ignoring case")
    }

    /// The value of string field `name` as it may be logged.
    pub fn scrub<'a>(&self, name: &str, value: &'a str) -> Cow<'a, str> {
        // TODO: a secret field is REDACTED; otherwise replace every pattern's matches (Regex::replace_all).
        let _ = (name, value);
        todo!("redact a secret field, scrub the patterns out of any other")
    }

    /// Redacts a JSON value in place, at any depth.
    pub fn scrub_json(&self, name: &str, value: &mut Value) {
        // TODO: a secret key's whole value; strings scrubbed; arrays and objects walked.
        let _ = (name, value);
        todo!("walk the value")
    }

    /// Bytes that may not be UTF-8, as a loggable, scrubbed string.
    pub fn scrub_bytes(&self, name: &str, bytes: &[u8]) -> String {
        // TODO: decode lossily, then scrub.
        let _ = (name, bytes);
        todo!("decode lossily, then scrub")
    }
}
