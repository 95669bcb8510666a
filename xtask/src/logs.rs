//! `cargo xtask logs FILE…`: what a service's JSON logs say — requests, error rate, latency percentiles, the
//! slowest routes, one request's lines in order.
//!
//! The seed guide's `LogAnalyzer` read the whole file into memory, averaged per-file percentiles and stopped at
//! the first line that was not JSON. This one streams (one line in memory at a time, however large the files),
//! records every logged duration into an HDR histogram so that percentiles over several files are exact merges,
//! and counts what it cannot read — a line that is not JSON, a last line cut off mid-write (a process killed
//! while logging) — instead of failing on it.
//!
//! Field names default to the logging lab's (`request_id`, `route`, `status`, `latency_us`) and are flags, so any
//! service's JSON lines can be read (`--latency-field responseTime --latency-unit ms` for pino-http's).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use hdrhistogram::Histogram;
use lab_load_generator::recorder::new_histogram;
use lab_load_generator::report::{human_us, Percentiles};
use serde::Serialize;
use serde_json::Value;

use crate::UsageError;

/// The longest line read; a longer one is counted as oversized and skipped, so memory stays bounded.
const MAX_LINE: usize = 1 << 20;

#[derive(Args)]
pub struct LogsArgs {
    /// JSON-lines log files (`-` reads stdin).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Print this request's lines, in the order they were logged.
    #[arg(long)]
    request_id: Option<String>,
    /// Routes in the slowest-routes table.
    #[arg(long, default_value_t = 5)]
    top: usize,
    /// The result as JSON on stdout, for tools.
    #[arg(long)]
    json: bool,
    /// The field holding the correlation id.
    #[arg(long, default_value = "request_id")]
    id_field: String,
    /// The field holding the route (a template such as /order/{id}, not the raw path).
    #[arg(long, default_value = "route")]
    route_field: String,
    /// The field holding the response status.
    #[arg(long, default_value = "status")]
    status_field: String,
    /// The field holding a request's duration: a line with it is one completed request.
    #[arg(long, default_value = "latency_us")]
    latency_field: String,
    /// The duration's unit.
    #[arg(long, default_value = "us", value_parser = ["us", "ms", "s"])]
    latency_unit: String,
}

/// What the logs say.
#[derive(Debug, Default, Serialize)]
pub struct Analysis {
    /// Lines read, of any kind.
    pub lines: u64,
    /// Lines that were not a JSON object (counted, not fatal).
    pub not_json: u64,
    /// Files whose last line was cut off without its newline and did not parse.
    pub truncated_last_lines: u64,
    /// Lines longer than the limit, skipped.
    pub oversized: u64,
    /// Completed requests: lines with a duration.
    pub requests: u64,
    /// Of which status ≥ 500.
    pub server_errors: u64,
    /// Of which status 400–499.
    pub client_errors: u64,
    /// Server errors over requests.
    pub error_rate: f64,
    /// Latency over every completed request, µs.
    pub latency_us: Percentiles,
    /// Routes by p99, slowest first.
    pub slowest_routes: Vec<RouteStats>,
    /// Lines by level.
    pub levels: BTreeMap<String, u64>,
    /// With --request-id: its lines, in file order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub request_lines: Vec<Value>,
    /// This process's peak resident memory, from /proc: the proof that files are streamed.
    pub peak_rss_bytes: u64,
}

/// One route's figures.
#[derive(Debug, Serialize)]
pub struct RouteStats {
    pub route: String,
    pub requests: u64,
    pub latency_us: Percentiles,
}

/// Reads `reader` line by line into `analysis` (one line held at a time).
struct Reader<'a> {
    args: &'a LogsArgs,
    total: Histogram<u64>,
    by_route: BTreeMap<String, Histogram<u64>>,
    analysis: Analysis,
}

impl<'a> Reader<'a> {
    fn new(args: &'a LogsArgs) -> Self {
        Reader {
            args,
            total: new_histogram(),
            by_route: BTreeMap::new(),
            analysis: Analysis::default(),
        }
    }

