//! The report as people read it: the comparison table (terminal), the verdicts under it, and the same as Markdown
//! for the book. Every figure comes from the report's data; nothing here measures or judges.

use lab_load_generator::report::{human_bytes, human_us};

use super::html;
use super::RunReport;

impl RunReport {
    /// The comparison table.
    pub fn table(&self) -> String {
        let (header, rows) = self.cells();
        let mut t = comfy_table::Table::new();
        t.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
        t.set_header(header);
        for row in rows {
            t.add_row(row);
        }
        t.to_string()
    }

    /// The run as Markdown, for the book: the same table, the lines under it, the latency spectrum and throughput
    /// charts, and the machine it ran on.
    pub fn markdown(&self) -> String {
        let (header, rows) = self.cells();
        let line = |cells: &[String]| format!("| {} |", cells.join(" | ").replace('\n', " "));
        let mut out = vec![line(&header), format!("|{}", "---|".repeat(header.len()))];
        out.extend(rows.iter().map(|r| line(r)));
        out.push(String::new());
        out.extend(self.verdicts().lines().map(|l| format!("- {}", l.replace('|', "\\|"))));
        out.push(String::new());
        // The chart, as raw HTML inside a block element so Markdown leaves it alone.
        out.push(format!(
            "<div class=\"wb-chart\">\n{}\n{}\n</div>",
            html::spectrum(self),
            html::throughput(self)
        ));
        out.push(String::new());
        let m = &self.machine;
        out.push(format!(
            "Run `{}`, profile `{}`, started {} on {} CPUs ({}, {}).",
            self.lab, self.profile, self.started_at, m.cpus, m.cpu_model, m.os
        ));
        out.join("\n") + "\n"
    }

    /// The table's header and rows, as text.
    fn cells(&self) -> (Vec<String>, Vec<Vec<String>>) {
        let counter_names: Vec<&String> = {
            // Counters that are zero in every variant say nothing here (they stay in the JSON).
            let mut names: Vec<&String> = self
                .variants
                .iter()
                .flat_map(|v| {
                    v.counters
                        .iter()
                        .filter(|(_, n)| n.as_f64() != Some(0.0))
                        .map(|(k, _)| k)
                })
                .collect();
            names.sort();
            names.dedup();
            names
        };
        let mut header: Vec<String> = [
            "variant",
            "mode",
            "req/s (target)",
            "errors",
            "p50",
            "p95",
            "p99",
            "p99.9",
            "max",
            "send lag p99",
            "server CPU",
            "peak RSS",
        ]
        .map(String::from)
        .into();
        // Goodput, when the profile set a latency objective: the throughput users actually got.
        let slo = self.variants.iter().find_map(|v| v.load.goodput.map(|g| g.slo_ms));
        if let Some(slo) = slo {
            header.insert(3, format!("goodput ≤{}", human_us((slo * 1000.0) as u64)));
        }
        header.extend(counter_names.iter().map(|n| n.to_string()));
        let mut rows = Vec::new();
        for v in &self.variants {
            let l = &v.load;
            let rate = match l.load.target_rps {
                Some(target) => format!("{:.0} ({target:.0})", l.achieved_rps),
                None => format!("{:.0}", l.achieved_rps),
            };
            let mode = match l.load.mode.as_str() {
                "closed" => format!("closed ×{}", l.load.connections),
                // A WebSocket run: its rate is messages, its latency their delivery ([`VariantResult::websocket`]).
                "websocket" => format!("websocket ×{}", l.load.connections),
                _ => "fixed-rate".into(),
            };
            let mut row = vec![
                if l.generator.valid {
                    v.name.clone()
                } else {
                    format!("{} ⚠", v.name)
                },
                mode,
                rate,
                l.errors.to_string(),
                human_us(l.latency_us.p50),
                l.latency_us.p95.map_or("–".into(), human_us),
                human_us(l.latency_us.p99),
                human_us(l.latency_us.p999),
                human_us(l.latency_us.max),
                // How late the generator sent, beside what it measured: the instrument's own error, every run.
                if l.load.mode == "closed" {
                    "-".into()
                } else {
                    human_us(l.generator.send_lag_us.p99)
                },
                format!("{:.2}s", v.server.cpu_seconds),
                format!("{:.1} MiB", v.server.rss_peak_bytes as f64 / 1048576.0),
            ];
            if slo.is_some() {
                row.insert(3, l.goodput.map_or("-".into(), |g| format!("{:.0}", g.rps)));
            }
            row.extend(
                counter_names
                    .iter()
                    .map(|n| v.counters.get(*n).map_or("-".into(), |c| c.to_string())),
            );
            rows.push(row);
        }
        (header, rows)
    }

