//! The queries a timeline samples, in the PromQL a Prometheus user already types — the three shapes a run needs:
//!
//! | query | reads | each point is |
//! |---|---|---|
//! | `process_resident_memory_bytes` | a gauge (or any sample) | its value, summed over matching series |
//! | `rate(http_requests_total{route="/x"})` | a counter | its increase since the previous scrape, per second |
//! | `histogram_quantile(0.99, event_loop_lag_seconds)` | a histogram | the quantile of what was observed since the previous scrape |
//!
//! Label matchers are `label="value"` (equality only). Like `sum by (le)` in PromQL, every series that matches is
//! added up, so a family split by route reads as the service's whole.

use std::fmt;
use std::str::FromStr;

use super::exposition::Sample;

/// A parsed query.
#[derive(Debug, Clone, PartialEq)]
pub enum Query {
    /// The value now.
    Value(Selector),
    /// Increase per second between scrapes.
    Rate(Selector),
    /// A quantile (0..=1) of the observations between scrapes.
    Quantile(f64, Selector),
}

/// A metric name and label equalities.
#[derive(Debug, Clone, PartialEq)]
pub struct Selector {
    /// The family's name.
    pub name: String,
    /// `label="value"` pairs every matching series has.
    pub labels: Vec<(String, String)>,
}

/// What one scrape says for a query: a number, or (for a quantile) the cumulative buckets, summed over series.
#[derive(Debug, Clone, PartialEq)]
pub enum Reading {
    /// The summed value.
    Number(f64),
    /// `(upper bound, cumulative count)`, by increasing bound, `+Inf` last.
    Buckets(Vec<(f64, f64)>),
}

impl FromStr for Query {
    type Err = String;

    fn from_str(text: &str) -> Result<Query, String> {
        let text = text.trim();
        let inner = |prefix: &str| text.strip_prefix(prefix).and_then(|t| t.strip_suffix(')'));
        if let Some(args) = inner("histogram_quantile(") {
            let (q, selector) = args
                .split_once(',')
                .ok_or_else(|| format!("{text:?}: histogram_quantile takes (quantile, histogram)"))?;
            let q: f64 = q
                .trim()
                .parse()
                .map_err(|_| format!("{text:?}: the quantile {:?} is not a number", q.trim()))?;
            if !(0.0..=1.0).contains(&q) {
                return Err(format!("{text:?}: a quantile is between 0 and 1, e.g. 0.99"));
            }
            return Ok(Query::Quantile(q, selector.parse()?));
        }
        if let Some(selector) = inner("rate(") {
            return Ok(Query::Rate(selector.parse()?));
        }
        Ok(Query::Value(text.parse()?))
    }
}

impl FromStr for Selector {
    type Err = String;

    fn from_str(text: &str) -> Result<Selector, String> {
        let text = text.trim();
        let (name, labels) = match text.split_once('{') {
            None => (text, ""),
            Some((name, rest)) => (
                name,
                rest.strip_suffix('}')
                    .ok_or_else(|| format!("{text:?}: labels end with `}}`"))?,
            ),
        };
        let valid_name = !name.is_empty()
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
            && !name.starts_with(|c: char| c.is_ascii_digit());
        if !valid_name {
            return Err(format!(
                "{text:?}: expected a metric name such as process_resident_memory_bytes, rate(name) or histogram_quantile(0.99, name)"
            ));
        }
        let mut pairs = Vec::new();
        for pair in labels.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (label, value) = pair
                .split_once('=')
                .ok_or_else(|| format!("{text:?}: a label matcher is label=\"value\""))?;
            let value = value
                .trim()
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .ok_or_else(|| format!("{text:?}: the value of {label} goes in double quotes"))?;
            pairs.push((label.trim().to_string(), value.to_string()));
        }
        Ok(Selector {
            name: name.to_string(),
            labels: pairs,
        })
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.name)?;
        if !self.labels.is_empty() {
            let pairs: Vec<String> = self.labels.iter().map(|(l, v)| format!("{l}=\"{v}\"")).collect();
            write!(f, "{{{}}}", pairs.join(","))?;
        }
        Ok(())
    }
}

