//! `lab.toml`, the manifest that makes a lab runnable by the generic harness.
//!
//! Everything that differs between labs is data here — the server binary, the variants and their arguments, the
//! load profiles, the lessons — so adding a lab never means changing the harness. Every problem is reported as
//! `file:line: message`, because a learner editing a manifest should not have to guess where the typo is.
//!
//! | module | what it holds |
//! |---|---|
//! | this one | the validated manifest (what the harness uses), loading and discovery |
//! | [`raw`] | the TOML as serde reads it, with spans for line numbers |
//! | [`validate`] | one validator per section: variants, baseline, profiles, lessons, exercises |
//!
//! The metric names a lesson may use are in [`crate::metric`], beside the code that reads them off a report.

mod raw;
mod validate;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use lab_load_generator::{Arrivals, RequestSpec};
use serde::Deserialize;

pub use crate::metric::{known_metric, METRICS};

#[derive(Debug, Clone)]
pub struct Manifest {
    /// The lab's name, as typed in `cargo xtask lab NAME`.
    pub name: String,
    /// One line saying what it teaches.
    pub title: String,
    /// Its chapter in the book, relative to `book/src`.
    pub chapter: Option<String>,
    /// The server binary to build and start.
    pub server: String,
    /// The cargo package that holds the server binary.
    pub package: String,
    /// Packages whose binaries the server starts as processes of its own, built with it (`also_build`: the
    /// process-manager lab runs another lab's server as its supervised app).
    pub also_build: Vec<String>,
    /// The folder `lab.toml` is in.
    pub dir: PathBuf,
    /// The naive variant every other is measured against (`cargo xtask check` runs it beside the exercise, for
    /// scale).
    pub baseline: String,
    /// Implementations to compare, in the order they run.
    pub variants: Vec<VariantSpec>,
    /// Load profiles by name (`quick`, `full`, …).
    pub profiles: BTreeMap<String, Profile>,
    /// Claims each run checks.
    pub lessons: Vec<Lesson>,
    /// Exercises on this lab.
    pub exercises: Vec<Exercise>,
    /// `/metrics` series to sample during every run (`[sampling]`), if any.
    pub sampling: Option<crate::sampling::Sampling>,
}

/// An exercise: the learner edits `starter`, graded by the test target `grader` and by the `gate` measured on
/// `perf_variant`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exercise {
    /// Unique within the lab.
    pub name: String,
    /// The file the learner edits, relative to the lab.
    pub starter: PathBuf,
    /// The reference solution, a drop-in replacement for the starter.
    pub reference: PathBuf,
    /// The cargo package holding the starter.
    pub package: String,
    /// Staged hints, first nudge to near-solution.
    pub hints: Vec<String>,
    /// The test target that grades correctness.
    pub grader: String,
    /// The lab variant that runs the learner's code.
    pub perf_variant: String,
    /// Performance limits, relative to another variant of the same run.
    pub gate: Vec<Gate>,
}

/// A performance limit: the exercise variant's `metric` at most `at_most` times `relative_to`'s.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Gate {
    /// As in lessons.
    pub metric: String,
    /// The largest allowed ratio.
    pub at_most: f64,
    /// The variant compared against.
    pub relative_to: String,
}

/// One variant: how to start its server, and how (if at all) its load differs from the profile's.
#[derive(Debug, Clone)]
pub struct VariantSpec {
    /// Its name in tables and lessons.
    pub name: String,
    /// Arguments for the server binary: `--variant <serves>` and then the variant's own `args`.
    pub args: Vec<String>,
    /// Overrides the profile's mode (e.g. the load-generator lab measures one server two ways).
    pub mode: Option<ModeKind>,
    /// Overrides the profile's connection count.
    pub connections: Option<usize>,
    /// Overrides the profile's arrival rate (e.g. an overload variant).
    pub rate: Option<f64>,
    /// Started only when this environment variable is set (e.g. `REDIS_URL`); it is passed on to the server.
    pub requires_env: Option<String>,
    /// Replaces the profile's requests (e.g. a stampede on a few hot keys).
    pub requests: Option<Vec<RequestSpec>>,
    /// Run only when named with `--variant` (e.g. `exercise`, which runs the learner's unfinished code).
    pub on_demand: bool,
    /// Overrides the profile's `new_connection`.
    pub new_connection: Option<bool>,
    /// Overrides the profile's request timeout.
    pub timeout: Option<Duration>,
    /// The body of its request (with `path`), built when the variant runs: a 32 MiB upload is not made to list
    /// the labs.
    pub body: Option<lab_load_generator::BodySpec>,
    /// A slow client: how fast each connection uploads and reads.
    pub rates: lab_load_generator::Rates,
    /// What happens to the server mid-run (a reload, a kill), in time order.
    pub during: Vec<Action>,
}

