//! One learner's submission: a single JSON file in the class folder, named after the learner.
//!
//! What goes in is what the instructor's page shows and nothing more: the name, the machine (cores and CPU model —
//! a lesson that fails on one laptop is explained by its row), the progress file (exercises with their gate
//! ratios, quiz grades with what each answer missed, incident drills), and the newest run report of each lab. No
//! source code, no paths, no environment: nothing else is read from the learner's tree.
//!
//! Three rules keep a shared folder safe:
//! - **Atomic**: written to a hidden temporary file in the same folder, synced, renamed over the old one; the
//!   instructor's dashboard reading mid-copy sees the old file or the new, never half of one.
//! - **Re-submitting replaces, a namesake does not**: each learner's tree gets a random id on its first submit
//!   (kept beside the progress file). Submitting again replaces the file with the same id; a file of the same name
//!   with another id belongs to someone else, and `submit` refuses and says so instead of overwriting it.
//! - **Versioned**: `schema` is read before anything else, so a file from a newer workbench gets a message saying
//!   to update, not a confusing "missing field".

use std::hash::{BuildHasher, Hasher};
use std::path::{Path, PathBuf};

use lab_harness::machine::Machine;
use lab_harness::RunReport;
use learner::progress::Progress;
use serde::{Deserialize, Serialize};

/// Version of the submission layout; bumped on any incompatible change. Files with a larger number are refused
/// with a message; smaller ones would be read by a compatibility path when there is one to write.
pub const SCHEMA: u32 = 1;

/// One learner's file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Submission {
    /// Always [`SCHEMA`] when written by this workbench.
    pub schema: u32,
    /// The name the learner gave (`--name`), as shown on the dashboard.
    pub name: String,
    /// Random, made on the learner's first submit: tells "Ada again" from "another Ada".
    pub learner_id: String,
    /// UTC, RFC 3339.
    pub submitted_at: String,
    /// The workbench's version (Cargo's package version of xtask).
    pub workbench_version: String,
    /// Where the learner's numbers were measured.
    pub machine: Machine,
    /// The learner's progress file as it was: exercises (solved, hints, the last check and the best solving
    /// check's gates), quiz grades with what each answer missed, incident drills.
    #[serde(flatten)]
    pub progress: Progress,
    /// The newest run report of each lab the learner ran (the JSON contract of DESIGN.md).
    #[serde(default)]
    pub reports: Vec<RunReport>,
}

/// Who this learner is to the class folder: kept beside the progress file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Identity {
    /// Random, made once.
    pub learner_id: String,
    /// The last name submitted under, so `--name` is needed only once.
    pub name: String,
}

/// Why a submission could not be written (the folder is untouched unless said otherwise).
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// The class folder is missing: not created, since a typo would make a folder nobody reads.
    #[error("the class folder {} does not exist: create it, or check the path (a network share must be mounted)", .0.display())]
    NoFolder(PathBuf),
    /// No name given and none remembered.
    #[error("say who you are the first time: cargo xtask submit DIR --name \"Your Name\" (it is remembered after)")]
    NoName,
    /// The name has no letter or digit to make a file name of.
    #[error("the name {0:?} needs at least one letter or digit")]
    BadName(String),
    /// Someone else's file has this name.
    #[error("{} is another learner's submission ({} on {}, submitted {}): nothing was written. Choose another name with --name \"…\"", .path.display(), .name, .machine, .at)]
    NameTaken {
        /// Their file.
        path: PathBuf,
        /// Their name as written.
        name: String,
        /// Their machine, described.
        machine: String,
        /// When they submitted.
        at: String,
    },
    /// A file of this name is there and cannot be read as a submission: it is not overwritten.
    #[error("{} exists but is not a submission this workbench can read ({reason}): nothing was written. Move it away or choose another --name", .path.display())]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The file system refused.
    #[error("{action} {}: {source}", .path.display())]
    Io {
        /// What was being done.
        action: &'static str,
        /// To which path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// Why a file in the class folder could not be read: shown with the file and line, and the file is skipped.
#[derive(Debug, Clone, thiserror::Error, Serialize)]
#[error("{file}:{line}: {message}")]
pub struct ReadError {
    /// The file.
    pub file: String,
    /// 1-based; 1 when the problem is the whole file.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// Where the learner's identity is kept: beside the progress file (so a test's temporary progress has its own).
pub fn identity_path(progress_path: &Path) -> PathBuf {
    progress_path.with_file_name("submission.toml")
}

/// The remembered identity, updated with `name` when given; a new random id the first time. Not saved here: the
/// caller saves it once the submission is written.
pub fn identity(progress_path: &Path, name: Option<&str>) -> Result<Identity, SubmitError> {
    let remembered: Option<Identity> = std::fs::read_to_string(identity_path(progress_path))
        .ok()
        .and_then(|text| toml::from_str(&text).ok());
    let name = match (name, &remembered) {
        (Some(name), _) => name.trim().to_string(),
        (None, Some(known)) => known.name.clone(),
        (None, None) => return Err(SubmitError::NoName),
    };
    if file_stem(&name).is_empty() {
        return Err(SubmitError::BadName(name));
    }
    let learner_id = remembered.map_or_else(random_id, |known| known.learner_id);
    Ok(Identity { learner_id, name })
}

/// 64 random bits as hex, from the standard library's per-process random hasher keys (no extra crate for an id
/// that only has to differ between the laptops of one room).
fn random_id() -> String {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    hasher.write_u32(std::process::id());
    format!("{:016x}", hasher.finish())
}

/// The file name a learner's submission gets: the name lower-cased, letters and digits kept, anything else one `-`.
pub fn file_stem(name: &str) -> String {
    let mut stem = String::new();
    for c in name.trim().chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            stem.push(c);
        } else if !stem.is_empty() && !stem.ends_with('-') {
            stem.push('-');
        }
    }
    stem.trim_end_matches('-').to_string()
}