impl fmt::Display for Query {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Query::Value(s) => write!(f, "{s}"),
            Query::Rate(s) => write!(f, "rate({s})"),
            Query::Quantile(q, s) => write!(f, "histogram_quantile({q}, {s})"),
        }
    }
}

impl Selector {
    /// Whether `sample` is of `name` (exactly) and has every label asked for.
    fn matches(&self, name: &str, sample: &Sample) -> bool {
        sample.name == name
            && self
                .labels
                .iter()
                .all(|(label, value)| sample.label(label) == Some(value.as_str()))
    }
}

impl Query {
    fn selector(&self) -> &Selector {
        match self {
            Query::Value(s) | Query::Rate(s) | Query::Quantile(_, s) => s,
        }
    }

    /// What a scrape's samples say for this query; `None` when no series matches.
    pub fn read(&self, samples: &[Sample]) -> Option<Reading> {
        if let Query::Quantile(_, selector) = self {
            // A histogram's `_bucket` lines, added up by `le` across the matching series.
            let bucket = format!("{}_bucket", selector.name);
            let mut summed: Vec<(f64, f64)> = Vec::new();
            for sample in samples.iter().filter(|s| selector.matches(&bucket, s)) {
                let Some(le) = sample.label("le").and_then(parse_le) else {
                    continue;
                };
                match summed.iter_mut().find(|(bound, _)| *bound == le) {
                    Some((_, count)) => *count += sample.value,
                    None => summed.push((le, sample.value)),
                }
            }
            summed.sort_by(|a, b| a.0.total_cmp(&b.0));
            return (!summed.is_empty()).then_some(Reading::Buckets(summed));
        }
        let selector = self.selector();
        let mut matching = samples
            .iter()
            .filter(|s| selector.matches(&selector.name, s))
            .peekable();
        matching.peek()?;
        Some(Reading::Number(matching.map(|s| s.value).sum()))
    }

    /// The point between two readings `seconds` apart: the later value, the rate, or the quantile of the
    /// observations in between (`None` when there were none, or the readings do not fit the query).
    pub fn point(&self, before: Option<&Reading>, now: &Reading, seconds: f64) -> Option<f64> {
        match (self, before, now) {
            (Query::Value(_), _, Reading::Number(v)) => Some(*v),
            (Query::Rate(_), Some(Reading::Number(a)), Reading::Number(b)) if seconds > 0.0 => {
                // A counter that went down was reset (a restarted process): count from zero, as rate() does.
                let increase = if b >= a { b - a } else { *b };
                Some(increase / seconds)
            }
            (Query::Quantile(q, _), before, Reading::Buckets(now)) => {
                let delta: Vec<(f64, f64)> = now
                    .iter()
                    .map(|(le, count)| {
                        let earlier = match before {
                            Some(Reading::Buckets(b)) => b.iter().find(|(l, _)| l == le).map_or(0.0, |(_, c)| *c),
                            _ => 0.0,
                        };
                        (*le, (count - earlier).max(0.0))
                    })
                    .collect();
                quantile(*q, &delta)
            }
            _ => None,
        }
    }
}

/// An `le` label's bound.
fn parse_le(le: &str) -> Option<f64> {
    match le {
        "+Inf" | "Inf" => Some(f64::INFINITY),
        other => other.parse().ok(),
    }
}

