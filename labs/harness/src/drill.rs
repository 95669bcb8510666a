//! Incident drills: `labs/incidents/drills/<name>/`, each a `lab.toml` (how to run it — a lab manifest like any
//! other, whose server may be any lab's) and a `drill.toml` (what the on-call engineer is told, the objective, the
//! file to fix, the hints, the diagnosis question).
//!
//! A drill's variants are named by convention: `broken` (the code as shipped), `fixed` (the reference fix) and
//! `yours` (the learner's, `on_demand`). Its lessons compare `fixed` with `broken`; `cargo xtask incident check`
//! judges the same lessons with `yours` in `fixed`'s place, in the same run as `broken`.
//!
//! ```toml
//! title = "Sign-up validation got slow after Tuesday's release"
//! symptom = """Users report …"""
//! objective = 0.99                 # the share of requests that must be answered within the profile's `slo`
//!                                  # (or objective_metric = "timeline.series.rss.slope_per_s", objective_at_most = …)
//! question = "incident-regex-per-request"   # the quiz question `cargo xtask incident answer` grades
//! package = "exercise-incidents"        # the learner's crate, and in it
//! learner_file = "exercise/src/regex_per_request.rs"    # the file to fix (relative to labs/incidents),
//! grader = "drill_regex_per_request"               # the test target that grades it by counters,
//! shipped = "src/drills/regex_per_request/broken.rs"   # the code as shipped (the learner's file, untouched),
//! reference = "src/drills/regex_per_request/fixed.rs"  # and the reference fix.
//! hints = ["…", "…"]
//! ```

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::manifest::{Manifest, ManifestError};

/// The variant that serves the code as shipped.
pub const BROKEN: &str = "broken";
/// The variant that serves the reference fix.
pub const FIXED: &str = "fixed";
/// The variant that serves the learner's code.
pub const YOURS: &str = "yours";

/// One drill, validated.
#[derive(Debug, Clone)]
pub struct Drill {
    /// Its folder's name, as typed in `cargo xtask incident start NAME`.
    pub name: String,
    /// How to run it.
    pub manifest: Manifest,
    /// What it says in `drill.toml`.
    pub text: DrillText,
    /// `labs/incidents`: the learner's file and the reference are relative to it.
    pub base: PathBuf,
}

/// `drill.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DrillText {
    /// The incident as the page said it.
    pub title: String,
    /// What users and dashboards report: no diagnosis in it.
    pub symptom: String,
    /// The share of requests within the profile's `slo` that meets the objective (e.g. 0.99): a latency objective.
    pub objective: Option<f64>,
    /// Or a bound on one metric of the run (`timeline.series.rss.slope_per_s`): a resource objective …
    pub objective_metric: Option<String>,
    /// … at most this.
    pub objective_at_most: Option<f64>,
    /// Whether the drill's runs take a CPU profile (default yes; a memory drill says no: the profiler's own sample
    /// table would be in the memory it measures).
    #[serde(default = "yes")]
    pub flamegraph: bool,
    /// The diagnosis question's id in the quiz banks.
    pub question: String,
    /// The learner's crate.
    pub package: String,
    /// The file to fix, relative to `labs/incidents`.
    pub learner_file: PathBuf,
    /// The test target that grades it.
    pub grader: String,
    /// The code as shipped, relative to `labs/incidents`.
    pub shipped: PathBuf,
    /// The reference fix, relative to `labs/incidents`.
    pub reference: PathBuf,
    /// Staged hints, from where to look to what to change.
    pub hints: Vec<String>,
}

impl Drill {
    /// The file the learner edits.
    pub fn learner_file(&self) -> PathBuf {
        self.base.join(&self.text.learner_file)
    }

    /// The reference fix.
    pub fn reference(&self) -> PathBuf {
        self.base.join(&self.text.reference)
    }

    /// The code as shipped.
    pub fn shipped(&self) -> PathBuf {
        self.base.join(&self.text.shipped)
    }

    /// The objective's latency bound: the `slo` of the profile `profile`.
    pub fn slo(&self, profile: &str) -> Option<Duration> {
        self.manifest.profiles.get(profile).and_then(|p| p.slo)
    }

    /// The progress file's key: `incidents/<name>`.
    pub fn key(&self) -> String {
        format!("incidents/{}", self.name)
    }
}

fn yes() -> bool {
    true
}

/// What a drill's run is judged against.
#[derive(Debug, Clone, PartialEq)]
pub enum ObjectiveSpec {
    /// At least this share of requests answered within the profile's `slo`.
    WithinSlo(f64),
    /// `metric` at most `at_most`.
    AtMost {
        /// A metric as lessons name them.
        metric: String,
        /// The bound.
        at_most: f64,
    },
}

impl Drill {
    /// The objective `drill.toml` sets (validated when loaded: exactly one kind).
    pub fn objective(&self) -> ObjectiveSpec {
        match (
            &self.text.objective_metric,
            self.text.objective_at_most,
            self.text.objective,
        ) {
            (Some(metric), Some(at_most), _) => ObjectiveSpec::AtMost {
                metric: metric.clone(),
                at_most,
            },
            (_, _, share) => ObjectiveSpec::WithinSlo(share.unwrap_or(1.0)),
        }
    }
}

/// The folder the drills live in.
pub fn drills_dir(root: &Path) -> PathBuf {
    root.join("labs/incidents/drills")
}

/// Every drill under the workspace `root`, sorted by name. Stops at the first invalid one (file and line named).
pub fn discover_drills(root: &Path) -> Result<Vec<Drill>, ManifestError> {
    let dir = drills_dir(root);
    let entries = std::fs::read_dir(&dir).map_err(|e| ManifestError {
        file: dir.display().to_string(),
        line: 1,
        message: format!("cannot list the drills: {e}"),
    })?;
    let mut folders: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.join("drill.toml").is_file())
        .collect();
    folders.sort();
    folders.iter().map(|f| load_drill(f)).collect()
}

