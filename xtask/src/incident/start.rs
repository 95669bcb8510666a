//! `incident start` (the symptom: the code as shipped under the drill's load) and `incident evidence` (what that run
//! recorded, read the way an on-call engineer reads a dashboard and a profile).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use lab_harness::drill::{Drill, ObjectiveSpec, BROKEN, FIXED};
use lab_harness::report::VariantResult;
use lab_harness::RunOptions;

use crate::UsageError;

/// Arguments of `cargo xtask incident start` (and the load options `check` shares).
#[derive(Args)]
pub struct StartArgs {
    /// The drill.
    pub name: String,
    /// Run the reference fix beside the shipped code and judge the drill's lessons (the run the book quotes; it
    /// gives the fix away).
    #[arg(long)]
    pub with_fix: bool,
    /// Where the heap went, by allocation site: the server built apart with dhat as its allocator, the top sites in
    /// `evidence`, the DHAT profile beside the report. Slow by design (no CPU profile then): read the sites, not
    /// the timings.
    #[arg(long)]
    pub heap_profile: bool,
    #[command(flatten)]
    pub load: LoadArgs,
}

/// Which load a drill runs under.
#[derive(Args, Clone)]
pub struct LoadArgs {
    /// The longer profile (20 s measured instead of 5 s).
    #[arg(long)]
    pub full: bool,
    /// Replaces the drill's arrival rate (a faster machine may serve the shipped code at the drill's own rate).
    #[arg(long)]
    pub rate: Option<f64>,
}

impl LoadArgs {
    /// The run's options: these variants of `drill`, profiled unless the drill says not (the flamegraph is part
    /// of the evidence).
    pub fn options(&self, drill: &Drill, variants: &[&str]) -> RunOptions {
        RunOptions {
            profile: if self.full { "full" } else { "quick" }.into(),
            variants: variants.iter().map(|v| v.to_string()).collect(),
            rate: self.rate,
            cpu_profile: drill.text.flamegraph,
            ..RunOptions::default()
        }
    }
}

/// A variant against the drill's objective: the share of requests answered within the SLO, or a bound on a
/// resource (memory's slope).
pub struct Objective {
    met: bool,
    /// What was measured and what was required, in words.
    body: String,
}

impl Objective {
    /// `result` against `drill`'s objective; `None` when the run did not measure it (no SLO, no such series).
    pub fn of(drill: &Drill, result: &VariantResult) -> Option<Objective> {
        match drill.objective() {
            ObjectiveSpec::WithinSlo(required) => {
                let goodput = result.load.goodput.as_ref()?;
                let rate = result.load.load.target_rps?;
                let share = (goodput.rps / rate).min(1.0);
                Some(Objective {
                    met: share >= required,
                    body: format!(
                        "{:.1}% of requests answered within {} ms at {rate}/s (the objective: {}%)",
                        share * 100.0,
                        goodput.slo_ms,
                        required * 100.0
                    ),
                })
            }
            ObjectiveSpec::AtMost { metric, at_most } => {
                let value = lab_harness::metric::metric_value(result, &metric)?;
                Some(Objective {
                    met: value <= at_most,
                    body: format!(
                        "{metric} {} (the objective: at most {})",
                        human(result, &metric, value),
                        human(result, &metric, at_most)
                    ),
                })
            }
        }
    }

    /// Whether it is met.
    pub fn met(&self) -> bool {
        self.met
    }

    /// `✗ shipped: 3.1% of requests answered within 50 ms at 2000/s (the objective: 99%)`.
    pub fn line(&self, variant: &str) -> String {
        format!("{} {variant}: {}", if self.met { "✓" } else { "✗" }, self.body)
    }
}

/// A metric's value for people: a sampled series's in its own unit (MiB, a duration, a rate — `Series::human`),
/// "a second" after a slope; a latency (`…_us.…`, microseconds) in milliseconds; any other as a plain number.
fn human(result: &VariantResult, metric: &str, value: f64) -> String {
    let series =
        lab_harness::metric::timeline_series(metric).and_then(|name| result.timeline.as_ref()?.series.get(name));
    match series {
        Some(series) if metric.ends_with("slope_per_s") => format!("{} a second", series.human(value)),
        Some(series) => series.human(value),
        None if metric.contains("_us.") => format!("{:.2} ms", value / 1000.0),
        None if metric.ends_with("_bytes") => format!("{:.1} MiB", value / 1048576.0),
        None => format!("{value:.2}"),
    }
}

