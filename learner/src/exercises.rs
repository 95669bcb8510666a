//! What the exercise commands share: finding an exercise by `<lab>[/<exercise>]`, the next unsolved one, its task
//! text (the starter's `//!` header), and its paths.

use std::path::{Path, PathBuf};

use lab_harness::manifest::{Exercise, Manifest};

use crate::progress::Progress;

/// No exercise answers to what was typed; the message lists every one that does.
#[derive(Debug, thiserror::Error)]
#[error("no exercise {spec:?}; the exercises are: {known}")]
pub struct NoSuchExercise {
    /// What was typed.
    pub spec: String,
    /// Every `<lab>/<exercise>`, comma-separated.
    pub known: String,
}

/// An exercise and the lab it belongs to.
pub struct Found<'a> {
    /// The lab.
    pub lab: &'a Manifest,
    /// The exercise.
    pub exercise: &'a Exercise,
}

impl Found<'_> {
    /// `<lab>/<exercise>`: the key progress is stored under.
    pub fn key(&self) -> String {
        format!("{}/{}", self.lab.name, self.exercise.name)
    }

    /// The file the learner edits.
    pub fn starter(&self) -> PathBuf {
        self.lab.dir.join(&self.exercise.starter)
    }

    /// The reference solution.
    pub fn reference(&self) -> PathBuf {
        self.lab.dir.join(&self.exercise.reference)
    }

    /// The starter's path relative to the workspace `root`, for messages and git.
    pub fn starter_relative(&self, root: &Path) -> PathBuf {
        self.starter()
            .strip_prefix(root)
            .map(PathBuf::from)
            .unwrap_or_else(|_| self.starter())
    }

    /// The task: the starter's leading `//!` comment, without the markers.
    pub fn task(&self) -> String {
        let text = std::fs::read_to_string(self.starter()).unwrap_or_default();
        text.lines()
            .take_while(|l| l.starts_with("//!"))
            .map(|l| {
                l.trim_start_matches("//!")
                    .strip_prefix(' ')
                    .unwrap_or(l.trim_start_matches("//!"))
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Every exercise of every lab, in lab order.
pub fn all(labs: &[Manifest]) -> Vec<Found<'_>> {
    labs.iter()
        .flat_map(|lab| lab.exercises.iter().map(move |exercise| Found { lab, exercise }))
        .collect()
}

/// Finds `<lab>` (its first exercise) or `<lab>/<exercise>`; the error lists what exists.
pub fn find<'a>(labs: &'a [Manifest], spec: &str) -> Result<Found<'a>, NoSuchExercise> {
    let (lab_name, exercise_name) = spec.split_once('/').map_or((spec, None), |(l, e)| (l, Some(e)));
    let everything = all(labs);
    let known = || everything.iter().map(Found::key).collect::<Vec<_>>().join(", ");
    all(labs)
        .into_iter()
        .find(|f| f.lab.name == lab_name && exercise_name.is_none_or(|e| f.exercise.name == e))
        .ok_or_else(|| NoSuchExercise {
            spec: spec.to_string(),
            known: known(),
        })
}

/// The first exercise not yet solved, if any.
pub fn next_unsolved<'a>(labs: &'a [Manifest], progress: &Progress) -> Option<Found<'a>> {
    all(labs)
        .into_iter()
        .find(|f| !progress.exercises.get(&f.key()).is_some_and(|p| p.solved))
}
