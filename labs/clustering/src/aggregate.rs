//! One `/metrics` for the whole cluster — what prom-client's `AggregatorRegistry` does for a Node.js cluster. A
//! scrape reaches one worker; that worker asks the primary, which collects every worker's exposition over IPC and
//! adds them up here: series by series, the same name and labels summed across workers (requests, bucket counts,
//! memory, tasks), except a start time, which is the earliest. Prometheus then sees one service, as it would
//! behind a load balancer, and `rate()` and `histogram_quantile()` work on the totals.
//!
//! Every worker renders its metrics with the same code, so a series is written the same way in each: its text up
//! to the value is the key.

use std::collections::HashMap;
use std::fmt::Write;

/// One metric family while merging.
#[derive(Default)]
struct Family {
    name: String,
    /// Its `# HELP` and `# TYPE` lines.
    comments: Vec<String>,
    /// Its series, in the order first seen.
    order: Vec<String>,
    /// Series → total.
    values: HashMap<String, f64>,
}

/// The expositions added up, families in the order first seen, each with its `# HELP` and `# TYPE` once.
pub fn merge<'a>(expositions: impl IntoIterator<Item = &'a str>) -> String {
    let mut families: Vec<Family> = Vec::new();
    for text in expositions {
        let mut current: Option<usize> = None;
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            if let Some(comment) = line.strip_prefix("# ") {
                let mut words = comment.split_whitespace();
                let (Some(kind), Some(name)) = (words.next(), words.next()) else {
                    continue;
                };
                if kind != "HELP" && kind != "TYPE" {
                    continue;
                }
                let at = match families.iter().position(|f| f.name == name) {
                    Some(at) => at,
                    None => {
                        families.push(Family {
                            name: name.to_string(),
                            ..Family::default()
                        });
                        families.len() - 1
                    }
                };
                if !families[at].comments.iter().any(|l| l == line) {
                    families[at].comments.push(line.to_string());
                }
                current = Some(at);
                continue;
            }
            let Some((series, value)) = line.rsplit_once(' ') else {
                continue;
            };
            let Ok(value) = value.parse::<f64>() else { continue };
            let at = match current {
                Some(at) => at,
                None => {
                    families.push(Family::default());
                    families.len() - 1
                }
            };
            let Family { order, values, .. } = &mut families[at];
            match values.get_mut(series) {
                Some(total) if series.ends_with("_start_time_seconds") => *total = total.min(value),
                Some(total) => *total += value,
                None => {
                    order.push(series.to_string());
                    values.insert(series.to_string(), value);
                }
            }
        }
    }
    let mut out = String::new();
    for family in &families {
        for comment in &family.comments {
            let _ = writeln!(out, "{comment}");
        }
        for series in &family.order {
            let _ = writeln!(out, "{series} {}", family.values[series]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_add_up_across_workers_and_a_start_time_is_the_earliest() {
        let one = "# HELP req Requests.\n# TYPE req counter\nreq{route=\"/users/{id}\"} 3\nreq{route=\"/ping\"} 1\n\
                   # TYPE process_start_time_seconds gauge\nprocess_start_time_seconds 200\n";
        let two = "# HELP req Requests.\n# TYPE req counter\nreq{route=\"/users/{id}\"} 4\nreq{route=\"/x\"} 2\n\
                   # TYPE process_start_time_seconds gauge\nprocess_start_time_seconds 100\n";
        assert_eq!(
            merge([one, two]),
            "# HELP req Requests.\n# TYPE req counter\nreq{route=\"/users/{id}\"} 7\nreq{route=\"/ping\"} 1\n\
             req{route=\"/x\"} 2\n# TYPE process_start_time_seconds gauge\nprocess_start_time_seconds 100\n"
        );
    }
}
