//! `lab.toml`, the manifest that makes a lab runnable by the generic harness.
//!
//! Everything that differs between labs is data here — the server binary, the variants and their arguments, the
//! load profiles, the lessons — so adding a lab never means changing the harness. Every problem is reported as
//! `file:line: message`, because a learner editing a manifest should not have to guess where the typo is.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use lab_load_generator::scenario::line_of;
use lab_load_generator::{parse_duration, Arrivals, RequestSpec, Scenario};
use serde::Deserialize;
use toml::Spanned;

/// A validated lab manifest.
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
}

/// Open or closed model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModeKind {
    /// A fixed arrival rate: latency as users feel it.
    FixedRate,
    /// As fast as the connections go: capacity.
    Closed,
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

/// Metrics a lesson may name besides `counters.*`.
pub const METRICS: &[&str] = &[
    "achieved_rps",
    "goodput.rps",
    "requests",
    "errors",
    "dropped",
    "latency_us.p50",
    "latency_us.p90",
    "latency_us.p99",
    "latency_us.p999",
    "latency_us.max",
    "service_us.p50",
    "service_us.p99",
    "service_us.max",
    "server.rss_peak_bytes",
    "server.cpu_seconds",
    "server.cpu_us_per_request",
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    name: Spanned<String>,
    title: String,
    chapter: Option<String>,
    server: String,
    package: Option<String>,
    baseline: Option<Spanned<String>>,
    variants: Vec<Spanned<RawVariant>>,
    profile: BTreeMap<String, Spanned<RawProfile>>,
    #[serde(default)]
    lesson: Vec<Spanned<RawLesson>>,
    #[serde(default)]
    exercise: Vec<Spanned<Exercise>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVariant {
    name: String,
    /// Which of the server's variants this runs (`--variant`); the variant's own name when absent.
    serves: Option<String>,
    /// Further arguments, after `--variant <serves>`.
    #[serde(default)]
    args: Vec<String>,
    mode: Option<ModeKind>,
    connections: Option<usize>,
    rate: Option<f64>,
    requires_env: Option<String>,
    path: Option<String>,
    #[serde(default)]
    on_demand: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    mode: ModeKind,
    rate: Option<f64>,
    duration: String,
    #[serde(default)]
    warmup: Option<String>,
    #[serde(default)]
    ramp: Option<String>,
    connections: usize,
    #[serde(default = "one")]
    threads: usize,
    path: Option<String>,
    scenario: Option<String>,
    #[serde(default)]
    slo: Option<String>,
    #[serde(default)]
    arrivals: Option<String>,
}

fn one() -> usize {
    1
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLesson {
    claim: String,
    metric: String,
    better: Better,
    baseline: String,
    variant: String,
    at_least: f64,
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
        let file = path.display().to_string();
        let dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
        let fail = |line: usize, message: String| ManifestError {
            file: file.clone(),
            line,
            message,
        };
        let at = |span: std::ops::Range<usize>| line_of(text, span.start);
        let raw: RawManifest = toml::from_str(text).map_err(|e| {
            let line = e.span().map_or(1, |s| line_of(text, s.start));
            fail(line, e.message().trim().to_string())
        })?;

        let mut variants: Vec<VariantSpec> = Vec::new();
        for v in raw.variants {
            let line = at(v.span());
            let v = v.into_inner();
            if variants.iter().any(|known| known.name == v.name) {
                return Err(fail(line, format!("variant {:?} is listed twice", v.name)));
            }
            if v.rate.is_some_and(|r| !(r > 0.0 && r.is_finite())) {
                return Err(fail(
                    line,
                    format!("variant {:?}: rate must be a positive number", v.name),
                ));
            }
            if v.connections == Some(0) {
                return Err(fail(
                    line,
                    format!("variant {:?}: connections must be at least 1", v.name),
                ));
            }
            if v.args.iter().any(|a| a == "--variant" || a.starts_with("--variant=")) {
                return Err(fail(
                    line,
                    format!(
                        "variant {:?}: args must not repeat --variant; it is `--variant {}` already (set `serves = \"…\"` to run another of the server's variants)",
                        v.name,
                        v.serves.as_deref().unwrap_or(&v.name)
                    ),
                ));
            }
            let requests = match &v.path {
                Some(path) => Some(vec![
                    RequestSpec::get(path).map_err(|e| fail(line, format!("variant {:?}: {e}", v.name)))?
                ]),
                None => None,
            };
            let mut args = vec!["--variant".to_string(), v.serves.unwrap_or_else(|| v.name.clone())];
            args.extend(v.args);
            variants.push(VariantSpec {
                name: v.name,
                args,
                mode: v.mode,
                connections: v.connections,
                rate: v.rate,
                requires_env: v.requires_env,
                requests,
                on_demand: v.on_demand,
            });
        }
        if variants.is_empty() {
            return Err(fail(1, "a lab needs at least one variant".into()));
        }
        let Some(baseline) = raw.baseline else {
            return Err(fail(
                1,
                "name the naive variant the others are measured against: baseline = \"<variant>\"".into(),
            ));
        };
        let baseline_line = at(baseline.span());
        let baseline = baseline.into_inner();
        if !variants.iter().any(|v| v.name == baseline) {
            return Err(fail(
                baseline_line,
                format!("baseline {baseline:?} is not one of the variants"),
            ));
        }

        let mut profiles = BTreeMap::new();
        for (name, p) in raw.profile {
            let line = at(p.span());
            let p = p.into_inner();
            let fail = |m: String| fail(line, format!("profile {name:?}: {m}"));
            let duration = parse_duration(&p.duration).map_err(fail)?;
            let optional = |d: &Option<String>| d.as_deref().map_or(Ok(Duration::ZERO), parse_duration);
            let warmup = optional(&p.warmup).map_err(fail)?;
            let ramp = optional(&p.ramp).map_err(fail)?;
            let slo = p.slo.as_deref().map(parse_duration).transpose().map_err(fail)?;
            if slo.is_some_and(|s| s.is_zero()) {
                return Err(fail("slo must be more than zero".into()));
            }
            if duration.is_zero() {
                return Err(fail("duration must be more than zero".into()));
            }
            let arrivals = p
                .arrivals
                .as_deref()
                .map_or(Ok(Arrivals::Even), Arrivals::parse)
                .map_err(fail)?;
            match (p.mode, p.rate) {
                (ModeKind::FixedRate, None) => return Err(fail("mode \"fixed-rate\" needs a rate".into())),
                (ModeKind::FixedRate, Some(r)) if r <= 0.0 => return Err(fail("rate must be positive".into())),
                (ModeKind::Closed, Some(_)) => return Err(fail("mode \"closed\" takes no rate".into())),
                _ => {}
            }
            if p.connections == 0 || p.threads == 0 || p.threads > p.connections {
                return Err(fail("need 1 <= threads <= connections".into()));
            }
            let requests = match (&p.path, &p.scenario) {
                (Some(path), None) => vec![RequestSpec::get(path).map_err(|e| fail(e.to_string()))?],
                (None, Some(scenario)) => {
                    Scenario::load(&dir.join(scenario))
                        .map_err(|e| fail(e.to_string()))?
                        .requests
                }
                _ => return Err(fail("give exactly one of `path` or `scenario`".into())),
            };
            profiles.insert(
                name.clone(),
                Profile {
                    mode: p.mode,
                    rate: p.rate,
                    duration,
                    warmup,
                    ramp,
                    connections: p.connections,
                    threads: p.threads,
                    requests,
                    slo,
                    arrivals,
                },
            );
        }
        if !profiles.contains_key("quick") {
            return Err(fail(1, "a lab needs a [profile.quick]".into()));
        }

        let mut lessons = Vec::new();
        for l in raw.lesson {
            let line = at(l.span());
            let l = l.into_inner();
            for name in [&l.baseline, &l.variant] {
                if !variants.iter().any(|v| &v.name == name) {
                    let known: Vec<&str> = variants.iter().map(|v| v.name.as_str()).collect();
                    return Err(fail(
                        line,
                        format!("lesson names variant {name:?}, which is not one of {known:?}"),
                    ));
                }
            }
            if !known_metric(&l.metric) {
                let message = format!(
                    "unknown metric {:?}; use counters.NAME, by_name.REQUEST.METRIC or one of {METRICS:?}",
                    l.metric
                );
                return Err(fail(line, message));
            }
            if l.at_least <= 0.0 {
                return Err(fail(line, "at_least must be positive".into()));
            }
            lessons.push(Lesson {
                claim: l.claim,
                metric: l.metric,
                better: l.better,
                baseline: l.baseline,
                variant: l.variant,
                at_least: l.at_least,
            });
        }

        let mut exercises: Vec<Exercise> = Vec::new();
        for e in raw.exercise {
            let line = at(e.span());
            let e = e.into_inner();
            if exercises.iter().any(|known| known.name == e.name) {
                return Err(fail(line, format!("exercise {:?} is declared twice", e.name)));
            }
            for file in [&e.starter, &e.reference] {
                if !dir.join(file).is_file() {
                    return Err(fail(
                        line,
                        format!("exercise {:?}: no file {}", e.name, dir.join(file).display()),
                    ));
                }
            }
            let known = |name: &str| variants.iter().any(|v| v.name == name);
            for variant in std::iter::once(&e.perf_variant).chain(e.gate.iter().map(|g| &g.relative_to)) {
                if !known(variant) {
                    return Err(fail(
                        line,
                        format!(
                            "exercise {:?} names variant {variant:?}, which the lab does not have",
                            e.name
                        ),
                    ));
                }
            }
            if e.hints.is_empty() {
                return Err(fail(line, format!("exercise {:?} needs at least one hint", e.name)));
            }
            exercises.push(e);
        }

        let name_line = at(raw.name.span());
        let name = raw.name.into_inner();
        if dir.file_name().is_some_and(|d| d != name.as_str()) && path.file_name().is_some_and(|f| f == "lab.toml") {
            let folder = dir.file_name().unwrap().to_string_lossy();
            return Err(fail(
                name_line,
                format!("name {name:?} differs from the lab's folder {folder:?}"),
            ));
        }
        Ok(Manifest {
            name,
            title: raw.title,
            chapter: raw.chapter,
            package: raw.package.unwrap_or_else(|| raw.server.clone()),
            server: raw.server,
            dir,
            baseline,
            variants,
            profiles,
            lessons,
            exercises,
        })
    }
}

/// A metric a lesson may compare: `counters.NAME`, one of [`METRICS`], or `by_name.REQUEST.METRIC` for one named
/// request of a scenario (its `latency_us.*`, `service_us.*`, `requests` or `errors`).
pub fn known_metric(metric: &str) -> bool {
    let per_request = |m: &str| {
        matches!(m, "requests" | "errors")
            || ((m.starts_with("latency_us.") || m.starts_with("service_us.")) && METRICS.contains(&m))
    };
    let named = metric
        .strip_prefix("by_name.")
        .and_then(|rest| rest.split_once('.'))
        .map(|(_, m)| m);
    metric.starts_with("counters.") || METRICS.contains(&metric) || named.is_some_and(per_request)
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
}