/// Runs the command: the symptom, measured.
pub fn start(drill: &Drill, args: &StartArgs) -> anyhow::Result<ExitCode> {
    println!("Incident: {}\n\n{}\n", drill.text.title, drill.text.symptom.trim());
    let variants: &[&str] = if args.with_fix { &[BROKEN, FIXED] } else { &[BROKEN] };
    let mut options = args.load.options(drill, variants);
    if args.heap_profile {
        options.heap_profile = true;
        options.cpu_profile = false;
    }
    let mut progress = crate::progress_bar::RunProgress::new();
    let report = lab_harness::run_lab(&crate::root(), &drill.manifest, &options, &mut |e| progress.on(e))?;
    drop(progress);
    let (json, _) = report.save(&crate::root())?;
    println!("{}\n{}", report.table(), report.verdicts());
    let broken = report
        .variants
        .iter()
        .find(|v| v.name == BROKEN)
        .ok_or_else(|| anyhow::anyhow!("the run has no {BROKEN} variant"))?;
    let objective = Objective::of(drill, broken)
        .ok_or_else(|| anyhow::anyhow!("the run did not measure the drill's objective: see {}", json.display()))?;
    println!("\n{}", objective.line("the service as shipped"));
    if let Some(fixed) = report
        .variants
        .iter()
        .find(|v| v.name == FIXED)
        .and_then(|v| Objective::of(drill, v))
    {
        println!("{}", fixed.line("the reference fix"));
    }
    super::record(drill, |state| state.started = true)?;
    println!("report: {}", relative(&json).display());
    if objective.met() {
        println!(
            "\nThis machine serves the shipped code within the objective at this rate: the fault is there, but it does \
             not show. Try a higher --rate (the drill's own is tuned on a 2-core laptop)."
        );
        return Ok(ExitCode::FAILURE);
    }
    println!(
        "\nNext: read the evidence (`cargo xtask incident evidence {name}`), write your diagnosis (`cargo xtask \
         incident answer {name}`), fix {file} and prove it (`cargo xtask incident check {name}`).",
        name = drill.name,
        file = relative(&drill.learner_file()).display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Runs `incident evidence`: the newest run of the drill that has the shipped variant, read back.
pub fn evidence(drill: &Drill) -> anyhow::Result<ExitCode> {
    let dir = lab_harness::report::reports_dir(&crate::root()).join(&drill.name);
    let newest = lab_harness::report::saved_reports(&crate::root(), &drill.name)
        .find(|(_, report)| report.variants.iter().any(|v| v.name == BROKEN));
    let Some((path, report)) = newest else {
        return Err(UsageError(format!(
            "no run of {name} yet: `cargo xtask incident start {name}` records the evidence",
            name = drill.name
        ))
        .into());
    };
    let broken = report
        .variants
        .iter()
        .find(|v| v.name == BROKEN)
        .expect("chosen for it");
    println!(
        "Evidence: {} — the run of {} ({})\n",
        drill.text.title,
        report.started_at,
        relative(&path).display()
    );
    for line in evidence_lines(drill, broken, &dir) {
        println!("{line}");
    }
    Ok(ExitCode::SUCCESS)
}

/// What an on-call engineer reads, in the order they would: the objective, the tail, the counters, the series over
/// time, and where the CPU went.
pub fn evidence_lines(drill: &Drill, v: &VariantResult, dir: &Path) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(objective) = Objective::of(drill, v) {
        lines.push(objective.line("objective"));
    }
    let load = &v.load;
    let us = lab_load_generator::report::human_us;
    lines.push(format!(
        "requests: {} due, {} failed (of them {} never sent); {:.0}/s achieved of {}/s",
        load.requests,
        load.errors,
        load.dropped,
        load.achieved_rps,
        load.load.target_rps.map_or("-".into(), |r| format!("{r}"))
    ));
    if let Some(ws) = &v.websocket {
        // A WebSocket run: a request above is a message, its latency the delivery to every member it went to.
        lines.push(format!(
            "websocket: {} of {} connections held ({} failed, {} closed early); {} receipts of {} messages, {} \
             never delivered",
            ws.opened, ws.connections, ws.failed, ws.closed_early, ws.receipts, ws.sent, ws.lost
        ));
    }
    lines.push(format!(
        "latency from the intended send time: p50 {}  p99 {}  p99.9 {}  max {}",
        us(load.latency_us.p50),
        us(load.latency_us.p99),
        us(load.latency_us.p999),
        us(load.latency_us.max)
    ));
    if load.by_name.len() > 1 {
        for (name, named) in &load.by_name {
            lines.push(format!(
                "  {name}: {} requests, {} failed, p50 {}  p99 {}  max {}",
                named.requests,
                named.errors,
                us(named.latency_us.p50),
                us(named.latency_us.p99),
                us(named.latency_us.max)
            ));
        }
    }
    if !load.slowest.is_empty() {
        lines.push("the slowest requests (what the tail is made of):".into());
        for slow in load.slowest.iter().take(5) {
            lines.push(format!(
                "  {:>9}  {}  → {}  at {:.1} s",
                us(slow.latency_us),
                slow.request,
                slow.outcome,
                slow.at_ms as f64 / 1000.0
            ));
        }
    }
    lines.push(format!(
        "server: {:.2} s of CPU, {:.0} µs of CPU per request, peak memory {}",
        v.server.cpu_seconds,
        v.server.cpu_us_per_request,
        lab_load_generator::report::human_bytes(v.server.rss_peak_bytes as f64)
    ));
    lines.push("\n/stats after the run:".into());
    for (name, value) in &v.counters {
        lines.push(format!("  {name} = {value}"));
    }
    if let Some(timeline) = &v.timeline {
        lines.push(format!("\n/metrics over the run (every {} ms):", timeline.every_ms));
        for (name, series) in &timeline.series {
            lines.push(format!("  {name}: {}", series.summary()));
        }
    }
    match &v.cpu_profile {
        Some(profile) => {
            let busy = profile.samples as f64 / (profile.seconds * f64::from(profile.frequency)).max(1.0);
            lines.push(format!(
                "\nCPU profile: {} samples in {:.0} s — about {:.0}% of one core busy",
                profile.samples,
                profile.seconds,
                busy * 100.0
            ));
            lines.push("  where the CPU was (self):".into());
            for f in profile.top_self.iter().take(6) {
                lines.push(format!("    {:>5.1}%  {}", f.share * 100.0, f.function));
            }
            lines.push("  what it was working for (anywhere on the stack):".into());
            for f in profile.hot_functions(8) {
                lines.push(format!("    {:>5.1}%  {}", f.share * 100.0, f.function));
            }
            if !profile.flamegraph.is_empty() {
                lines.push(format!(
                    "  flamegraph: {}",
                    relative(&dir.join(&profile.flamegraph)).display()
                ));
            }
            lines.push(
                "  (a CPU profile sees only running code: waiting — a lock, a sleep, the network — leaves no samples. \
                 Where `perf` is installed, `perf record -g -p PID` sees the kernel too.)"
                    .into(),
            );
        }
        None if v.heap_profile.is_some() => {}
        None if !drill.text.flamegraph => lines.push(
            "\nno CPU profile: this drill measures memory, and the in-process profiler's own sample table would be \
             part of it"
                .into(),
        ),
        None => lines.push(format!(
            "\nno CPU profile: {}",
            v.notes.get("cpu_profile").map_or("not taken", String::as_str)
        )),
    }
    match &v.heap_profile {
        Some(profile) => {
            lines.push(String::new());
            lines.extend(profile.lines(5));
            if !profile.file.is_empty() {
                lines.push(format!(
                    "  the profile: {} (open it in DHAT's viewer, dh_view.html, for every site and its stack)",
                    relative(&dir.join(&profile.file)).display()
                ));
            }
        }
        None if !drill.text.flamegraph => lines.push(format!(
            "\nno heap profile: `cargo xtask incident start {} --heap-profile` records where the heap went, by \
             allocation site",
            drill.name
        )),
        None => {}
    }
    lines
}

/// `path` relative to the workspace, when it is inside it.
pub fn relative(path: &Path) -> PathBuf {
    path.strip_prefix(crate::root())
        .map(Path::to_path_buf)
        .unwrap_or_else(|_| path.to_path_buf())
}