/// The newest report of every lab the learner ran (one folder per lab under the reports folder) that judged all
/// its lessons, by lab name; the newest of any kind when none did. Unreadable reports are passed over.
pub fn newest_reports(root: &Path) -> Vec<RunReport> {
    let mut labs: Vec<String> = std::fs::read_dir(lab_harness::report::reports_dir(root))
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    labs.sort();
    labs.iter()
        .filter_map(|lab| {
            // A run of one variant (`--variant x`) judges no lesson: the room compares lessons, so the newest run
            // that judged them all is the one to send.
            let mut runs = lab_harness::report::saved_reports(root, lab).map(|(_, report)| report);
            let newest = runs.next()?;
            if judged_every_lesson(&newest) {
                return Some(newest);
            }
            Some(runs.find(judged_every_lesson).unwrap_or(newest))
        })
        .collect()
}

fn judged_every_lesson(report: &RunReport) -> bool {
    !report.lessons.is_empty() && report.lessons.iter().all(|l| l.observed_ratio.is_some())
}

impl From<learner::atomic::WriteError> for SubmitError {
    fn from(e: learner::atomic::WriteError) -> Self {
        SubmitError::Io {
            action: e.action,
            path: e.path,
            source: e.source,
        }
    }
}

impl Submission {
    /// Gathers a submission from the learner's progress and reports.
    pub fn gather(identity: &Identity, progress: Progress, reports: Vec<RunReport>, version: &str) -> Submission {
        Submission {
            schema: SCHEMA,
            name: identity.name.clone(),
            learner_id: identity.learner_id.clone(),
            submitted_at: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
            workbench_version: version.to_string(),
            machine: Machine::this(),
            progress,
            reports,
        }
    }

    /// Reads one submission, checking its schema before its fields.
    pub fn read(path: &Path) -> Result<Submission, ReadError> {
        let file = path.display().to_string();
        let error = |line: usize, message: String| ReadError {
            file: file.clone(),
            line,
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| error(1, format!("cannot read: {e}")))?;
        #[derive(Deserialize)]
        struct Head {
            schema: Option<u32>,
        }
        let head: Head = serde_json::from_str(&text).map_err(|e| error(e.line().max(1), e.to_string()))?;
        match head.schema {
            None => return Err(error(1, "not a workbench submission: it has no \"schema\" field".into())),
            Some(schema) if schema > SCHEMA => {
                return Err(error(
                    1,
                    format!(
                        "written by a newer workbench (submission schema {schema}; this one reads {SCHEMA}): update the instructor's workbench (git pull) and run again"
                    ),
                ))
            }
            Some(_) => {}
        }
        serde_json::from_str(&text).map_err(|e| error(e.line().max(1), e.to_string()))
    }

    /// Writes this submission into `dir` as `<name>.json`, atomically, replacing only this learner's own earlier
    /// file; returns its path.
    pub fn write(&self, dir: &Path) -> Result<PathBuf, SubmitError> {
        if !dir.is_dir() {
            return Err(SubmitError::NoFolder(dir.to_path_buf()));
        }
        let stem = file_stem(&self.name);
        if stem.is_empty() {
            return Err(SubmitError::BadName(self.name.clone()));
        }
        let path = dir.join(format!("{stem}.json"));
        if path.exists() {
            match Submission::read(&path) {
                Ok(theirs) if theirs.learner_id != self.learner_id => {
                    return Err(SubmitError::NameTaken {
                        path,
                        name: theirs.name,
                        machine: describe(&theirs.machine),
                        at: theirs.submitted_at,
                    })
                }
                Ok(_) => {}
                Err(e) => {
                    return Err(SubmitError::Unreadable {
                        path,
                        reason: format!("line {}: {}", e.line, e.message),
                    })
                }
            }
        }
        let text = serde_json::to_string_pretty(self).expect("a submission is plain data") + "\n";
        learner::atomic::write(&path, text.as_bytes()).map_err(SubmitError::from)?;
        Ok(path)
    }
}

