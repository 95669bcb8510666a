//! Pass/fail rules for a run, as in k6 and Artillery's `ensure`: `p99<50ms`, `errors<0.1%`, `rps>=1900`,
//! optionally for one named request: `ping:p99<5ms`. A violated rule makes `cargo xtask load` exit non-zero,
//! so a run can gate CI.

use std::fmt;

use crate::report::{human_us, LoadReport, Percentiles};

/// A parsed rule.
#[derive(Debug, Clone)]
pub struct Threshold {
    text: String,
    name: Option<String>,
    metric: Metric,
    op: Op,
    limit: f64,
}

#[derive(Debug, Clone, Copy)]
enum Metric {
    Latency(fn(&Percentiles) -> u64),
    ErrorRate,
    ErrorCount,
    Rps,
    Dropped,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Lt,
    Le,
    Gt,
    Ge,
}

/// A rule that could not be parsed: the message shows the rule with a caret under the bad part.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct ThresholdError {
    text: String,
    at: usize,
    len: usize,
    message: String,
}

impl fmt::Display for ThresholdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pad = self.text[..self.at].chars().count();
        writeln!(f, "bad threshold {:?}: {}", self.text, self.message)?;
        writeln!(f, "  {}", self.text)?;
        write!(f, "  {}{}", " ".repeat(pad), "^".repeat(self.len.max(1)))
    }
}

const METRICS: &str = "p50, p90, p95, p99, p99.9, max (durations), errors (% or count), rps, dropped";

impl std::str::FromStr for Threshold {
    type Err = ThresholdError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let err = |at: usize, len: usize, message: String| ThresholdError {
            text: text.into(),
            at,
            len,
            message,
        };
        let op_at = text
            .find(['<', '>'])
            .ok_or_else(|| err(0, text.len(), "no comparison; expected e.g. p99<50ms".into()))?;
        let (op, op_len) = match &text[op_at..] {
            s if s.starts_with("<=") => (Op::Le, 2),
            s if s.starts_with(">=") => (Op::Ge, 2),
            s if s.starts_with('<') => (Op::Lt, 1),
            _ => (Op::Gt, 1),
        };
        let left = &text[..op_at];
        let (name, metric_text, metric_at) = match left.rsplit_once(':') {
            Some((name, metric)) => (Some(name.trim().to_string()), metric, name.len() + 1),
            None => (None, left, 0),
        };
        let metric_trim = metric_text.trim();
        let value_at = op_at + op_len;
        let value = text[value_at..].trim();
        let value_offset = value_at + (text[value_at..].len() - text[value_at..].trim_start().len());
        let latency = |f: fn(&Percentiles) -> u64| Metric::Latency(f);
        let metric = match metric_trim {
            "p50" => latency(|p| p.p50),
            "p90" => latency(|p| p.p90),
            "p95" => latency(|p| p.p95.unwrap_or(p.p99)),
            "p99" => latency(|p| p.p99),
            "p99.9" | "p999" => latency(|p| p.p999),
            "max" => latency(|p| p.max),
            "errors" if value.ends_with('%') => Metric::ErrorRate,
            "errors" => Metric::ErrorCount,
            "rps" => Metric::Rps,
            "dropped" => Metric::Dropped,
            _ => {
                return Err(err(
                    metric_at,
                    metric_text.len(),
                    format!("unknown metric {metric_trim:?}; known: {METRICS}"),
                ))
            }
        };
        if value.is_empty() {
            return Err(err(value_offset, 1, "missing value after the comparison".into()));
        }
        let digits_end = value
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(value.len());
        let number: f64 = value[..digits_end].parse().map_err(|_| {
            err(
                value_offset,
                value.len(),
                format!("{value:?} does not start with a number"),
            )
        })?;
        let unit = &value[digits_end..];
        let unit_at = value_offset + digits_end;
        let limit = match metric {
            Metric::Latency(_) => {
                let scale = match unit {
                    "us" | "µs" => 1.0,
                    "ms" => 1e3,
                    "s" => 1e6,
                    "" => return Err(err(unit_at, 1, "a latency needs a unit: us, ms or s".into())),
                    _ => {
                        return Err(err(
                            unit_at,
                            unit.len(),
                            format!("unknown unit {unit:?}; use us, ms or s"),
                        ))
                    }
                };
                number * scale
            }
            Metric::ErrorRate => number / 100.0,
            _ if !unit.is_empty() => {
                return Err(err(
                    unit_at,
                    unit.len(),
                    format!("{metric_trim} takes a plain number, not {unit:?}"),
                ))
            }
            _ => number,
        };
        Ok(Threshold {
            text: text.into(),
            name,
            metric,
            op,
            limit,
        })
    }
}

