//! The run report: the JSON contract in DESIGN.md that tests, the book and team tooling read.
//!
//! | module | what it holds |
//! |---|---|
//! | this one | the report's data, where it is saved, whether its lessons held |
//! | [`text`] | the renderers people read in a terminal or the book: the table, the verdicts, Markdown |
//! | [`html`] | the self-contained HTML report with SVG charts |
//!
//! Each variant's entry is the load generator's result (`achieved_rps`, `latency_us`, …) with the server's side
//! added: its CPU and peak memory, and the counters from `/stats`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use lab_load_generator::LoadReport;
use serde::{Deserialize, Serialize};

pub mod html;
mod text;

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
    /// `/metrics` sampled over the run, when the lab or `--sample` asked for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeline: Option<crate::sampling::Timeline>,
    /// Where the server's CPU went during the measured phase (`--flamegraph`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_profile: Option<crate::cpu_profile::CpuProfile>,
    /// Where the heap went, by allocation site (`--heap-profile`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heap_profile: Option<crate::heap_profile::HeapProfile>,
    /// What a private Prometheus computed from the server's buckets (`--prometheus`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prometheus: Option<crate::prometheus::PrometheusReading>,
    /// A WebSocket run's own measurements (`mode = "websocket"`): connections held, receipts, lost messages. The
    /// fields above then read a message as a request ([`lab_load_generator::websocket::WsReport::as_load_report`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub websocket: Option<lab_load_generator::websocket::WsReport>,
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
        std::fs::write(&html, html::render(self)).with_context(|| format!("writing {}", html.display()))?;
        for profile in self.variants.iter().filter_map(|v| v.heap_profile.as_ref()) {
            if !profile.file.is_empty() && !profile.json.is_empty() {
                let file = dir.join(&profile.file);
                std::fs::write(&file, &profile.json).with_context(|| format!("writing {}", file.display()))?;
            }
        }
        for profile in self.variants.iter().filter_map(|v| v.cpu_profile.as_ref()) {
            if !profile.flamegraph.is_empty() && !profile.svg.is_empty() {
                let svg = dir.join(&profile.flamegraph);
                std::fs::write(&svg, &profile.svg).with_context(|| format!("writing {}", svg.display()))?;
            }
        }
        Ok((json, html))
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
            .chain(
                self.gates
                    .iter()
                    .filter(|g| !g.passed)
                    .map(|g| format!("gate {}", g.exercise)),
            )
            .collect();
        if failed.is_empty() {
            Ok(())
        } else {
            Err(RunError::LessonsDidNotHold(failed))
        }
    }
}

/// The saved reports of `lab` that can be read, newest first (their names are RFC 3339 times: their order is their
/// age), each with its path. A file that is not a report (a newer schema, half-written) is passed over.
pub fn saved_reports(root: &Path, lab: &str) -> impl Iterator<Item = (PathBuf, RunReport)> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(reports_dir(root).join(lab))
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort_by(|a, b| b.cmp(a));
    paths.into_iter().filter_map(|path| {
        let report = serde_json::from_slice::<RunReport>(&std::fs::read(&path).ok()?).ok()?;
        Some((path, report))
    })
}

/// Where run reports are kept: `<target>/workbench`, `<target>` being `CARGO_TARGET_DIR` when set, else
/// `<root>/target` — or `WORKBENCH_REPORTS` when set (tests keep their reports in a temporary folder without moving
/// the build). Every tool that reads reports (progress, incident evidence) looks here.
pub fn reports_dir(root: &Path) -> PathBuf {
    if let Some(dir) = std::env::var_os("WORKBENCH_REPORTS") {
        return PathBuf::from(dir);
    }
    std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| root.join("target"), PathBuf::from)
        .join("workbench")
}