    fn read(&mut self, reader: impl Read) -> std::io::Result<()> {
        let mut reader = BufReader::with_capacity(256 << 10, reader);
        let mut line = Vec::with_capacity(4096);
        loop {
            line.clear();
            let (ended, oversized) = read_line(&mut reader, &mut line)?;
            if line.is_empty() && !ended && !oversized {
                return Ok(());
            }
            self.analysis.lines += 1;
            if oversized {
                self.analysis.oversized += 1;
                continue;
            }
            match serde_json::from_slice::<Value>(&line) {
                Ok(Value::Object(map)) => self.record(Value::Object(map)),
                _ if !ended => self.analysis.truncated_last_lines += 1,
                _ => self.analysis.not_json += 1,
            }
            if !ended {
                return Ok(());
            }
        }
    }

    fn record(&mut self, line: Value) {
        let a = &self.args;
        if let Some(level) = line.get("level").and_then(Value::as_str) {
            *self.analysis.levels.entry(level.to_string()).or_default() += 1;
        }
        if let Some(latency) = line.get(&a.latency_field).and_then(Value::as_f64) {
            let us = match a.latency_unit.as_str() {
                "ms" => latency * 1e3,
                "s" => latency * 1e6,
                _ => latency,
            };
            let us = us.max(0.0).round() as u64;
            self.analysis.requests += 1;
            self.total.saturating_record(us);
            let route = line.get(&a.route_field).and_then(Value::as_str).unwrap_or("(no route)");
            self.by_route
                .entry(route.to_string())
                .or_insert_with(new_histogram)
                .saturating_record(us);
            match line.get(&a.status_field).and_then(Value::as_u64) {
                Some(500..) => self.analysis.server_errors += 1,
                Some(400..=499) => self.analysis.client_errors += 1,
                _ => {}
            }
        }
        if let Some(wanted) = &a.request_id {
            if line.get(&a.id_field).and_then(Value::as_str) == Some(wanted.as_str()) {
                self.analysis.request_lines.push(line);
            }
        }
    }

    fn finish(mut self) -> Analysis {
        let a = &mut self.analysis;
        a.error_rate = if a.requests > 0 {
            a.server_errors as f64 / a.requests as f64
        } else {
            0.0
        };
        a.latency_us = Percentiles::of(&self.total);
        let mut routes: Vec<RouteStats> = self
            .by_route
            .iter()
            .map(|(route, h)| RouteStats {
                route: route.clone(),
                requests: h.len(),
                latency_us: Percentiles::of(h),
            })
            .collect();
        routes.sort_by(|x, y| y.latency_us.p99.cmp(&x.latency_us.p99).then(x.route.cmp(&y.route)));
        routes.truncate(self.args.top);
        a.slowest_routes = routes;
        a.peak_rss_bytes = lab_load_generator::proc_stat::peak_rss_bytes(std::process::id()).unwrap_or(0);
        self.analysis
    }
}

/// Reads one line (without its newline) into `line`, at most [`MAX_LINE`] bytes: returns whether a newline ended
/// it, and whether it was longer (the rest is skipped without being kept).
fn read_line(reader: &mut impl BufRead, line: &mut Vec<u8>) -> std::io::Result<(bool, bool)> {
    let mut oversized = false;
    loop {
        let buf = reader.fill_buf()?;
        if buf.is_empty() {
            return Ok((false, oversized));
        }
        let (take, ended) = match buf.iter().position(|b| *b == b'\n') {
            Some(i) => (i, true),
            None => (buf.len(), false),
        };
        if !oversized {
            if line.len() + take > MAX_LINE {
                oversized = true;
                line.clear();
            } else {
                line.extend_from_slice(&buf[..take]);
            }
        }
        reader.consume(take + usize::from(ended));
        if ended {
            return Ok((true, oversized));
        }
    }
}

pub fn run(args: LogsArgs) -> anyhow::Result<ExitCode> {
    let mut reader = Reader::new(&args);
    for file in &args.files {
        if file.as_os_str() == "-" {
            reader.read(std::io::stdin().lock())?;
            continue;
        }
        let opened = std::fs::File::open(file).map_err(|e| UsageError(format!("{}: {e}", file.display())))?;
        reader
            .read(opened)
            .map_err(|e| UsageError(format!("reading {}: {e}", file.display())))?;
    }
    let analysis = reader.finish();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&analysis)?);
    } else {
        print!("{}", text(&analysis, &args));
    }
    Ok(ExitCode::SUCCESS)
}