impl Threshold {
    /// Checks the rule against a report. `Err` says what was measured and what the rule allowed.
    pub fn check(&self, report: &LoadReport) -> Result<(), String> {
        let (requests, errors, latency) = match &self.name {
            None => (report.requests, report.errors, &report.latency_us),
            Some(name) => match report.by_name.get(name) {
                Some(r) => (r.requests, r.errors, &r.latency_us),
                None if report.by_name.is_empty() => (report.requests, report.errors, &report.latency_us),
                None => return Err(format!("{}: no request is named {name:?}", self.text)),
            },
        };
        let (measured, shown) = match self.metric {
            Metric::Latency(f) => {
                let v = f(latency);
                (v as f64, human_us(v))
            }
            Metric::ErrorRate => {
                let rate = if requests == 0 {
                    0.0
                } else {
                    errors as f64 / requests as f64
                };
                (rate, format!("{:.3}%", rate * 100.0))
            }
            Metric::ErrorCount => (errors as f64, errors.to_string()),
            Metric::Rps => (report.achieved_rps, format!("{:.1}", report.achieved_rps)),
            Metric::Dropped => (report.dropped as f64, report.dropped.to_string()),
        };
        let holds = match self.op {
            Op::Lt => measured < self.limit,
            Op::Le => measured <= self.limit,
            Op::Gt => measured > self.limit,
            Op::Ge => measured >= self.limit,
        };
        if holds {
            Ok(())
        } else {
            Err(format!("threshold {} violated: measured {shown}", self.text))
        }
    }

    /// For a latency rule on the whole run (`p99<50ms`), its limit in microseconds; `None` for other rules.
    pub fn latency_limit_us(&self) -> Option<f64> {
        match (self.metric, &self.name) {
            (Metric::Latency(_), None) => Some(self.limit),
            _ => None,
        }
    }

    /// The rule as written.
    pub fn text(&self) -> &str {
        &self.text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(p99_us: u64, requests: u64, errors: u64) -> LoadReport {
        let json = serde_json::json!({
            "load": { "mode": "fixed-rate", "target_rps": 100.0, "duration_s": 1.0, "connections": 1 },
            "achieved_rps": 99.5, "requests": requests, "errors": errors, "dropped": 0, "late": 0,
            "latency_us": { "p50": 10, "p90": 20, "p99": p99_us, "p999": p99_us, "max": p99_us },
            "service_us": { "p50": 0, "p90": 0, "p99": 0, "p999": 0, "max": 0 },
            "connect_us": { "p50": 0, "p90": 0, "p99": 0, "p999": 0, "max": 0 },
            "connects": 1, "outcomes": {}, "throughput_per_s": [], "latency_spectrum": [],
            "generator": { "threads": 1, "cpu_seconds": 0.1, "busiest_thread_load": 0.1,
                "send_lag_us": { "p50": 0, "p90": 0, "p99": 0, "p999": 0, "max": 0 },
                "valid": true, "invalid_reasons": [], "notes": [] }
        });
        serde_json::from_value(json).unwrap()
    }

    fn t(s: &str) -> Threshold {
        s.parse().unwrap()
    }

    #[test]
    fn latency_rules_compare_in_microseconds() {
        let r = report(40_000, 1000, 0);
        assert!(t("p99<50ms").check(&r).is_ok());
        assert!(t("p99 < 0.05s").check(&r).is_ok());
        let violation = t("p99<30ms").check(&r).unwrap_err();
        assert_eq!(violation, "threshold p99<30ms violated: measured 40.00ms");
        assert!(t("p99.9<=40000us").check(&r).is_ok());
    }

    #[test]
    fn error_rules_take_rates_or_counts() {
        let r = report(1, 1000, 2);
        assert!(t("errors<0.1%").check(&r).is_err(), "2 of 1000 is 0.2%");
        assert!(t("errors<1%").check(&r).is_ok());
        assert!(t("errors<=2").check(&r).is_ok());
        assert!(t("rps>=99").check(&r).is_ok());
        assert!(t("rps>100").check(&r).is_err());
    }

    #[test]
    fn bad_rules_point_at_the_bad_part() {
        let e = "p99<50xs".parse::<Threshold>().unwrap_err().to_string();
        assert_eq!(
            e,
            "bad threshold \"p99<50xs\": unknown unit \"xs\"; use us, ms or s\n  p99<50xs\n        ^^"
        );
        let e = "p98<5ms".parse::<Threshold>().unwrap_err().to_string();
        assert!(e.contains("unknown metric \"p98\"") && e.ends_with("\n  ^^^"), "{e}");
        let e = "p99=5ms".parse::<Threshold>().unwrap_err().to_string();
        assert!(e.contains("no comparison"), "{e}");
        let e = "p99<50".parse::<Threshold>().unwrap_err().to_string();
        assert!(e.contains("needs a unit"), "{e}");
        let e = "rps>abc".parse::<Threshold>().unwrap_err().to_string();
        assert!(
            e.contains("does not start with a number") && e.ends_with("    ^^^"),
            "{e}"
        );
    }
}
