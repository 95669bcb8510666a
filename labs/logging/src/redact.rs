//! Redaction: what must never reach a log file, whichever variant writes it.
//!
//! Two rules, as pino's `redact` and most log pipelines have them: **field names** whose values are always
//! replaced (`card_number`, `authorization`, `password` …), and **patterns** scrubbed out of every other string
//! (a bearer token or a card number pasted into a message). Names are cheap and exact; patterns catch what a
//! developer forgot to name, at the cost of a regular expression over every string field.

use std::borrow::Cow;

use regex::Regex;

/// What a redacted value is replaced with.
pub const REDACTED: &str = "[REDACTED]";

/// The field names and patterns to redact.
#[derive(Debug, Clone)]
pub struct Redactor {
    fields: Vec<String>,
    patterns: Vec<Regex>,
}

impl Default for Redactor {
    /// Card numbers, bearer tokens, passwords and authorization headers.
    fn default() -> Self {
        Redactor::new(
            &["card_number", "authorization", "password", "token"],
            &[
                // `Bearer <token>`: the token's characters per RFC 6750.
                r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]+",
                // 13 to 19 digits, optionally grouped by spaces or dashes: the shape of a payment card number.
                r"\b(?:\d[ -]?){12,18}\d\b",
            ],
        )
        .expect("the default patterns are valid")
    }
}

impl Redactor {
    /// Redacts these field names (compared case-insensitively) and these patterns.
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

    /// The value of string field `name` as it may be logged.
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_fields_and_secret_shapes_are_replaced_and_the_rest_kept() {
        let r = Redactor::default();
        assert_eq!(r.scrub("card_number", "4111 1111 1111 1111"), REDACTED);
        assert_eq!(
            r.scrub("Authorization", "anything"),
            REDACTED,
            "names compare case-insensitively"
        );
        assert_eq!(
            r.scrub("msg", "retry with Bearer eyJhbGci.OiJIUzI1.NiJ9 please"),
            "retry with [REDACTED] please"
        );
        assert_eq!(
            r.scrub("note", "card 4111-1111-1111-1111 declined"),
            "card [REDACTED] declined"
        );
        assert_eq!(
            r.scrub("order_id", "1234"),
            "1234",
            "short numbers are not card numbers"
        );
        assert!(
            matches!(r.scrub("route", "/order/{id}"), Cow::Borrowed(_)),
            "clean values are not copied"
        );
    }
}
