//! The reference redactor: field names whose values are always replaced, and patterns scrubbed out of every other
//! string — at any depth of a JSON value, and in bytes that are not UTF-8.

use std::borrow::Cow;

use regex::Regex;
use serde_json::Value;

/// What a redacted value is replaced with.
pub const REDACTED: &str = "[REDACTED]";

/// The field names and patterns to redact.
#[derive(Debug, Clone)]
pub struct Redactor {
    fields: Vec<String>,
    patterns: Vec<Regex>,
}

/// Card numbers, bearer tokens, passwords and authorization headers: what the logging lab redacts.
pub const DEFAULT_FIELDS: &[&str] = &["card_number", "authorization", "password", "token"];

/// `Bearer <token>` (RFC 6750's characters), and 13 to 19 digits grouped by spaces or dashes (a card number).
pub const DEFAULT_PATTERNS: &[&str] = &[r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]+", r"\b(?:\d[ -]?){12,18}\d\b"];

impl Default for Redactor {
    fn default() -> Self {
        Redactor::new(DEFAULT_FIELDS, DEFAULT_PATTERNS).expect("the default patterns are valid")
    }
}

impl Redactor {
    /// Redacts these field names (compared case-insensitively) and these patterns (compiled once, here).
    pub fn new(fields: &[&str], patterns: &[&str]) -> Result<Redactor, regex::Error> {
        Ok(Redactor {
            fields: fields.iter().map(|f| f.to_ascii_lowercase()).collect(),
            patterns: patterns.iter().map(|p| Regex::new(p)).collect::<Result<_, _>>()?,
        })
    }

    /// True when the field `name` is redacted whatever its value.
    pub fn is_secret_field(&self, name: &str) -> bool {
        self.fields.iter().any(|f| f.eq_ignore_ascii_case(name))
    }

    /// The value of string field `name` as it may be logged: [`REDACTED`] for a secret field, else the value with
    /// every pattern's matches replaced (borrowed, not copied, when nothing matched).
    pub fn scrub<'a>(&self, name: &str, value: &'a str) -> Cow<'a, str> {
        if self.is_secret_field(name) {
            return Cow::Borrowed(REDACTED);
        }
        let mut value = Cow::Borrowed(value);
        for pattern in &self.patterns {
            if let Cow::Owned(replaced) = pattern.replace_all(&value, REDACTED) {
                value = Cow::Owned(replaced);
            }
        }
        value
    }

    // ANCHOR: scrub_json
    /// Redacts a JSON value in place, at any depth: a secret key's value (whatever its type) becomes [`REDACTED`],
    /// and every other string is scrubbed of the patterns.
    pub fn scrub_json(&self, name: &str, value: &mut Value) {
        match value {
            _ if self.is_secret_field(name) => *value = Value::from(REDACTED),
            Value::String(s) => {
                if let Cow::Owned(clean) = self.scrub(name, s) {
                    *s = clean;
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|item| self.scrub_json(name, item)),
            Value::Object(map) => map.iter_mut().for_each(|(key, item)| self.scrub_json(key, item)),
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }
    // ANCHOR_END: scrub_json

    /// Bytes that may not be UTF-8 (a header, a body), as a loggable string: invalid sequences become U+FFFD, then
    /// the result is scrubbed like any string — a secret next to a bad byte is still found.
    pub fn scrub_bytes(&self, name: &str, bytes: &[u8]) -> String {
        self.scrub(name, &String::from_utf8_lossy(bytes)).into_owned()
    }
}