fn text(a: &Analysis, args: &LogsArgs) -> String {
    let mut out = format!(
        "{} lines · {} requests · server errors {} ({:.2}%) · client errors {}\n",
        a.lines,
        a.requests,
        a.server_errors,
        a.error_rate * 100.0,
        a.client_errors
    );
    let p = &a.latency_us;
    out.push_str(&format!(
        "latency (from the logged durations, exact over every file): p50 {} · p95 {} · p99 {} · max {}\n",
        human_us(p.p50),
        p.p95.map_or("–".into(), human_us),
        human_us(p.p99),
        human_us(p.max)
    ));
    let levels: Vec<String> = a.levels.iter().map(|(l, n)| format!("{l} {n}")).collect();
    out.push_str(&format!("levels: {}\n", levels.join(", ")));
    if a.not_json + a.truncated_last_lines + a.oversized > 0 {
        out.push_str(&format!(
            "skipped: {} not JSON, {} truncated last lines, {} longer than {} bytes\n",
            a.not_json, a.truncated_last_lines, a.oversized, MAX_LINE
        ));
    }
    if !a.slowest_routes.is_empty() {
        let mut t = comfy_table::Table::new();
        t.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
        t.set_header(["slowest routes (by p99)", "requests", "p50", "p99", "max"]);
        for r in &a.slowest_routes {
            t.add_row([
                r.route.clone(),
                r.requests.to_string(),
                human_us(r.latency_us.p50),
                human_us(r.latency_us.p99),
                human_us(r.latency_us.max),
            ]);
        }
        out.push_str(&format!("{t}\n"));
    }
    if let Some(id) = &args.request_id {
        out.push_str(&format!("request {id}: {} lines\n", a.request_lines.len()));
        for line in &a.request_lines {
            out.push_str(&format!("  {line}\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        logs: LogsArgs,
    }

    fn analyse(text: &[u8], extra: &[&str]) -> Analysis {
        let mut argv = vec!["logs", "-"];
        argv.extend(extra);
        let cli = Cli::parse_from(argv);
        let mut reader = Reader::new(&cli.logs);
        reader.read(text).unwrap();
        reader.finish()
    }

    #[test]
    fn durations_give_exact_percentiles_and_bad_lines_are_counted_not_fatal() {
        let mut text = String::new();
        for i in 1..=100 {
            let status = if i % 25 == 0 { 503 } else { 200 };
            text.push_str(&format!(
                "{{\"level\":\"INFO\",\"request_id\":\"r{i}\",\"route\":\"/r/{}\",\"status\":{status},\"latency_us\":{i}}}\n",
                i % 2
            ));
        }
        text.push_str("panic: not json at all\n");
        text.push_str("{\"level\":\"INFO\",\"request_id\":\"r7\",\"msg\":\"late line\"}\n");
        text.push_str("{\"level\":\"INFO\",\"latency_us\":"); // cut off mid-write
        let a = analyse(text.as_bytes(), &["--request-id", "r7"]);
        assert_eq!(
            (a.lines, a.requests, a.not_json, a.truncated_last_lines),
            (103, 100, 1, 1)
        );
        assert_eq!((a.server_errors, a.error_rate), (4, 0.04));
        assert_eq!((a.latency_us.p50, a.latency_us.p99, a.latency_us.max), (50, 99, 100));
        assert_eq!(a.slowest_routes[0].route, "/r/0", "the even durations include 100");
        assert_eq!(a.request_lines.len(), 2, "r7's lines, in order");
        assert_eq!(a.request_lines[1]["msg"], "late line");
        assert_eq!(a.levels["INFO"], 101, "the truncated line is not a line of any level");
    }

    #[test]
    fn another_services_field_names_and_units_are_flags() {
        let text = b"{\"responseTime\":12,\"req\":{\"url\":\"/x\"}}\n{\"responseTime\":3}\n";
        let a = analyse(text, &["--latency-field", "responseTime", "--latency-unit", "ms"]);
        assert_eq!(a.requests, 2);
        // 12 ms in µs, within the histogram's three significant digits.
        assert!(a.latency_us.max.abs_diff(12_000) <= 12, "{}", a.latency_us.max);
    }

    #[test]
    fn a_line_longer_than_the_limit_is_skipped_in_bounded_memory() {
        let mut text = vec![b'x'; MAX_LINE * 3];
        text.extend_from_slice(b"\n{\"latency_us\":5}\n");
        let a = analyse(&text, &[]);
        assert_eq!((a.lines, a.oversized, a.requests), (2, 1, 1));
    }
}
