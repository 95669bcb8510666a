//! Named counters that a lab exposes on `GET /stats` — the deterministic numbers its lessons rest on
//! (database queries, cache hits, loader calls …).
//!
//! Why a fixed set of `AtomicU64`s and not a map behind a lock: counters are bumped on every request, on every
//! core; a relaxed atomic add costs a few nanoseconds and never makes two requests wait for each other. The names
//! are fixed at start-up, so reading `/stats` needs no lock either.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// A fixed set of named, lock-free counters. Cheap to clone (an `Arc`).
#[derive(Debug, Clone)]
pub struct Counters {
    inner: Arc<[(&'static str, AtomicU64)]>,
}

impl Counters {
    /// Creates counters with these names, all at zero.
    pub fn new(names: &[&'static str]) -> Self {
        Self {
            inner: names.iter().map(|name| (*name, AtomicU64::new(0))).collect(),
        }
    }

    /// Adds `n` to the counter `name`.
    ///
    /// # Panics
    /// If `name` was not declared in [`Counters::new`]: that is a bug in the lab, caught by its first test.
    pub fn add(&self, name: &str, n: u64) {
        self.slot(name).fetch_add(n, Ordering::Relaxed);
    }

    /// Adds one to the counter `name`.
    pub fn incr(&self, name: &str) {
        self.add(name, 1);
    }

    /// The current value of `name`.
    pub fn get(&self, name: &str) -> u64 {
        self.slot(name).load(Ordering::Relaxed)
    }

    /// Every counter as a JSON object, keys sorted by name: the body of `GET /stats`.
    pub fn to_json(&self) -> serde_json::Value {
        let map = self
            .inner
            .iter()
            .map(|(name, value)| (name.to_string(), serde_json::Value::from(value.load(Ordering::Relaxed))))
            .collect();
        serde_json::Value::Object(map)
    }

    fn slot(&self, name: &str) -> &AtomicU64 {
        self.inner
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v)
            .unwrap_or_else(|| panic!("counter {name:?} was not declared"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_reports_sorted_by_name() {
        let c = Counters::new(&["requests", "db_queries"]);
        c.incr("requests");
        c.add("db_queries", 5);
        c.incr("requests");
        assert_eq!(c.get("requests"), 2);
        assert_eq!(c.to_json().to_string(), r#"{"db_queries":5,"requests":2}"#);
    }

    #[test]
    #[should_panic(expected = "was not declared")]
    fn an_undeclared_counter_is_a_bug() {
        Counters::new(&["a"]).incr("b");
    }
}