/// An action during a variant's run: at `at` after the load starts (its warm-up included), run `program` — a
/// binary of the lab's own package, found beside the server — with `args`, and wait for it. `{run_dir}` in the
/// server's arguments and here is the variant's own scratch folder (a supervisor's control socket lives there),
/// `{pid}` the server's process id, `{addr}` its address.
#[derive(Debug, Clone, PartialEq)]
pub struct Action {
    /// When, from the start of the load.
    pub at: Duration,
    /// The binary.
    pub program: String,
    /// Its arguments.
    pub args: Vec<String>,
}

/// Open or closed model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModeKind {
    /// A fixed arrival rate: latency as users feel it.
    FixedRate,
    /// As fast as the connections go: capacity.
    Closed,
    /// `connections` WebSockets opened and held for `duration`, `rate` messages a second sent over them, each
    /// message's delivery latency measured at every receipt ([`lab_load_generator::websocket`]).
    #[serde(rename = "websocket")]
    WebSocket,
}

/// A load profile.
#[derive(Debug, Clone)]
pub struct Profile {
    /// Open or closed.
    pub mode: ModeKind,
    /// Arrival rate (fixed-rate).
    pub rate: Option<f64>,
    /// Measured time.
    pub duration: Duration,
    /// Unrecorded time before it.
    pub warmup: Duration,
    /// Linear ramp before the steady phase (fixed-rate).
    pub ramp: Duration,
    /// Connections.
    pub connections: usize,
    /// Generator threads.
    pub threads: usize,
    /// What to send.
    pub requests: Vec<RequestSpec>,
    /// A latency objective: each variant's report then has its goodput (successful responses within it, per
    /// second), the metric `goodput.rps`.
    pub slo: Option<Duration>,
    /// How arrivals are spaced at a fixed rate: `arrivals = "poisson"` for random arrivals (the same in every run and
    /// every variant), even spacing by default.
    pub arrivals: Arrivals,
    /// A new TCP connection for every request (`new_connection = true`), so whatever spreads connections over a
    /// server's processes (the kernel, a primary) decides for every request, as with clients that do not keep
    /// connections alive.
    pub new_connection: bool,
    /// How long a request may take before it counts as a `timeout` error (`timeout = "1s"`; the generator's
    /// default, 10 s, otherwise).
    pub timeout: Option<Duration>,
    /// Bytes in each message (mode `websocket`).
    pub message_size: usize,
}

/// Which way is better for a metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Better {
    /// Less is better (latency, queries): ratio = baseline / variant.
    Lower,
    /// More is better (throughput): ratio = variant / baseline.
    Higher,
}

/// A claim: `variant` beats `baseline` on `metric` by a factor of at least `at_least`.
#[derive(Debug, Clone)]
pub struct Lesson {
    /// The sentence printed with ✓ or ✗.
    pub claim: String,
    /// A dotted path into a variant's result: `latency_us.p99`, `achieved_rps`, `counters.db_queries`,
    /// `by_name.ping.latency_us.p99` (one named request of a scenario) …
    pub metric: String,
    /// Which way is better.
    pub better: Better,
    /// The variant compared against.
    pub baseline: String,
    /// The variant that should win.
    pub variant: String,
    /// The smallest ratio for the claim to hold.
    pub at_least: f64,
    /// The winner must also stay at or under this value (`variant_at_most = 0` on `errors`: a reload that loses
    /// nothing, not merely less).
    pub variant_at_most: Option<f64>,
}

/// A manifest that cannot be used.

