//! What the instructor reads, computed once from the room and rendered as text (xtask), CSV, JSON and HTML.
//!
//! - **Per learner**: exercises solved, quiz passed of answered, drills fixed, labs run, and the machine.
//! - **Per question**, weakest first: the share of the room that passed and the rubric concepts most often missed —
//!   what to re-teach after the break — and the misconceptions stated.
//! - **Per exercise**, a leaderboard by the performance gate's ratio to the reference, measured in the learner's own
//!   run (the best solving check; the last check when not yet solved). Lower is faster.
//! - **Per lesson**, the ratio each learner's machine observed in its newest run of the lab: where a machine
//!   disagrees (a lesson that failed on one laptop), the machine column usually says why — and that is itself a
//!   lesson about measuring.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::room::Room;
use crate::submission::{describe, ReadError};

/// What the instructor's workbench knows about the course (the learners' files carry only ids).
#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    /// By question id: its topic and prompt.
    pub questions: BTreeMap<String, QuestionInfo>,
    /// Every exercise, `<lab>/<exercise>`.
    pub exercises: Vec<String>,
    /// Every incident drill, `incidents/<drill>`.
    pub drills: Vec<String>,
}

/// A question as the bank has it.
#[derive(Debug, Clone)]
pub struct QuestionInfo {
    /// Its topic.
    pub topic: String,
    /// The question, as asked.
    pub prompt: String,
}

/// The whole dashboard.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// The class folder read.
    pub folder: String,
    /// When, UTC.
    pub generated_at: String,
    /// One row per readable submission, by name.
    pub learners: Vec<LearnerRow>,
    /// Questions anyone answered, weakest first.
    pub questions: Vec<QuestionRow>,
    /// One leaderboard per exercise anyone measured.
    pub exercises: Vec<Leaderboard>,
    /// Each lesson's ratio across the room's machines.
    pub lessons: Vec<LessonSpread>,
    /// Files that could not be read.
    pub skipped: Vec<ReadError>,
    /// Same names and the like.
    pub warnings: Vec<String>,
}

/// One learner.
#[derive(Debug, Clone, Serialize)]
pub struct LearnerRow {
    /// As shown.
    pub name: String,
    /// The submission's file name.
    pub file: String,
    /// Cores, CPU model, OS.
    pub machine: String,
    /// Logical CPUs.
    pub cpus: usize,
    /// UTC.
    pub submitted_at: String,
    /// Exercises solved (tests and gate).
    pub exercises_solved: usize,
    /// Exercises in the course.
    pub exercises_total: usize,
    /// Quiz questions whose latest answer passed.
    pub quiz_passed: usize,
    /// Quiz questions answered.
    pub quiz_answered: usize,
    /// Incident drills fixed (the fix measured meeting the objective).
    pub drills_fixed: usize,
    /// Incident drills in the course.
    pub drills_total: usize,
    /// Incident drills diagnosed.
    pub drills_diagnosed: usize,
    /// Labs with a run report.
    pub labs_run: usize,
}

/// One question across the room.
#[derive(Debug, Clone, Serialize)]
pub struct QuestionRow {
    /// Its id.
    pub id: String,
    /// Its topic.
    pub topic: String,
    /// The prompt (empty when the instructor's banks do not have the id).
    pub prompt: String,
    /// Learners who answered it.
    pub answered: usize,
    /// Of them, passed.
    pub passed: usize,
    /// What the answers missed, most often first.
    pub missed: Vec<Count>,
    /// Misconceptions stated, most often first.
    pub misconceptions: Vec<Count>,
    /// The answers that did not pass, by learner: read them before telling anyone they are wrong (a rubric grader
    /// is a first pass), and a wrong choice picked by half the room says which distractor to discuss.
    pub failed_answers: Vec<FailedAnswer>,
}

/// One answer the grader failed.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FailedAnswer {
    /// As shown.
    pub learner: String,
    /// The answer in words.
    pub answer: String,
}

impl QuestionRow {
    /// passed / answered.
    pub fn share_passed(&self) -> f64 {
        self.passed as f64 / self.answered.max(1) as f64
    }
}

/// How many learners' answers had it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Count {
    /// The concept or note.
    pub what: String,
    /// How many learners.
    pub learners: usize,
}

