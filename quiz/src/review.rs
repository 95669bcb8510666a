//! Review by Leitner boxes: what you missed comes back first.
//!
//! Each question answered lives in a box from 1 to [`TOP_BOX`]. A pass moves it up one box, a miss sends it back to
//! box 1. A review asks, in order: the questions in box 1 (missed last time), then questions never answered, then
//! the rest by box, lowest first — and, within a box, the longest since answered first. Spaced repetition without
//! a calendar: the boxes only order the queue.

use std::collections::BTreeMap;

/// The highest box: known well.
pub const TOP_BOX: u8 = 5;

/// The box after an answer: up one on a pass, back to 1 on a miss.
pub fn next_box(previous: Option<u8>, passed: bool) -> u8 {
    if passed {
        previous.unwrap_or(1).saturating_add(1).min(TOP_BOX)
    } else {
        1
    }
}

/// What is known about one question from earlier answers.
#[derive(Debug, Clone, PartialEq)]
pub struct Seen {
    /// Its box.
    pub leitner_box: u8,
    /// Whether the last answer passed.
    pub passed: bool,
    /// When it was last answered (RFC 3339: sorts as time).
    pub at: String,
}

/// The order to ask `ids` in, given what was `seen` before.
pub fn review_order<'a>(ids: &[&'a str], seen: &BTreeMap<String, Seen>) -> Vec<&'a str> {
    let mut keyed: Vec<((u8, u8, String), &str)> = ids
        .iter()
        .map(|id| {
            let key = match seen.get(*id) {
                // Missed last time: first of all.
                Some(s) if !s.passed => (0, 0, s.at.clone()),
                // Answered and passed: by box, oldest first.
                Some(s) => (2, s.leitner_box, s.at.clone()),
                // Never answered: after the misses.
                None => (1, 0, String::new()),
            };
            (key, *id)
        })
        .collect();
    // A stable sort keeps the banks' order among equals (unseen questions in particular).
    keyed.sort_by(|a, b| a.0.cmp(&b.0));
    keyed.into_iter().map(|(_, id)| id).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(leitner_box: u8, passed: bool, at: &str) -> Seen {
        Seen {
            leitner_box,
            passed,
            at: at.into(),
        }
    }

    #[test]
    fn a_pass_moves_up_one_box_and_a_miss_goes_back_to_the_first() {
        assert_eq!(next_box(None, true), 2);
        assert_eq!(next_box(None, false), 1);
        assert_eq!(next_box(Some(3), true), 4);
        assert_eq!(next_box(Some(TOP_BOX), true), TOP_BOX);
        assert_eq!(next_box(Some(4), false), 1);
    }

    #[test]
    fn misses_come_first_then_the_unseen_then_the_lowest_boxes_oldest_first() {
        let ids = ["a", "b", "c", "d", "e", "f"];
        let mut known = BTreeMap::new();
        known.insert("a".to_string(), seen(4, true, "2026-11-01T00:00:00Z"));
        known.insert("b".to_string(), seen(1, false, "2026-11-20T00:00:00Z"));
        known.insert("d".to_string(), seen(2, true, "2026-11-21T00:00:00Z"));
        known.insert("e".to_string(), seen(2, true, "2026-11-02T00:00:00Z"));
        known.insert("f".to_string(), seen(1, false, "2026-11-03T00:00:00Z"));
        assert_eq!(review_order(&ids, &known), vec!["f", "b", "c", "e", "d", "a"]);
    }
}