#[derive(Debug, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct ManifestError {
    /// The manifest's path.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl Manifest {
    /// Reads and validates `path` (a `lab.toml`).
    pub fn load(path: &Path) -> Result<Manifest, ManifestError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ManifestError {
            file: file.clone(),
            line: 1,
            message: format!("cannot read: {e}"),
        })?;
        Manifest::parse(&text, path)
    }

    /// Validates manifest text; `path` locates scenario files and names the file in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Manifest, ManifestError> {
        validate::manifest(&validate::Source::new(text, path))
    }
}

/// Every `labs/*/lab.toml` under the workspace `root`, sorted by name. Stops at the first invalid manifest.
pub fn discover(root: &Path) -> Result<Vec<Manifest>, ManifestError> {
    let labs = root.join("labs");
    let entries = std::fs::read_dir(&labs).map_err(|e| ManifestError {
        file: labs.display().to_string(),
        line: 1,
        message: format!("cannot list labs: {e}"),
    })?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("lab.toml"))
        .filter(|p| p.is_file())
        .collect();
    paths.sort();
    paths.iter().map(|p| Manifest::load(p)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
name = "demo"
title = "A demo"
server = "lab-demo"
baseline = "slow"
variants = [
  { name = "slow" },
  { name = "fast", serves = "quick", args = ["--workers", "2"] },
]

[profile.quick]
mode = "fixed-rate"
rate = 100
duration = "2s"
warmup = "1s"
connections = 4
path = "/item/{zipf:100}"

[[lesson]]
claim = "fast is faster"
metric = "latency_us.p99"
better = "lower"
baseline = "slow"
variant = "fast"
at_least = 2.0
"#;

    fn parse(text: &str) -> Result<Manifest, ManifestError> {
        Manifest::parse(text, Path::new("labs/demo/lab.toml"))
    }

    #[test]
    fn a_good_manifest_parses() {
        let m = parse(GOOD).unwrap();
        assert_eq!(m.name, "demo");
        assert_eq!(m.package, "lab-demo");
        assert_eq!(m.variants.len(), 2);
        let quick = &m.profiles["quick"];
        assert_eq!(quick.rate, Some(100.0));
        assert_eq!(quick.warmup, Duration::from_secs(1));
        assert_eq!(m.lessons[0].better, Better::Lower);
    }

    #[test]
    fn a_variant_may_upload_a_generated_body_as_a_slow_client() {
        let upload = GOOD.replace(
            r#"{ name = "slow" }"#,
            r#"{ name = "slow", method = "POST", path = "/import", headers = { content-type = "text/csv" }, body = { head = "id\n", repeat = "1\n", size = "1KiB" }, upload_rate = "64KiB/s", read_rate = "1MB/s" }"#,
        );
        let m = parse(&upload).unwrap();
        let v = &m.variants[0];
        let request = &v.requests.as_ref().unwrap()[0];
        assert_eq!(request.method.as_str(), "POST");
        assert_eq!(request.headers["content-type"], "text/csv");
        assert_eq!(
            v.body.as_ref().unwrap().build().unwrap().len(),
            1025,
            "3 bytes of head, then 511 whole units of 2"
        );
        assert_eq!((v.rates.upload, v.rates.read), (Some(64 << 10), Some(1 << 20)));
        // Each mistake names the variant's line.
        for (bad, says) in [
            (r#"{ name = "slow", body = { file = "x.csv" } }"#, "give its `path` too"),
            (
                r#"{ name = "slow", path = "/", body = { file = "missing.csv" } }"#,
                "does not exist",
            ),
            (
                r#"{ name = "slow", path = "/", body = { repeat = "", size = "1KiB" } }"#,
                "non-empty repeat",
            ),
            (r#"{ name = "slow", read_rate = "fast" }"#, "per second"),
            (
                r#"{ name = "slow", path = "/", method = "P O S T" }"#,
                "not an HTTP method",
            ),
        ] {
            let e = parse(&GOOD.replace(r#"{ name = "slow" }"#, bad))
                .unwrap_err()
                .to_string();
            assert!(
                e.starts_with("labs/demo/lab.toml:7: ") && e.contains(says),
                "{bad}: {e}"
            );
        }
    }

    #[test]
    fn actions_during_a_run_are_parsed_in_time_order_and_checked() {
        let with = |during: &str| {
            GOOD.replace(
                r#"{ name = "slow" }"#,
                &format!(r#"{{ name = "slow", during = {during} }}"#),
            )
        };
        let m = parse(&with(
            r#"[{ at = "3s", run = "pm kill {pid}" }, { at = "1.5s", run = "pm reload all" }]"#,
        ))
        .unwrap();
        let during = &m.variants[0].during;
        assert_eq!(during[0].at, Duration::from_millis(1500));
        assert_eq!(
            (during[0].program.as_str(), during[0].args.clone()),
            ("pm", vec!["reload".to_string(), "all".into()])
        );
        assert_eq!(during[1].args, ["kill", "{pid}"]);
        for (bad, says) in [
            (r#"[{ at = "soon", run = "pm reload" }]"#, "soon"),
            (r#"[{ at = "1s", run = "  " }]"#, "names a binary"),
            (r#"[{ at = "1s", run = "/bin/sh -c reboot" }]"#, "is a path"),
        ] {
            let e = parse(&with(bad)).unwrap_err().to_string();
            assert!(e.starts_with("labs/demo/lab.toml:7:") && e.contains(says), "{bad}: {e}");
        }
    }

    #[test]
    fn a_websocket_profile_holds_connections_and_sends_messages_and_its_mistakes_name_their_line() {
        let websocket = GOOD.replace(
            "mode = \"fixed-rate\"\nrate = 100\nduration = \"2s\"\nwarmup = \"1s\"\nconnections = 4\npath = \"/item/{zipf:100}\"",
            "mode = \"websocket\"\nrate = 200\nduration = \"5s\"\nconnections = 10000\npath = \"/chat\"\nmessage_size = 256",
        );
        let m = parse(&websocket).unwrap();
        let quick = &m.profiles["quick"];
        assert_eq!(
            (quick.mode, quick.rate, quick.connections, quick.message_size),
            (ModeKind::WebSocket, Some(200.0), 10000, 256)
        );
        let target = lab_load_generator::Target::parse("http://127.0.0.1:9/", false).unwrap();
        let plan = crate::run::plan_for(target, &m.variants[0], quick, &crate::RunOptions::default()).unwrap();
        let ws = crate::run::websocket_plan(&plan, &m.variants[0], quick).expect("a WebSocket run");
        assert_eq!((ws.target.path.as_str(), ws.connections), ("/chat", 10000));
        assert_eq!(
            (ws.hold, ws.rate, ws.message_size),
            (Duration::from_secs(5), Some(200.0), 256)
        );
        // An HTTP profile has no WebSocket run.
        let http = parse(GOOD).unwrap();
        let plan = crate::run::plan_for(
            lab_load_generator::Target::parse("http://127.0.0.1:9/", false).unwrap(),
            &http.variants[0],
            &http.profiles["quick"],
            &crate::RunOptions::default(),
        )
        .unwrap();
        assert!(crate::run::websocket_plan(&plan, &http.variants[0], &http.profiles["quick"]).is_none());

        for (from, to, says) in [
            ("rate = 200\n", "", "needs a rate"),
            ("message_size = 256", "warmup = \"1s\"", "no warmup"),
            ("message_size = 256", "threads = 2", "one thread"),
        ] {
            let broken = websocket.replace(from, to);
            let e = parse(&broken).unwrap_err();
            assert!(e.message.contains(says) && e.line == 11, "{from}: {e}");
        }
        let e = parse(&GOOD.replace("path = \"/item", "message_size = 64\npath = \"/item")).unwrap_err();
        assert!(e.message.contains("message_size is for mode \"websocket\""), "{e}");
    }

    #[test]
    fn a_variant_runs_its_own_name_unless_it_serves_another() {
        let m = parse(GOOD).unwrap();
        assert_eq!(m.baseline, "slow");
        assert_eq!(m.variants[0].args, ["--variant", "slow"]);
        assert_eq!(m.variants[1].args, ["--variant", "quick", "--workers", "2"]);
        let repeated = GOOD.replace(
            r#"{ name = "slow" }"#,
            r#"{ name = "slow", args = ["--variant", "slow"] }"#,
        );
        let e = parse(&repeated).unwrap_err().to_string();
        assert!(e.starts_with("labs/demo/lab.toml:7: ") && e.contains("serves"), "{e}");
    }

    #[test]
    fn the_baseline_must_be_named_and_be_a_variant() {
        let e = parse(&GOOD.replacen("baseline = \"slow\"\n", "", 1))
            .unwrap_err()
            .to_string();
        assert!(e.contains("baseline = \"<variant>\""), "{e}");
        let e = parse(&GOOD.replacen("baseline = \"slow\"\n", "baseline = \"slower\"\n", 1))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("labs/demo/lab.toml:5: ") && e.contains("\"slower\""),
            "{e}"
        );
    }

    #[test]
    fn a_syntax_error_names_file_and_line() {
        let broken = GOOD.replace("rate = 100", "rate = = 100");
        let e = parse(&broken).unwrap_err().to_string();
        assert!(e.starts_with("labs/demo/lab.toml:13: "), "{e}");
    }

    #[test]
    fn a_lesson_with_an_unknown_variant_names_its_line() {
        let broken = GOOD.replace("variant = \"fast\"\nat_least", "variant = \"fastest\"\nat_least");
        let e = parse(&broken).unwrap_err().to_string();
        assert!(
            e.starts_with("labs/demo/lab.toml:19: ") && e.contains("\"fastest\""),
            "{e}"
        );
    }

    #[test]
    fn semantic_errors_name_their_line() {
        let e = parse(&GOOD.replace("duration = \"2s\"", "duration = \"2 parsecs\""))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("labs/demo/lab.toml:11: ") && e.contains("invalid duration"),
            "{e}"
        );
        let e = parse(&GOOD.replace("{zipf:100}", "{zipf:}")).unwrap_err().to_string();
        assert!(e.starts_with("labs/demo/lab.toml:11: ") && e.contains("zipf"), "{e}");
        assert!(parse(&GOOD.replace("latency_us.p99", "by_name.ping.latency_us.p99")).is_ok());
        assert!(parse(&GOOD.replace("latency_us.p99", "by_name.ping.latency.p99")).is_err());
        let e = parse(&GOOD.replace("latency_us.p99", "latency.p99"))
            .unwrap_err()
            .to_string();
        assert!(e.contains(":19: unknown metric"), "{e}");
        let e = parse(&GOOD.replace("titel", "x").replace("title = ", "titel = "))
            .unwrap_err()
            .to_string();
        assert!(e.contains("titel"), "{e}");
        let e = parse(&GOOD.replace("[profile.quick]", "[profile.fast]"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("needs a [profile.quick]"), "{e}");
    }

    #[test]
    fn sampling_is_checked_and_lessons_may_read_sampled_series() {
        let sampled = format!(
            "{GOOD}\n[sampling]\nevery = \"500ms\"\nseries = {{ rss = \"process_resident_memory_bytes\", lag = \"histogram_quantile(0.99, event_loop_lag_seconds)\" }}\n"
        );
        let m = parse(&sampled).unwrap();
        let sampling = m.sampling.unwrap();
        assert_eq!(sampling.every, std::time::Duration::from_millis(500));
        let names: Vec<&str> = sampling.series.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["lag", "rss"]);

        let e = parse(&sampled.replace("histogram_quantile(0.99,", "histogram_quantile(99,"))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("labs/demo/lab.toml:27: [sampling]: series \"lag\"") && e.contains("between 0 and 1"),
            "{e}"
        );
        let e = parse(&sampled.replace("500ms", "10ms")).unwrap_err().to_string();
        assert!(
            e.contains(":27: [sampling]: every") && e.contains("at least 100ms"),
            "{e}"
        );

        let reads_rss = sampled.replace("latency_us.p99", "timeline.series.rss.slope_per_s");
        assert!(parse(&reads_rss).is_ok());
        let e = parse(&reads_rss.replace("rss.slope", "heap.slope"))
            .unwrap_err()
            .to_string();
        assert!(e.contains(":19: lesson reads the sampled series \"heap\""), "{e}");
        assert!(parse(&reads_rss.replace("slope_per_s", "median")).is_err());
    }
}