/// One exercise's leaderboard.
#[derive(Debug, Clone, Serialize)]
pub struct Leaderboard {
    /// `<lab>/<exercise>`.
    pub exercise: String,
    /// The first gate's metric: what is ranked.
    pub metric: String,
    /// The variant it is compared with.
    pub relative_to: String,
    /// The gate's limit.
    pub at_most: f64,
    /// Measured entries, lowest ratio first.
    pub entries: Vec<LeaderEntry>,
    /// Learners who checked it but never reached the gate (their tests did not pass yet).
    pub not_measured: Vec<String>,
}

/// One learner's place on a leaderboard.
#[derive(Debug, Clone, Serialize)]
pub struct LeaderEntry {
    /// As shown.
    pub learner: String,
    /// Their variant / the reference, in one run on their machine.
    pub ratio: f64,
    /// Every gate passed in that check.
    pub passed: bool,
    /// The exercise is solved.
    pub solved: bool,
    /// Where it was measured.
    pub machine: String,
}

/// One lesson across the room.
#[derive(Debug, Clone, Serialize)]
pub struct LessonSpread {
    /// The lab.
    pub lab: String,
    /// The claim, as the lab states it.
    pub claim: String,
    /// The ratio it needs.
    pub expected_ratio: f64,
    /// One per learner who ran the lab (their newest run).
    pub observations: Vec<Observation>,
}

impl LessonSpread {
    /// Observations with a measured ratio, and how many of them held.
    pub fn held_of_judged(&self) -> (usize, usize) {
        let judged = self.observations.iter().filter(|o| o.observed_ratio.is_some());
        let held = judged.clone().filter(|o| o.holds).count();
        (held, judged.count())
    }
}

/// One machine's measurement of a lesson.
#[derive(Debug, Clone, Serialize)]
pub struct Observation {
    /// As shown.
    pub learner: String,
    /// Cores, CPU model, OS.
    pub machine: String,
    /// Logical CPUs.
    pub cpus: usize,
    /// `quick`, `full`.
    pub profile: String,
    /// The ratio measured; none when the run could not judge it.
    pub observed_ratio: Option<f64>,
    /// It held.
    pub holds: bool,
    /// Why it was not judged, or a caveat.
    pub note: Option<String>,
}

fn counted(counts: BTreeMap<String, usize>) -> Vec<Count> {
    let mut counts: Vec<Count> = counts
        .into_iter()
        .map(|(what, learners)| Count { what, learners })
        .collect();
    counts.sort_by(|a, b| b.learners.cmp(&a.learners).then_with(|| a.what.cmp(&b.what)));
    counts
}

impl Summary {
    /// Computes the dashboard.
    pub fn of(room: &Room, catalogue: &Catalogue) -> Summary {
        let mut learners: Vec<LearnerRow> = room
            .learners
            .iter()
            .map(|l| {
                let s = &l.submission;
                LearnerRow {
                    name: l.shown_as.clone(),
                    file: l.file.clone(),
                    machine: describe(&s.machine),
                    cpus: s.machine.cpus,
                    submitted_at: s.submitted_at.clone(),
                    exercises_solved: s.progress.exercises.values().filter(|e| e.solved).count(),
                    exercises_total: catalogue.exercises.len().max(s.progress.exercises.len()),
                    quiz_passed: s.progress.quiz.values().filter(|q| q.passed).count(),
                    quiz_answered: s.progress.quiz.len(),
                    drills_fixed: s.progress.incidents.values().filter(|d| d.fixed).count(),
                    drills_total: catalogue.drills.len().max(s.progress.incidents.len()),
                    drills_diagnosed: s.progress.incidents.values().filter(|d| d.diagnosed).count(),
                    labs_run: s.reports.len(),
                }
            })
            .collect();
        learners.sort_by_key(|a| a.name.to_lowercase());

        Summary {
            folder: room.folder.display().to_string(),
            generated_at: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
            learners,
            questions: questions(room, catalogue),
            exercises: leaderboards(room),
            lessons: lessons(room),
            skipped: room.skipped.clone(),
            warnings: room.warnings.clone(),
        }
    }
}