    /// The lines under the table: invalid runs, the servers' notes, sampled time series, skipped variants,
    /// lesson verdicts.
    pub fn verdicts(&self) -> String {
        let mut lines = Vec::new();
        for v in &self.variants {
            for reason in &v.load.generator.invalid_reasons {
                lines.push(format!("⚠ {}: not a valid measurement: {reason}", v.name));
            }
            for note in &v.load.generator.notes {
                lines.push(format!("· {}: {note}", v.name));
            }
            if v.load.retried > 0 {
                lines.push(format!(
                    "· {}: {} idempotent requests sent again after a kept-alive connection closed before any response byte (the keep-alive race; each counted once, by its second outcome)",
                    v.name, v.load.retried
                ));
            }
        }
        lines.extend(self.note_lines());
        lines.extend(self.transfer_lines());
        for v in &self.variants {
            let Some(timeline) = &v.timeline else { continue };
            for (name, series) in &timeline.series {
                lines.push(format!("~ {} {name}: {}", v.name, series.summary()));
            }
            if timeline.scrape_errors > 0 {
                lines.push(format!(
                    "⚠ {}: {} of {} /metrics samples failed (first: {})",
                    v.name,
                    timeline.scrape_errors,
                    timeline.scrape_errors + timeline.scrapes,
                    timeline.first_error.as_deref().unwrap_or("?")
                ));
            }
        }
        lines.extend(self.prometheus_lines());
        lines.extend(self.cpu_profile_lines());
        for v in &self.variants {
            let Some(profile) = &v.heap_profile else { continue };
            let mut heap = profile.lines(5);
            heap[0] = format!("🧠 {}: {}", v.name, heap[0]);
            if !profile.file.is_empty() {
                heap.push(format!("   DHAT profile: {}", profile.file));
            }
            lines.extend(heap);
        }
        for s in &self.skipped {
            lines.push(format!("– {} skipped: {}", s.variant, s.reason));
        }
        for verdict in &self.lessons {
            lines.push(verdict.line());
        }
        for gate in &self.gates {
            lines.push(gate.line());
        }
        lines.join("\n")
    }

