//! Durations as people type them: `500ms`, `5s`, `1m30s` (humantime's syntax).

use std::time::Duration;

/// Parses `5s`, `250ms`, `1m` … into a [`Duration`]; the error says what was expected.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text.trim())
        .map_err(|e| format!("invalid duration {text:?} ({e}); expected e.g. 500ms, 5s, 1m"))
}
