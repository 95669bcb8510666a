//! Every submission in the class folder. A file that cannot be read is named with its line and skipped — one
//! learner's half-copied file must not hide the other twenty-nine. Two files with the same name (two people called
//! Sam, or one file copied by hand) are both kept and told apart by their file names, with a warning.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::submission::{ReadError, Submission};

/// The folder as read.
#[derive(Debug, Clone)]
pub struct Room {
    /// The folder.
    pub folder: PathBuf,
    /// The readable submissions, by file name.
    pub learners: Vec<Learner>,
    /// The files that could not be read, and why.
    pub skipped: Vec<ReadError>,
    /// What the instructor should know (same names).
    pub warnings: Vec<String>,
}

/// One readable submission.
#[derive(Debug, Clone, Serialize)]
pub struct Learner {
    /// As shown: the name, with the file name added when two share it.
    pub shown_as: String,
    /// The file's name in the folder.
    pub file: String,
    /// What it holds.
    #[serde(skip)]
    pub submission: Submission,
}

/// Why the folder itself could not be read.
#[derive(Debug, thiserror::Error)]
#[error("cannot read the class folder {}: {source}", .folder.display())]
pub struct FolderError {
    /// The folder.
    pub folder: PathBuf,
    /// Why.
    pub source: std::io::Error,
}

impl Room {
    /// Reads every `*.json` in `folder` (hidden files — a submission being written — are not yet submissions).
    pub fn gather(folder: &Path) -> Result<Room, FolderError> {
        let entries = std::fs::read_dir(folder).map_err(|source| FolderError {
            folder: folder.to_path_buf(),
            source,
        })?;
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .filter(|p| !p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.')))
            .collect();
        files.sort();
        let mut learners = Vec::new();
        let mut skipped = Vec::new();
        for path in files {
            match Submission::read(&path) {
                Ok(submission) => learners.push(Learner {
                    shown_as: submission.name.clone(),
                    file: path.file_name().unwrap_or_default().to_string_lossy().into_owned(),
                    submission,
                }),
                Err(e) => skipped.push(e),
            }
        }
        let mut by_name: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (i, learner) in learners.iter().enumerate() {
            by_name
                .entry(learner.submission.name.trim().to_lowercase())
                .or_default()
                .push(i);
        }
        let mut warnings = Vec::new();
        for same in by_name.values().filter(|same| same.len() > 1) {
            let files: Vec<&str> = same.iter().map(|&i| learners[i].file.as_str()).collect();
            let one_learner = same
                .iter()
                .all(|&i| learners[i].submission.learner_id == learners[same[0]].submission.learner_id);
            warnings.push(format!(
                "{} submissions are named {:?} ({}): {}; each is shown with its file name",
                same.len(),
                learners[same[0]].submission.name,
                files.join(", "),
                if one_learner {
                    "they come from the same learner (a copied file?)"
                } else {
                    "they come from different learners"
                }
            ));
            for &i in same {
                learners[i].shown_as = format!("{} ({})", learners[i].submission.name, learners[i].file);
            }
        }
        Ok(Room {
            folder: folder.to_path_buf(),
            learners,
            skipped,
            warnings,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::submission::Identity;

    #[test]
    fn broken_files_are_skipped_by_name_and_namesakes_told_apart() {
        let dir = tempfile::tempdir().unwrap();
        for (file, name, id) in [
            ("sam.json", "Sam", "a"),
            ("sam-2.json", "sam", "b"),
            ("kim.json", "Kim", "c"),
        ] {
            let identity = Identity {
                learner_id: id.into(),
                name: name.into(),
            };
            let s = Submission::gather(&identity, Default::default(), vec![], "0.1.0");
            std::fs::write(dir.path().join(file), serde_json::to_string(&s).unwrap()).unwrap();
        }
        std::fs::write(dir.path().join("lee.json"), "{\"schema\": 1,\n\"name\": ").unwrap();
        std::fs::write(dir.path().join(".kim.json.tmp-12"), "{").unwrap();
        std::fs::write(dir.path().join("notes.txt"), "not a submission").unwrap();
        let room = Room::gather(dir.path()).unwrap();
        let shown: Vec<&str> = room.learners.iter().map(|l| l.shown_as.as_str()).collect();
        assert_eq!(shown, ["Kim", "sam (sam-2.json)", "Sam (sam.json)"]);
        assert_eq!(room.skipped.len(), 1);
        assert!(
            room.skipped[0].file.ends_with("lee.json") && room.skipped[0].line == 2,
            "{:?}",
            room.skipped
        );
        assert_eq!(room.warnings.len(), 1);
        assert!(room.warnings[0].contains("different learners"), "{:?}", room.warnings);
    }

    #[test]
    fn a_missing_folder_is_an_error_naming_it() {
        let e = Room::gather(Path::new("/no/such/class")).unwrap_err();
        assert!(e.to_string().contains("/no/such/class"), "{e}");
    }
}
