//! `cargo xtask list`: the labs, from their manifests, and the exercises, incident drills and quiz topics with the
//! learner's progress.

use std::process::ExitCode;

/// Prints one row per lab.
pub fn run() -> anyhow::Result<ExitCode> {
    let labs = lab_harness::discover(&crate::root())?;
    let mut table = comfy_table::Table::new();
    table.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
    table.set_header(["lab", "what it teaches", "variants", "lessons", "profiles"]);
    for lab in &labs {
        let variants: Vec<&str> = lab.variants.iter().map(|v| v.name.as_str()).collect();
        let profiles: Vec<&str> = lab.profiles.keys().map(String::as_str).collect();
        table.add_row([
            lab.name.clone(),
            lab.title.clone(),
            variants.join(", "),
            lab.lessons.len().to_string(),
            profiles.join(", "),
        ]);
    }
    println!("{table}");
    println!("Run one with `cargo xtask lab <lab>` (add --full for the long profile).");

    let progress = learner::progress::load(&learner::progress::path(&crate::root()));
    let mut exercises = comfy_table::Table::new();
    exercises.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
    exercises.set_header(["exercise", "file to edit", "status"]);
    for found in learner::exercises::all(&labs) {
        let status = match progress.exercises.get(&found.key()) {
            Some(p) if p.solved => "✓ solved",
            Some(p) if p.last_check.is_some() => "in progress",
            _ => "not started",
        };
        exercises.add_row([
            found.key(),
            found.starter_relative(&crate::root()).display().to_string(),
            status.to_string(),
        ]);
    }
    println!("\n{exercises}");
    println!("Start with `cargo xtask exercise`; `cargo xtask progress` shows what you have done.");

    // Incident drills, with how far the learner is in each.
    let drills = lab_harness::drill::discover_drills(&crate::root())?;
    println!("\n{}", crate::incident::table(&drills, &progress));
    println!("Begin one with `cargo xtask incident start <drill>`.");

    // Quiz topics, with what the learner has answered and passed so far.
    let banks = quiz::load_banks(&crate::root().join("quiz/banks")).unwrap_or_default();
    let mut topics = comfy_table::Table::new();
    topics.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
    topics.set_header(["quiz topic", "questions", "answered", "passed"]);
    for bank in &banks {
        let records: Vec<_> = progress.quiz.values().filter(|r| r.topic == bank.topic).collect();
        topics.add_row([
            bank.topic.clone(),
            bank.questions.len().to_string(),
            records.len().to_string(),
            records.iter().filter(|r| r.passed).count().to_string(),
        ]);
    }
    println!("\n{topics}");
    println!("Answer in the terminal with `cargo xtask quiz <topic>`, or in the book (`cargo xtask book --open`).");
    Ok(ExitCode::SUCCESS)
}