    /// Per variant profiled (`--flamegraph`): where its CPU went — the program's own hottest functions, share of
    /// samples anywhere on the stack — and the flamegraph's file.
    pub fn cpu_profile_lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for v in &self.variants {
            let Some(profile) = &v.cpu_profile else { continue };
            lines.push(format!(
                "🔥 {}: {} CPU samples in {:.0} s ({} per CPU-second){}",
                v.name,
                profile.samples,
                profile.seconds,
                profile.frequency,
                if profile.flamegraph.is_empty() {
                    String::new()
                } else {
                    format!(" — flamegraph {}", profile.flamegraph)
                }
            ));
            for frame in profile.hot_functions(6) {
                lines.push(format!("   {:>5.1}%  {}", frame.share * 100.0, frame.function));
            }
        }
        lines
    }

    /// Per variant whose requests or responses are large (64 KiB or more on average): bytes each way and time to
    /// first byte — an export or an upload is judged by them more than by its last byte.
    pub fn transfer_lines(&self) -> Vec<String> {
        const LARGE: f64 = 64.0 * 1024.0;
        let mut lines = Vec::new();
        for v in &self.variants {
            let l = &v.load;
            let sent_per_request = l.bytes_sent as f64 / (l.requests.max(1)) as f64;
            if l.bytes_per_response < LARGE && sent_per_request < LARGE {
                continue;
            }
            lines.push(format!(
                "⇅ {}: {} per response, {} sent per request · time to first byte p50 {} p99 {}",
                v.name,
                human_bytes(l.bytes_per_response),
                human_bytes(sent_per_request),
                human_us(l.ttfb_us.p50),
                human_us(l.ttfb_us.p99),
            ));
        }
        lines
    }

    /// Per variant, Prometheus's p99 beside the generator's (`--prometheus`).
    pub fn prometheus_lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for v in &self.variants {
            let Some(p) = &v.prometheus else { continue };
            lines.push(match p.p99_us {
                Some(us) => format!(
                    "◇ {}: Prometheus p99 {} (histogram_quantile over the last {} s, {} scrapes); the generator's p99 {} from the intended send, {} from the send",
                    v.name,
                    human_us(us.round() as u64),
                    p.window_s,
                    p.scrapes,
                    human_us(v.load.latency_us.p99),
                    human_us(v.load.service_us.p99),
                ),
                None => format!(
                    "◇ {}: no Prometheus p99: {}",
                    v.name,
                    p.note.as_deref().unwrap_or("no answer")
                ),
            });
        }
        lines
    }

    /// The servers' notes: one line for a note every variant shares (`· all variants: backend = sqlite`), one
    /// per variant for the rest.
    fn note_lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        let Some(first) = self.variants.first() else {
            return lines;
        };
        let shared = |key: &String, value: &String| {
            self.variants.len() > 1 && self.variants.iter().all(|v| v.notes.get(key) == Some(value))
        };
        for (key, value) in &first.notes {
            if shared(key, value) {
                lines.push(format!("· all variants: {key} = {value}"));
            }
        }
        for v in &self.variants {
            for (key, value) in &v.notes {
                if !shared(key, value) {
                    lines.push(format!("· {}: {key} = {value}", v.name));
                }
            }
        }
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::super::RunReport;

    fn variant(name: &str, notes: serde_json::Value) -> serde_json::Value {
        let zero = serde_json::json!({ "p50": 0, "p90": 0, "p99": 0, "p999": 0, "max": 0 });
        serde_json::json!({
            "name": name,
            "load": { "mode": "closed", "target_rps": null, "duration_s": 1.0, "connections": 1 },
            "achieved_rps": 10.0, "requests": 10, "errors": 0, "dropped": 0, "late": 0,
            "latency_us": zero, "service_us": zero, "connect_us": zero, "connects": 1, "outcomes": {},
            "throughput_per_s": [], "latency_spectrum": [],
            "generator": { "threads": 1, "cpu_seconds": 0.1, "busiest_thread_load": 0.1, "send_lag_us": zero,
                "valid": true, "invalid_reasons": [], "notes": [] },
            "server": { "rss_peak_bytes": 1, "cpu_seconds": 0.1 },
            "counters": {}, "notes": notes
        })
    }

    #[test]
    fn a_note_every_variant_shares_is_printed_once_the_others_per_variant() {
        let report: RunReport = serde_json::from_value(serde_json::json!({
            "schema": 1, "lab": "l", "title": "t", "profile": "quick", "started_at": "now",
            "machine": { "cpus": 2, "cpu_model": "cpu", "os": "linux" },
            "variants": [
                variant("no-index", serde_json::json!({ "backend": "sqlite", "query_plan": "SCAN orders" })),
                variant("index", serde_json::json!({ "backend": "sqlite", "query_plan": "SEARCH orders" })),
            ],
            "lessons": []
        }))
        .unwrap();
        let lines = report.verdicts();
        assert_eq!(
            lines,
            "· all variants: backend = sqlite\n· no-index: query_plan = SCAN orders\n· index: query_plan = SEARCH orders"
        );
    }
}
