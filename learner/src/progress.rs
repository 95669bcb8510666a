//! The learner's progress: `.workbench/progress.toml` at the workspace root (git-ignored), keyed by names so that
//! it survives new labs and reordered exercises. `WORKBENCH_PROGRESS` points elsewhere (tests use a temp file).
//!
//! Written atomically — to a temporary file in the same folder, flushed, then renamed over the old one — so a crash
//! or Ctrl-C mid-write leaves either the old progress or the new, never half a file. A file that cannot be read is
//! set aside (renamed, with a message saying where) and progress starts afresh: a corrupted file must never stop a
//! learner, and must never be silently overwritten either.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Everything recorded for one learner.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    /// By `<lab>/<exercise>`.
    #[serde(default)]
    pub exercises: BTreeMap<String, ExerciseProgress>,
    /// By question id: the latest graded answer.
    #[serde(default)]
    pub quiz: BTreeMap<String, QuizRecord>,
    /// By `incidents/<drill>`.
    #[serde(default)]
    pub incidents: BTreeMap<String, IncidentProgress>,
}

/// One incident drill's record: the three steps of an on-call shift.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncidentProgress {
    /// `start` has shown the symptom at least once.
    #[serde(default)]
    pub started: bool,
    /// `answer` has passed the diagnosis at least once.
    #[serde(default)]
    pub diagnosed: bool,
    /// `check` has measured the learner's fix meeting the objective at least once.
    #[serde(default)]
    pub fixed: bool,
    /// How many hints have been shown.
    #[serde(default)]
    pub hints_shown: usize,
}

/// The latest grade of one question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuizRecord {
    /// Its topic.
    pub topic: String,
    /// 0..=1.
    pub score: f64,
    /// Passed.
    pub passed: bool,
    /// When, RFC 3339 UTC.
    pub at: String,
    /// Its Leitner box, 1 (missed) to 5 (known well): the order `cargo xtask quiz --review` asks in.
    #[serde(default = "first_box")]
    pub leitner_box: u8,
    /// The answer as given, in words (an instructor reads the ones the grader failed before calling them wrong).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub answer: String,
    /// What the answer missed: a rubric's concepts, or why a choice was wrong. An instructor's dashboard counts
    /// these across the room (`cargo xtask class`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missed: Vec<String>,
    /// Misconceptions the answer stated (a text question's rubric names them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub misconceptions: Vec<String>,
}

fn first_box() -> u8 {
    1
}

/// One exercise's record.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExerciseProgress {
    /// Tests and gate both passed at least once.
    #[serde(default)]
    pub solved: bool,
    /// How many hints have been shown.
    #[serde(default)]
    pub hints_shown: usize,
    /// The last check: UTC time and outcome.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_check: Option<LastCheck>,
    /// The gates of the best check that solved it: the one whose first gate measured the lowest ratio to the
    /// reference. A team's leaderboard ranks by it (same-run ratios travel between laptops).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub best_gates: Vec<GateRecord>,
}

impl ExerciseProgress {
    /// The gates a leaderboard ranks this learner by: the best solving check's once solved, else the last check's
    /// (empty when the gate never ran).
    pub fn ranked_gates(&self) -> &[GateRecord] {
        if self.solved && !self.best_gates.is_empty() {
            &self.best_gates
        } else {
            self.last_check.as_ref().map_or(&[], |c| &c.gates)
        }
    }
}

/// One performance gate as a check measured it: the learner's variant against the reference, in the same run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GateRecord {
    /// The metric compared (`cpu_us_per_request`, `counters.db_queries`…).
    pub metric: String,
    /// The variant compared against.
    pub relative_to: String,
    /// The largest ratio allowed.
    pub at_most: f64,
    /// The learner's / the reference's, when both were measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_ratio: Option<f64>,
    /// Whether the gate passed.
    pub passed: bool,
}

/// The outcome of the last `cargo xtask check`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LastCheck {
    /// RFC 3339, UTC.
    pub at: String,
    /// Grader tests passed.
    pub tests_passed: usize,
    /// Grader tests run.
    pub tests_total: usize,
    /// The performance gate passed (absent when it did not run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gate_passed: Option<bool>,
    /// Each gate's measurement (empty when the gate did not run).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gates: Vec<GateRecord>,
}

/// Why progress could not be saved (the learner's previous progress is untouched: the write is atomic).
#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    /// The folder, the temporary file or the rename failed.
    #[error("{action} {}: {source}", .path.display())]
    Io {
        /// What was being done.
        action: &'static str,
        /// To which path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The progress could not be written as TOML (a bug: every field is plain data).
    #[error("encoding progress as TOML: {0}")]
    Encode(#[from] toml::ser::Error),
}

/// Where progress is kept.
pub fn path(root: &Path) -> PathBuf {
    std::env::var_os("WORKBENCH_PROGRESS").map_or_else(|| root.join(".workbench/progress.toml"), PathBuf::from)
}

/// Reads progress; a missing file is empty progress, a corrupted one is set aside with a message on stderr.
pub fn load(path: &Path) -> Progress {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Progress::default(),
        Err(e) => {
            eprintln!(
                "warning: cannot read {} ({e}); starting with empty progress",
                path.display()
            );
            return Progress::default();
        }
    };
    match toml::from_str(&text) {
        Ok(progress) => progress,
        Err(e) => {
            let stamp = humantime::format_rfc3339_seconds(std::time::SystemTime::now())
                .to_string()
                .replace(':', "-");
            let aside = path.with_extension(format!("toml.corrupt-{stamp}"));
            let line = e.span().map_or(1, |s| text[..s.start].matches('\n').count() + 1);
            match std::fs::rename(path, &aside) {
                Ok(()) => eprintln!(
                    "warning: {}:{line} is not valid progress ({}); it was set aside as {} and progress starts afresh",
                    path.display(),
                    e.message(),
                    aside.display()
                ),
                Err(rename) => eprintln!(
                    "warning: {} is corrupted and could not be set aside ({rename})",
                    path.display()
                ),
            }
            Progress::default()
        }
    }
}

/// Writes progress atomically (see [`crate::atomic`]), creating its folder if needed.
pub fn save(path: &Path, progress: &Progress) -> Result<(), SaveError> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|source| SaveError::Io {
        action: "creating",
        path: dir.to_path_buf(),
        source,
    })?;
    let text = toml::to_string_pretty(progress)?;
    crate::atomic::write(path, text.as_bytes()).map_err(|e| SaveError::Io {
        action: e.action,
        path: e.path,
        source: e.source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("progress.toml");
        assert_eq!(load(&path), Progress::default());
        let mut progress = Progress::default();
        progress.exercises.insert(
            "caching/single-flight".into(),
            ExerciseProgress {
                solved: true,
                hints_shown: 2,
                last_check: None,
                best_gates: vec![],
            },
        );
        save(&path, &progress).unwrap();
        assert_eq!(load(&path), progress);
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("progress.toml")]);
    }

    #[test]
    fn a_corrupted_file_is_set_aside_not_lost() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("progress.toml");
        std::fs::write(&path, "[exercises.\"caching/single-flight\"]\nsolved = maybe\n").unwrap();
        assert_eq!(load(&path), Progress::default());
        assert!(!path.exists());
        let aside: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(aside.len(), 1);
        assert!(aside[0].starts_with("progress.toml.corrupt-"), "{aside:?}");
        let kept = std::fs::read_to_string(dir.path().join(&aside[0])).unwrap();
        assert!(kept.contains("solved = maybe"), "the learner's file is kept as it was");
    }
}