/// Reads and validates the drill in `folder`.
pub fn load_drill(folder: &Path) -> Result<Drill, ManifestError> {
    let manifest = Manifest::load(&folder.join("lab.toml"))?;
    let path = folder.join("drill.toml");
    let file = path.display().to_string();
    let fail = |line: usize, message: String| ManifestError {
        file: file.clone(),
        line,
        message,
    };
    let source = std::fs::read_to_string(&path).map_err(|e| fail(1, format!("cannot read: {e}")))?;
    let text: DrillText = toml::from_str(&source).map_err(|e| {
        let line = e
            .span()
            .map_or(1, |s| lab_load_generator::scenario::line_of(&source, s.start));
        fail(line, e.message().trim().to_string())
    })?;
    let line_of = |key: &str| {
        source
            .lines()
            .position(|l| l.trim_start().starts_with(key))
            .map_or(1, |i| i + 1)
    };
    match (&text.objective, &text.objective_metric, &text.objective_at_most) {
        (Some(share), None, None) if !(*share > 0.0 && *share <= 1.0) => {
            return Err(fail(
                line_of("objective"),
                format!("objective is a share of requests, more than 0 and at most 1, not {share}"),
            ));
        }
        (Some(_), None, None) => {}
        (None, Some(metric), Some(_)) if !crate::metric::known_metric(metric) => {
            return Err(fail(line_of("objective_metric"), format!("no metric {metric:?}")));
        }
        (None, Some(_), Some(_)) => {}
        _ => {
            return Err(fail(
                1,
                "a drill has one objective: `objective` (a share of requests within the SLO) or `objective_metric` \
                 with `objective_at_most`"
                    .into(),
            ))
        }
    }
    if text.hints.is_empty() {
        return Err(fail(line_of("hints"), "a drill needs at least one hint".into()));
    }
    let name = folder
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let base = folder
        .parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_default();
    for (key, relative) in [
        ("learner_file", &text.learner_file),
        ("shipped", &text.shipped),
        ("reference", &text.reference),
    ] {
        if !base.join(relative).is_file() {
            return Err(fail(
                line_of(key),
                format!("{key}: {} does not exist", base.join(relative).display()),
            ));
        }
    }
    let manifest_file = folder.join("lab.toml").display().to_string();
    for wanted in [BROKEN, FIXED, YOURS] {
        if !manifest.variants.iter().any(|v| v.name == wanted) {
            return Err(ManifestError {
                file: manifest_file,
                line: 1,
                message: format!("a drill has the variants broken, fixed and yours; {wanted} is missing"),
            });
        }
    }
    if manifest.lessons.is_empty()
        || manifest
            .lessons
            .iter()
            .any(|l| l.baseline != BROKEN || l.variant != FIXED)
    {
        return Err(ManifestError {
            file: manifest_file,
            line: 1,
            message: "a drill's lessons compare fixed with broken (check puts yours in fixed's place)".into(),
        });
    }
    if text.objective.is_some() && manifest.profiles.values().any(|p| p.slo.is_none()) {
        return Err(ManifestError {
            file: manifest_file,
            line: 1,
            message: "every profile of a drill has an slo: the objective is judged against it".into(),
        });
    }
    Ok(Drill {
        name,
        manifest,
        text,
        base,
    })
}

/// A drill's lessons with `yours` in `fixed`'s place: what `check` judges.
pub fn lessons_for_yours(drill: &Drill) -> Vec<crate::manifest::Lesson> {
    drill
        .manifest
        .lessons
        .iter()
        .map(|lesson| crate::manifest::Lesson {
            claim: lesson.claim.replace("the fix", "your fix"),
            variant: YOURS.into(),
            ..lesson.clone()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
    }

    #[test]
    fn every_committed_drill_loads_and_names_files_that_exist() {
        let drills = discover_drills(&root()).unwrap();
        assert!(drills.len() >= 3, "{} drills", drills.len());
        for drill in &drills {
            assert!(drill.learner_file().is_file() && drill.reference().is_file() && drill.shipped().is_file());
            if let ObjectiveSpec::WithinSlo(_) = drill.objective() {
                assert!(drill.slo("quick").is_some(), "{}: no slo", drill.name);
            }
        }
    }

    #[test]
    fn a_broken_drill_file_is_named_with_its_line() {
        let scratch = tempfile::tempdir().unwrap();
        let drills = scratch.path().join("labs/incidents/drills/regex-per-request");
        std::fs::create_dir_all(&drills).unwrap();
        let real = root().join("labs/incidents/drills/regex-per-request/lab.toml");
        std::fs::copy(real, drills.join("lab.toml")).unwrap();
        std::fs::write(
            drills.join("drill.toml"),
            "title = \"x\"\nsymptom = \"y\"\nobjective = 2\n",
        )
        .unwrap();
        let error = load_drill(&drills).unwrap_err();
        assert!(error.file.ends_with("drill.toml"), "{error}");
        assert_eq!(error.line, 1, "{error}");
        std::fs::write(
            drills.join("drill.toml"),
            "title = \"x\"\nsymptom = \"y\"\nobjective = 2.0\nquestion = \"q\"\npackage = \"p\"\nlearner_file = \"a\"\ngrader = \"g\"\nshipped = \"b\"\nreference = \"c\"\nhints = [\"h\"]\n",
        )
        .unwrap();
        let error = load_drill(&drills).unwrap_err();
        assert_eq!((error.line, error.message.contains("objective")), (3, true), "{error}");
    }
}