/// Saves the identity beside the progress file, atomically.
pub fn save_identity(progress_path: &Path, identity: &Identity) -> Result<(), SubmitError> {
    let path = identity_path(progress_path);
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| SubmitError::Io {
            action: "creating",
            path: dir.to_path_buf(),
            source,
        })?;
    }
    let text = toml::to_string(identity).expect("an identity is two strings");
    Ok(learner::atomic::write(&path, text.as_bytes())?)
}

/// `2 cores, Intel(R) Xeon(R) …, linux`.
pub fn describe(machine: &Machine) -> String {
    format!("{} cores, {}, {}", machine.cpus, machine.cpu_model, machine.os)
}

#[cfg(test)]
mod tests {
    use super::*;
    use learner::progress::QuizRecord;

    fn submission(name: &str, id: &str) -> Submission {
        let identity = Identity {
            learner_id: id.into(),
            name: name.into(),
        };
        Submission::gather(&identity, Progress::default(), vec![], "0.1.0")
    }

    #[test]
    fn names_become_safe_file_names() {
        assert_eq!(file_stem("Ada Lovelace"), "ada-lovelace");
        assert_eq!(file_stem("  ../../etc/passwd "), "etc-passwd");
        assert_eq!(file_stem("Zoë_2"), "zoë-2");
        assert_eq!(file_stem("!!!"), "");
    }

    #[test]
    fn resubmitting_replaces_and_a_namesake_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let first = submission("Sam", "aaaa");
        let path = first.write(dir.path()).unwrap();
        let mut again = submission("Sam", "aaaa");
        again.progress.quiz.insert(
            "caching-1".into(),
            QuizRecord {
                topic: "caching".into(),
                score: 1.0,
                passed: true,
                at: "2026-12-03T10:00:00Z".into(),
                leitner_box: 2,
                answer: "a cache".into(),
                missed: vec![],
                misconceptions: vec![],
            },
        );
        assert_eq!(again.write(dir.path()).unwrap(), path);
        assert_eq!(Submission::read(&path).unwrap().progress.quiz.len(), 1, "replaced");

        let other = submission("sam", "bbbb");
        let refused = other.write(dir.path()).unwrap_err().to_string();
        assert!(refused.contains("another learner's submission"), "{refused}");
        assert_eq!(
            Submission::read(&path).unwrap().learner_id,
            "aaaa",
            "theirs is untouched"
        );
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, [std::ffi::OsString::from("sam.json")], "no temporary file left");
    }

    #[test]
    fn an_unreadable_file_of_the_same_name_is_not_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("sam.json"), "{ half a file").unwrap();
        let refused = submission("Sam", "aaaa").write(dir.path()).unwrap_err().to_string();
        assert!(
            refused.contains("not a submission this workbench can read"),
            "{refused}"
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join("sam.json")).unwrap(),
            "{ half a file"
        );
    }

    #[test]
    fn a_missing_folder_is_not_created() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("clas");
        let refused = submission("Sam", "aaaa").write(&missing).unwrap_err().to_string();
        assert!(refused.contains("does not exist"), "{refused}");
        assert!(!missing.exists());
    }

    #[test]
    fn a_newer_schema_and_broken_json_are_named_with_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let newer = dir.path().join("newer.json");
        std::fs::write(&newer, "{\"schema\": 2, \"name\": \"Kim\", \"something_new\": []}").unwrap();
        let e = Submission::read(&newer).unwrap_err();
        assert!(e.message.contains("newer workbench"), "{e}");
        let broken = dir.path().join("broken.json");
        std::fs::write(
            &broken,
            "{\n  \"schema\": 1,\n  \"name\": \"Kim\",\n  \"learner_id\": 7\n}",
        )
        .unwrap();
        let e = Submission::read(&broken).unwrap_err();
        assert_eq!(e.line, 4, "{e}");
        assert!(e.to_string().starts_with(&format!("{}:4:", broken.display())), "{e}");
    }

    #[test]
    fn the_identity_is_made_once_and_the_name_remembered() {
        let dir = tempfile::tempdir().unwrap();
        let progress = dir.path().join("progress.toml");
        assert!(matches!(identity(&progress, None), Err(SubmitError::NoName)));
        let first = identity(&progress, Some("Ada")).unwrap();
        save_identity(&progress, &first).unwrap();
        let again = identity(&progress, None).unwrap();
        assert_eq!(
            (again.learner_id.as_str(), again.name.as_str()),
            (first.learner_id.as_str(), "Ada")
        );
        let renamed = identity(&progress, Some("Ada L")).unwrap();
        assert_eq!(renamed.learner_id, first.learner_id);
        assert_ne!(random_id(), random_id());
    }
}
