//! Lesson truth: is each lesson judged and holding in every one of several runs?
//!
//! One run that prints ✓ proves little on a noisy 2-core machine: a lesson the workbench teaches must hold every
//! time a learner runs it. `cargo xtask lab --all --quick --repeat 3` runs every lab several times and this module
//! tallies the verdicts per lesson — how many runs judged it, how many it held in, and the ratios measured — so a
//! threshold that only holds on a good day shows up before it lands.

use comfy_table::Table;

use crate::lessons::{round, Verdict};
use crate::manifest::Manifest;
use crate::report::RunReport;

/// One lesson's record over several runs.
#[derive(Debug, Clone)]
pub struct LessonTally {
    /// The lab it belongs to.
    pub lab: String,
    /// The claim.
    pub claim: String,
    /// The ratio it needs.
    pub expected_ratio: f64,
    /// The ratio of each run, `None` where the run could not judge it.
    pub ratios: Vec<Option<f64>>,
    /// Runs it held in.
    pub held: usize,
}

impl LessonTally {
    /// Runs that judged it.
    pub fn judged(&self) -> usize {
        self.ratios.iter().flatten().count()
    }

    /// True when every run judged it and it held in every one.
    pub fn always_held(&self) -> bool {
        !self.ratios.is_empty() && self.held == self.ratios.len()
    }
}

/// Verdicts gathered from repeated runs, in the order the lessons were first seen.
#[derive(Debug, Default)]
pub struct Tally {
    lessons: Vec<LessonTally>,
}

impl Tally {
    /// Adds one run's verdicts.
    pub fn add(&mut self, report: &RunReport) {
        for verdict in &report.lessons {
            self.add_verdict(&report.lab, verdict);
        }
    }

    fn add_verdict(&mut self, lab: &str, verdict: &Verdict) {
        let judged = verdict.observed_ratio.map(|ratio| (ratio, verdict.holds));
        self.record(lab, &verdict.claim, verdict.expected_ratio, judged);
    }

    /// Records a run of `lab` that failed outright (a server that would not start): each of its lessons unjudged.
    pub fn add_failed_run(&mut self, lab: &Manifest) {
        for lesson in &lab.lessons {
            self.record(&lab.name, &lesson.claim, lesson.at_least, None);
        }
    }

    /// One run's outcome for one lesson: `(ratio, held)`, or `None` when it was not judged.
    fn record(&mut self, lab: &str, claim: &str, expected_ratio: f64, judged: Option<(f64, bool)>) {
        let index = match self.lessons.iter().position(|t| t.lab == lab && t.claim == claim) {
            Some(i) => i,
            None => {
                self.lessons.push(LessonTally {
                    lab: lab.to_string(),
                    claim: claim.to_string(),
                    expected_ratio,
                    ratios: Vec::new(),
                    held: 0,
                });
                self.lessons.len() - 1
            }
        };
        let tally = &mut self.lessons[index];
        tally.ratios.push(judged.map(|(ratio, _)| ratio));
        tally.held += usize::from(judged.is_some_and(|(_, held)| held));
    }

    /// Every lesson's record.
    pub fn lessons(&self) -> &[LessonTally] {
        &self.lessons
    }

    /// True when every lesson was judged and held in every run.
    pub fn all_held(&self) -> bool {
        self.lessons.iter().all(LessonTally::always_held)
    }

    /// The summary table: one row per lesson, `3/3` held, the ratios of each run (`?` where unjudged).
    pub fn table(&self) -> String {
        let mut table = Table::new();
        table.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
        table.set_header(["", "lab", "lesson", "needs", "judged", "held", "ratio in each run"]);
        for t in &self.lessons {
            let ratios: Vec<String> = t
                .ratios
                .iter()
                .map(|r| r.map_or("?".into(), |r| format!("{}×", round(r))))
                .collect();
            table.add_row([
                if t.always_held() { "✓" } else { "✗" }.to_string(),
                t.lab.clone(),
                t.claim.clone(),
                format!("≥ {}×", round(t.expected_ratio)),
                format!("{}/{}", t.judged(), t.ratios.len()),
                format!("{}/{}", t.held, t.ratios.len()),
                ratios.join(", "),
            ]);
        }
        table.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(claim: &str, ratio: Option<f64>, holds: bool) -> Verdict {
        Verdict {
            claim: claim.into(),
            metric: "latency_us.p99".into(),
            better: crate::manifest::Better::Lower,
            baseline: "a".into(),
            variant: "b".into(),
            expected_ratio: 5.0,
            variant_at_most: None,
            observed_ratio: ratio,
            baseline_value: None,
            variant_value: None,
            holds,
            note: None,
        }
    }

    #[test]
    fn a_lesson_must_be_judged_and_hold_in_every_run() {
        let mut tally = Tally::default();
        for (r, h) in [(Some(9.0), true), (Some(12.5), true), (Some(7.25), true)] {
            tally.add_verdict("caching", &verdict("steady", r, h));
        }
        for (r, h) in [(Some(9.0), true), (None, false), (Some(6.0), true)] {
            tally.add_verdict("caching", &verdict("unjudged once", r, h));
        }
        for (r, h) in [(Some(9.0), true), (Some(4.0), false), (Some(6.0), true)] {
            tally.add_verdict("caching", &verdict("failed once", r, h));
        }
        let [steady, unjudged, failed] = tally.lessons() else {
            panic!("three lessons")
        };
        assert!(steady.always_held() && (steady.judged(), steady.held) == (3, 3));
        assert!(!unjudged.always_held() && (unjudged.judged(), unjudged.held) == (2, 2));
        assert!(!failed.always_held() && (failed.judged(), failed.held) == (3, 2));
        assert!(!tally.all_held());
        let table = tally.table();
        assert!(table.contains("9.00×, 12.5×, 7.25×"), "{table}");
        assert!(table.contains("9.00×, ?, 6.00×"), "{table}");
        assert!(table.contains("2/3"), "{table}");
    }

    #[test]
    fn a_failed_run_counts_against_every_lesson_of_its_lab() {
        let mut tally = Tally::default();
        let lab = crate::manifest::Manifest::parse(
            "name = \"baseline\"\ntitle = \"t\"\nserver = \"s\"\nbaseline = \"a\"\nvariants = [{ name = \"a\" }, { name = \"b\" }]\n\
             [profile.quick]\nmode = \"closed\"\nduration = \"1s\"\nconnections = 1\npath = \"/\"\n\
             [[lesson]]\nclaim = \"axum is cheap\"\nmetric = \"achieved_rps\"\nbetter = \"higher\"\nbaseline = \"a\"\nvariant = \"b\"\nat_least = 0.75\n",
            std::path::Path::new("labs/baseline/lab.toml"),
        )
        .unwrap();
        tally.add_verdict("baseline", &verdict("axum is cheap", Some(0.9), true));
        tally.add_failed_run(&lab);
        assert_eq!(tally.lessons()[0].ratios, [Some(0.9), None]);
        assert!(!tally.all_held());
    }
}
