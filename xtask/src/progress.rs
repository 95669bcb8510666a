//! `cargo xtask progress`: exercises solved, labs run, incident drills fixed and quiz scores, from the progress file and the run reports.

use std::process::ExitCode;

use learner::exercises;
use learner::progress;

/// Prints the learner's progress.
pub fn run() -> anyhow::Result<ExitCode> {
    let root = crate::root();
    let labs = lab_harness::discover(&root)?;
    let progress = progress::load(&progress::path(&root));

    let mut table = comfy_table::Table::new();
    table.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
    table.set_header(["exercise", "status", "last check", "hints seen"]);
    let all = exercises::all(&labs);
    for found in &all {
        let record = progress.exercises.get(&found.key());
        let status = match record {
            Some(p) if p.solved => "✓ solved".to_string(),
            Some(p) if p.last_check.is_some() => "in progress".to_string(),
            _ => "not started".to_string(),
        };
        let last = record.and_then(|p| p.last_check.as_ref()).map_or("–".into(), |c| {
            let gate = match c.gate_passed {
                Some(true) => ", gate ✓",
                Some(false) => ", gate ✗",
                None => "",
            };
            format!("{}: {}/{} tests{gate}", c.at, c.tests_passed, c.tests_total)
        });
        let hints = record.map_or(0, |p| p.hints_shown);
        table.add_row([
            found.key(),
            status,
            last,
            format!("{hints} of {}", found.exercise.hints.len()),
        ]);
    }
    let solved = all
        .iter()
        .filter(|f| progress.exercises.get(&f.key()).is_some_and(|p| p.solved))
        .count();
    println!("Exercises: {solved} of {} solved", all.len());
    println!("{table}");

    let mut runs = comfy_table::Table::new();
    runs.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
    runs.set_header(["lab", "last run", "profile", "lessons held"]);
    let mut run_count = 0;
    for lab in &labs {
        let row = match lab_harness::report::saved_reports(&root, &lab.name).next() {
            Some((_, report)) => {
                run_count += 1;
                let judged = report.lessons.iter().filter(|l| l.observed_ratio.is_some()).count();
                let held = report.lessons.iter().filter(|l| l.holds).count();
                [
                    lab.name.clone(),
                    report.started_at,
                    report.profile,
                    format!("{held} of {judged} judged"),
                ]
            }
            None => [lab.name.clone(), "never".into(), "–".into(), "–".into()],
        };
        runs.add_row(row);
    }
    println!("\nLabs: {run_count} of {} run", labs.len());
    println!("{runs}");

    let drills = lab_harness::drill::discover_drills(&root)?;
    let resolved = drills
        .iter()
        .filter(|d| progress.incidents.get(&d.key()).is_some_and(|p| p.fixed))
        .count();
    println!("\nIncident drills: {resolved} of {} fixed", drills.len());
    println!("{}", crate::incident::table(&drills, &progress));

    let banks = quiz::load_banks(&root.join("quiz/banks")).unwrap_or_default();
    let mut quiz_table = comfy_table::Table::new();
    quiz_table.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
    quiz_table.set_header(["quiz topic", "questions", "answered", "passed", "mean score"]);
    for bank in &banks {
        let records: Vec<_> = progress.quiz.values().filter(|r| r.topic == bank.topic).collect();
        let passed = records.iter().filter(|r| r.passed).count();
        let mean = if records.is_empty() {
            "–".to_string()
        } else {
            format!(
                "{:.2}",
                records.iter().map(|r| r.score).sum::<f64>() / records.len() as f64
            )
        };
        quiz_table.add_row([
            bank.topic.clone(),
            bank.questions.len().to_string(),
            records.len().to_string(),
            passed.to_string(),
            mean,
        ]);
    }
    println!(
        "\nQuiz: {} questions answered (grade a file with `cargo xtask quiz --answers FILE`)",
        progress.quiz.len()
    );
    println!("{quiz_table}");
    Ok(ExitCode::SUCCESS)
}
