//! One log line: a JSON object with the time, the level, the message, the correlation id and the event's fields,
//! string values passed through a redactor. Every variant writes exactly these bytes, so they differ only in how
//! the bytes reach the sink.

use std::borrow::Cow;

use serde_json::{Map, Value};

use crate::redact::REDACTED;

/// A redactor as a log line uses it: the reference (`crate::redact`) or the learner's (`exercise_logging`) — the
/// same API, two types, adapted once here.
pub trait Redact: Send + Sync {
    /// True when the field is redacted whatever its value.
    fn is_secret_field(&self, name: &str) -> bool;
    /// The string value as it may be logged.
    fn scrub<'a>(&self, name: &str, value: &'a str) -> Cow<'a, str>;
}

macro_rules! redacts {
    ($t:ty) => {
        impl Redact for $t {
            fn is_secret_field(&self, name: &str) -> bool {
                <$t>::is_secret_field(self, name)
            }
            fn scrub<'a>(&self, name: &str, value: &'a str) -> Cow<'a, str> {
                <$t>::scrub(self, name, value)
            }
        }
    };
}

redacts!(crate::redact::Redactor);
redacts!(exercise_logging::Redactor);

/// Appends one JSON line (with its newline) to `out`.
pub fn write_line(
    out: &mut Vec<u8>,
    level: &str,
    message: &str,
    request_id: Option<&str>,
    fields: Vec<(&str, Value)>,
    redactor: &dyn Redact,
) {
    let mut object = Map::with_capacity(fields.len() + 4);
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    object.insert("time".into(), Value::from(millis));
    object.insert("level".into(), Value::from(level));
    object.insert("msg".into(), Value::from(redactor.scrub("msg", message)));
    if let Some(id) = request_id {
        object.insert("request_id".into(), Value::from(id));
    }
    for (name, value) in fields {
        let value = match value {
            Value::String(s) => Value::from(redactor.scrub(name, &s)),
            _ if redactor.is_secret_field(name) => Value::from(REDACTED),
            other => other,
        };
        object.insert(name.to_string(), value);
    }
    serde_json::to_writer(&mut *out, &Value::Object(object)).expect("writing JSON into a Vec cannot fail");
    out.push(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_one_json_object_with_the_id_and_no_secret() {
        let mut out = Vec::new();
        let fields = vec![
            ("card_number", Value::from("4111 1111 1111 1111")),
            ("amount_cents", Value::from(1999)),
        ];
        write_line(
            &mut out,
            "INFO",
            "payment authorized",
            Some("abc"),
            fields,
            &crate::redact::Redactor::default(),
        );
        assert_eq!(out.last(), Some(&b'\n'));
        let line: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(line["request_id"], "abc");
        assert_eq!(line["card_number"], REDACTED);
        assert_eq!(line["amount_cents"], 1999);
        assert!(!String::from_utf8(out).unwrap().contains("4111"));
    }
}