/// `histogram_quantile` on cumulative buckets: the bucket where the rank falls, interpolated linearly inside it
/// (from 0 for the first bucket); a rank in the `+Inf` bucket reads as the highest finite bound, as Prometheus
/// answers. `None` when nothing was observed.
pub fn quantile(q: f64, buckets: &[(f64, f64)]) -> Option<f64> {
    let total = buckets.last()?.1;
    if total <= 0.0 {
        return None;
    }
    let rank = q * total;
    let mut lower = (0.0, 0.0);
    for &(le, count) in buckets {
        if count >= rank {
            if le.is_infinite() {
                return Some(lower.0);
            }
            let inside = count - lower.1;
            let share = if inside > 0.0 { (rank - lower.1) / inside } else { 1.0 };
            return Some(lower.0 + (le - lower.0) * share);
        }
        lower = (le, count);
    }
    Some(lower.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scrape(text: &str) -> Vec<Sample> {
        super::super::exposition::parse(text).unwrap()
    }

    const TEXT: &str = "# TYPE rss gauge\nrss 100\n# TYPE req counter\nreq{route=\"/a/{id}\"} 10\nreq{route=\"/b\"} 5\n\
# TYPE lag histogram\nlag_bucket{le=\"0.001\"} 90\nlag_bucket{le=\"0.01\"} 99\nlag_bucket{le=\"+Inf\"} 100\nlag_sum 1\nlag_count 100\n";

    #[test]
    fn the_three_shapes_parse_and_print_back() {
        for text in [
            "process_resident_memory_bytes",
            "rate(http_requests_total{route=\"/users/{id}\",status=\"200\"})",
            "histogram_quantile(0.99, event_loop_lag_seconds)",
        ] {
            let query: Query = text.parse().unwrap();
            assert_eq!(query.to_string(), text);
        }
        for bad in ["", "rate(x", "histogram_quantile(2, x)", "x{a=b}", "9lives", "sum(x)"] {
            assert!(bad.parse::<Query>().is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn values_sum_over_matching_series() {
        let s = scrape(TEXT);
        let read = |q: &str| q.parse::<Query>().unwrap().read(&s);
        assert_eq!(read("rss"), Some(Reading::Number(100.0)));
        assert_eq!(read("rate(req)"), Some(Reading::Number(15.0)));
        assert_eq!(read("req{route=\"/b\"}"), Some(Reading::Number(5.0)));
        assert_eq!(read("missing"), None);
    }

    #[test]
    fn a_rate_is_the_increase_per_second_and_survives_a_reset() {
        let q: Query = "rate(req)".parse().unwrap();
        let (a, b) = (Reading::Number(10.0), Reading::Number(40.0));
        assert_eq!(q.point(Some(&a), &b, 2.0), Some(15.0));
        assert_eq!(q.point(Some(&b), &a, 1.0), Some(10.0), "a reset counts from zero");
        assert_eq!(q.point(None, &b, 1.0), None, "the first scrape has no rate");
    }

    #[test]
    fn a_quantile_is_read_from_the_buckets_observed_in_between() {
        let q: Query = "histogram_quantile(0.99, lag)".parse().unwrap();
        let s = scrape(TEXT);
        let now = q.read(&s).unwrap();
        // 100 observations: 90 at or below 1 ms, 9 more at or below 10 ms, 1 above. The 99th is the last of the
        // 10 ms bucket.
        let p = q.point(None, &now, 1.0).unwrap();
        assert!((p - 0.01).abs() < 1e-12, "{p}");
        let before = Reading::Buckets(vec![(0.001, 90.0), (0.01, 90.0), (f64::INFINITY, 90.0)]);
        // Since then: 9 in (1 ms, 10 ms], 1 above. Rank 9.9 of 10 falls in the 10 ms bucket's last share.
        let p = q.point(Some(&before), &now, 1.0).unwrap();
        assert!((p - 0.01).abs() < 1e-12, "{p}");
        assert_eq!(q.point(Some(&now), &now, 1.0), None, "nothing observed in between");
        assert_eq!(
            quantile(0.5, &[(1.0, 0.0), (2.0, 10.0), (f64::INFINITY, 10.0)]),
            Some(1.5)
        );
        assert_eq!(
            quantile(0.99, &[(1.0, 0.0), (f64::INFINITY, 10.0)]),
            Some(1.0),
            "+Inf reads as the top bound"
        );
    }
}
