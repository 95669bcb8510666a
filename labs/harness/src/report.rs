//! The run report: the JSON contract in DESIGN.md that tests, the book and team tooling read, and the terminal
//! table people read.
//!
//! Each variant's entry is the load generator's result (`achieved_rps`, `latency_us`, …) with the server's side
//! added: its CPU and peak memory, and the counters from `/stats`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use lab_load_generator::report::human_us;
use lab_load_generator::LoadReport;
use serde::{Deserialize, Serialize};

use crate::error::{Context, RunError};
use crate::lessons::{GateVerdict, Verdict};
use crate::machine::Machine;

/// Version of the JSON layout; bumped on any incompatible change.
pub const SCHEMA: u32 = 1;

/// One run of one lab.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunReport {
    /// Always [`SCHEMA`].
    pub schema: u32,
    /// The lab's name.
    pub lab: String,
    /// What it teaches.
    pub title: String,
    /// The profile run (`quick`, `full`).
    pub profile: String,
    /// UTC, RFC 3339.
    pub started_at: String,
    /// Where it ran.
    pub machine: Machine,
    /// Results, in the order the variants ran.
    pub variants: Vec<VariantResult>,
    /// Variants not run, and why (e.g. `REDIS_URL` unset).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<Skipped>,
    /// The lessons' verdicts.
    pub lessons: Vec<Verdict>,
    /// Exercise performance gates, when an exercise's variant ran.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gates: Vec<GateVerdict>,
}

/// A variant that was not run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Skipped {
    /// The variant.
    pub variant: String,
    /// Why.
    pub reason: String,
}

/// One variant's measurements.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VariantResult {
    /// The variant.
    pub name: String,
    /// What the load generator measured.
    #[serde(flatten)]
    pub load: LoadReport,
    /// What the server used.
    pub server: ServerSample,
    /// The server's `/stats` after the run.
    pub counters: BTreeMap<String, serde_json::Number>,
    /// The text in its `/stats` (a backend's name, a query plan): printed under the table.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub notes: BTreeMap<String, String>,
}

/// The server process's resource use, from /proc.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct ServerSample {
    /// Peak resident memory (VmHWM).
    pub rss_peak_bytes: u64,
    /// CPU time during the load (user + system, all threads).
    pub cpu_seconds: f64,
    /// That CPU time per request completed (warm-up included, as in the CPU time): what one request costs the
    /// server, whoever the bottleneck was — the generator cannot distort it.
    #[serde(default)]
    pub cpu_us_per_request: f64,
}

impl RunReport {
    /// Saves the report where every tool looks for it, `<target>/workbench/<lab>/<time>.{json,html}` (`<target>`
    /// is `CARGO_TARGET_DIR`, else `<root>/target`); returns both paths.
    pub fn save(&self, root: &Path) -> Result<(PathBuf, PathBuf), RunError> {
        self.write(&reports_dir(root).join(&self.lab))
    }

    /// Writes `<dir>/<timestamp>.json` and `.html`; returns both paths.
    pub fn write(&self, dir: &Path) -> Result<(PathBuf, PathBuf), RunError> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let stem = self.started_at.replace(':', "-");
        let json = dir.join(format!("{stem}.json"));
        let html = dir.join(format!("{stem}.html"));
        let text = serde_json::to_string_pretty(self).context("serialising the report")? + "\n";
        std::fs::write(&json, text).with_context(|| format!("writing {}", json.display()))?;
        std::fs::write(&html, crate::html::render(self)).with_context(|| format!("writing {}", html.display()))?;
        Ok((json, html))
    }

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
            crate::html::spectrum(self),
            crate::html::throughput(self)
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
            let mode = if l.load.mode == "closed" {
                format!("closed ×{}", l.load.connections)
            } else {
                "fixed-rate".into()
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

    /// The lines under the table: invalid runs, skipped variants, lesson verdicts.
    pub fn verdicts(&self) -> String {
        let mut lines = Vec::new();
        for v in &self.variants {
            for reason in &v.load.generator.invalid_reasons {
                lines.push(format!("⚠ {}: not a valid measurement: {reason}", v.name));
            }
            for note in &v.load.generator.notes {
                lines.push(format!("· {}: {note}", v.name));
            }
        }
        lines.extend(self.note_lines());
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

    /// True when every lesson that could be judged held and every gate passed.
    pub fn all_lessons_hold(&self) -> bool {
        self.lessons.iter().all(|l| l.holds || l.observed_ratio.is_none()) && self.gates.iter().all(|g| g.passed)
    }

    /// [`RunError::LessonsDidNotHold`] naming each judged lesson and gate that failed, or `Ok` (unjudged lessons —
    /// a variant skipped, or the generator's error could flip the verdict — are not failures of one run).
    pub fn require_lessons_hold(&self) -> Result<(), RunError> {
        let failed: Vec<String> = self
            .lessons
            .iter()
            .filter(|l| !l.holds && l.observed_ratio.is_some())
            .map(|l| format!("lesson \"{}\"", l.claim))
            .chain(self.gates.iter().filter(|g| !g.passed).map(|g| format!("gate {}", g.exercise)))
            .collect();
        if failed.is_empty() {
            Ok(())
        } else {
            Err(RunError::LessonsDidNotHold(failed))
        }
    }
}

/// Where run reports are kept: `<target>/workbench`, `<target>` being `CARGO_TARGET_DIR` when set, else
/// `<root>/target`. Every tool that reads reports (progress, the class dashboard) looks here.
pub fn reports_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| root.join("target"), PathBuf::from)
        .join("workbench")
}

#[cfg(test)]
mod tests {
    use super::*;

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