fn questions(room: &Room, catalogue: &Catalogue) -> Vec<QuestionRow> {
    #[derive(Default)]
    struct Tally {
        topic: String,
        answered: usize,
        passed: usize,
        missed: BTreeMap<String, usize>,
        misconceptions: BTreeMap<String, usize>,
        failed: Vec<FailedAnswer>,
    }
    let mut tallies: BTreeMap<String, Tally> = BTreeMap::new();
    for learner in &room.learners {
        for (id, record) in &learner.submission.progress.quiz {
            let tally = tallies.entry(id.clone()).or_default();
            tally.topic = record.topic.clone();
            tally.answered += 1;
            tally.passed += usize::from(record.passed);
            for missed in &record.missed {
                *tally.missed.entry(missed.clone()).or_default() += 1;
            }
            for wrong in &record.misconceptions {
                *tally.misconceptions.entry(wrong.clone()).or_default() += 1;
            }
            if !record.passed {
                tally.failed.push(FailedAnswer {
                    learner: learner.shown_as.clone(),
                    answer: record.answer.clone(),
                });
            }
        }
    }
    let mut rows: Vec<QuestionRow> = tallies
        .into_iter()
        .map(|(id, t)| {
            let info = catalogue.questions.get(&id);
            QuestionRow {
                topic: info.map_or(t.topic, |i| i.topic.clone()),
                prompt: info
                    .map(|i| i.prompt.split_whitespace().collect::<Vec<_>>().join(" "))
                    .unwrap_or_default(),
                answered: t.answered,
                passed: t.passed,
                missed: counted(t.missed),
                misconceptions: counted(t.misconceptions),
                failed_answers: t.failed,
                id,
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        a.share_passed()
            .total_cmp(&b.share_passed())
            .then_with(|| b.answered.cmp(&a.answered))
            .then_with(|| a.id.cmp(&b.id))
    });
    rows
}

fn leaderboards(room: &Room) -> Vec<Leaderboard> {
    let mut boards: BTreeMap<String, Leaderboard> = BTreeMap::new();
    for learner in &room.learners {
        let s = &learner.submission;
        for (exercise, progress) in &s.progress.exercises {
            let gates = progress.ranked_gates();
            let first = gates.first();
            let board = boards.entry(exercise.clone()).or_insert_with(|| Leaderboard {
                exercise: exercise.clone(),
                metric: String::new(),
                relative_to: String::new(),
                at_most: 0.0,
                entries: vec![],
                not_measured: vec![],
            });
            match first.and_then(|g| g.observed_ratio.map(|r| (g, r))) {
                Some((gate, ratio)) => {
                    if board.metric.is_empty() {
                        board.metric = gate.metric.clone();
                        board.relative_to = gate.relative_to.clone();
                        board.at_most = gate.at_most;
                    }
                    board.entries.push(LeaderEntry {
                        learner: learner.shown_as.clone(),
                        ratio,
                        passed: gates.iter().all(|g| g.passed),
                        solved: progress.solved,
                        machine: describe(&s.machine),
                    });
                }
                None if progress.last_check.is_some() => board.not_measured.push(learner.shown_as.clone()),
                None => {}
            }
        }
    }
    let mut boards: Vec<Leaderboard> = boards
        .into_values()
        .filter(|b| !b.entries.is_empty() || !b.not_measured.is_empty())
        .collect();
    for board in &mut boards {
        board
            .entries
            .sort_by(|a, b| a.ratio.total_cmp(&b.ratio).then_with(|| a.learner.cmp(&b.learner)));
        board.not_measured.sort();
    }
    boards
}

fn lessons(room: &Room) -> Vec<LessonSpread> {
    let mut spreads: BTreeMap<(String, String), LessonSpread> = BTreeMap::new();
    for learner in &room.learners {
        let s = &learner.submission;
        for report in &s.reports {
            for verdict in &report.lessons {
                let spread = spreads
                    .entry((report.lab.clone(), verdict.claim.clone()))
                    .or_insert_with(|| LessonSpread {
                        lab: report.lab.clone(),
                        claim: verdict.claim.clone(),
                        expected_ratio: verdict.expected_ratio,
                        observations: vec![],
                    });
                spread.observations.push(Observation {
                    learner: learner.shown_as.clone(),
                    machine: describe(&report.machine),
                    cpus: report.machine.cpus,
                    profile: report.profile.clone(),
                    observed_ratio: verdict.observed_ratio,
                    holds: verdict.holds,
                    note: verdict.note.clone(),
                });
            }
        }
    }
    spreads.into_values().collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::room::Learner;
    use crate::submission::{Identity, Submission};
    use learner::progress::{ExerciseProgress, GateRecord, LastCheck, QuizRecord};

    pub(crate) fn quiz(topic: &str, passed: bool, missed: &[&str]) -> QuizRecord {
        QuizRecord {
            topic: topic.into(),
            score: if passed { 1.0 } else { 0.2 },
            passed,
            at: "2026-12-03T10:00:00Z".into(),
            leitner_box: 1,
            answer: if passed { "the right words" } else { "a guess" }.into(),
            missed: missed.iter().map(|m| m.to_string()).collect(),
            misconceptions: vec![],
        }
    }

    pub(crate) fn gate(ratio: f64) -> GateRecord {
        GateRecord {
            metric: "cpu_us_per_request".into(),
            relative_to: "reference".into(),
            at_most: 1.5,
            observed_ratio: Some(ratio),
            passed: ratio <= 1.5,
        }
    }

    pub(crate) fn room() -> Room {
        let mut learners = Vec::new();
        for (name, ratio, passed) in [("Ada", 1.1, true), ("Ben", 0.9, false), ("Cy", 2.5, false)] {
            let identity = Identity {
                learner_id: name.into(),
                name: name.into(),
            };
            let mut s = Submission::gather(&identity, Default::default(), vec![], "0.1.0");
            s.progress
                .quiz
                .insert("caching-1".into(), quiz("caching", passed, &["invalidation"]));
            s.progress.quiz.insert("caching-2".into(), quiz("caching", true, &[]));
            let solved = ratio <= 1.5;
            s.progress.exercises.insert(
                "caching/single-flight".into(),
                ExerciseProgress {
                    solved,
                    hints_shown: 0,
                    last_check: Some(LastCheck {
                        at: "2026-12-03T10:00:00Z".into(),
                        tests_passed: 5,
                        tests_total: 5,
                        gate_passed: Some(solved),
                        gates: vec![gate(ratio + 0.2)],
                    }),
                    best_gates: if solved { vec![gate(ratio)] } else { vec![] },
                },
            );
            learners.push(Learner {
                shown_as: name.into(),
                file: format!("{}.json", name.to_lowercase()),
                submission: s,
            });
        }
        Room {
            folder: "class".into(),
            learners,
            skipped: vec![],
            warnings: vec![],
        }
    }

    #[test]
    fn questions_weakest_first_with_what_was_missed() {
        let summary = Summary::of(&room(), &Catalogue::default());
        let first = &summary.questions[0];
        assert_eq!((first.id.as_str(), first.answered, first.passed), ("caching-1", 3, 1));
        assert_eq!(
            first.missed,
            [Count {
                what: "invalidation".into(),
                learners: 3
            }]
        );
        assert_eq!(summary.questions[1].share_passed(), 1.0);
        let failed: Vec<&str> = first.failed_answers.iter().map(|a| a.learner.as_str()).collect();
        assert_eq!(failed, ["Ben", "Cy"]);
        assert_eq!(first.failed_answers[0].answer, "a guess");
        assert_eq!(summary.learners[0].quiz_passed, 2);
    }

    #[test]
    fn leaderboard_ranks_by_the_best_solving_ratio_then_the_last_check() {
        let summary = Summary::of(&room(), &Catalogue::default());
        let board = &summary.exercises[0];
        let order: Vec<(&str, f64)> = board.entries.iter().map(|e| (e.learner.as_str(), e.ratio)).collect();
        // Ben and Ada solved it: their best gates (0.9, 1.1); Cy did not: the last check's 2.7.
        assert_eq!(order, [("Ben", 0.9), ("Ada", 1.1), ("Cy", 2.7)]);
        assert!(!board.entries[2].passed && !board.entries[2].solved);
        assert_eq!(board.metric, "cpu_us_per_request");
    }
}
