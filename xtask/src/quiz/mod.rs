//! `cargo xtask quiz`: answer questions in the terminal (no flag; `--review` for what you missed first, see
//! [`interactive`]), grade a file of answers offline (`--answers FILE`, `--json` for tools), a folder of
//! answer files for a team session (`--answers DIR`, `--csv` for a spreadsheet), validate every question bank
//! (`--check`), or measure the grader against the calibration answers (`--calibrate`).

mod interactive;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use quiz::answers::AnswerSheet;

use crate::UsageError;

/// Arguments of `cargo xtask quiz`.
#[derive(Args)]
#[command(group = clap::ArgGroup::new("what").args(["answers", "check", "calibrate", "review"]))]
pub struct QuizArgs {
    /// Grade this answer file (TOML: `name = "…"` and an `[answers]` table of question id = answer), or every
    /// `*.toml` answer file in this folder (one row per person).
    #[arg(long)]
    answers: Option<PathBuf>,
    /// With a folder of answers: print CSV (name, passed/answered per topic, totals) for a spreadsheet.
    #[arg(long, requires = "answers", conflicts_with = "json")]
    csv: bool,
    /// Grade quiz/calibration/*.toml and print how often the grader agrees with the verdicts written there.
    #[arg(long)]
    calibrate: bool,
    /// Validate every bank in quiz/banks and report each problem with file and line.
    #[arg(long)]
    check: bool,
    /// Only this topic's questions (or answers).
    topic: Option<String>,
    /// In the terminal: ask what you missed first, then what you have not answered, then what you know least well
    /// (Leitner boxes over your earlier answers).
    #[arg(long)]
    review: bool,
    /// In the terminal: ask at most this many questions (a review asks 10 unless told).
    #[arg(long, conflicts_with_all = ["answers", "check", "calibrate"])]
    limit: Option<usize>,
    /// Print the graded result as JSON on stdout.
    #[arg(long, requires = "answers")]
    json: bool,
}

/// Runs the command.
pub fn run(args: QuizArgs) -> anyhow::Result<ExitCode> {
    let dir = crate::root().join("quiz/banks");
    let banks = match quiz::load_banks(&dir) {
        Ok(banks) => banks,
        Err(errors) => {
            for e in &errors {
                eprintln!("error: {e}");
            }
            return Ok(ExitCode::from(2));
        }
    };
    if args.check {
        let questions: usize = banks.iter().map(|b| b.questions.len()).sum();
        println!("{questions} questions in {} banks: all valid", banks.len());
        return Ok(ExitCode::SUCCESS);
    }
    if args.calibrate {
        let calibration =
            quiz::calibration::calibrate(&banks, &crate::root().join("quiz/calibration")).map_err(UsageError)?;
        for d in &calibration.disagreements {
            println!(
                "✗ {} ({}): graded {:.2}, deserves {}",
                d.vector.id,
                d.vector.style,
                d.score,
                if d.vector.pass { "a pass" } else { "a fail" }
            );
        }
        for (style, (agreed, total)) in &calibration.by_style {
            println!(
                "  {style:<8} {agreed:>4} of {total:<4} ({:.1}%)",
                *agreed as f64 * 100.0 / *total as f64
            );
        }
        println!(
            "agreement: {} of {} ({:.1}%)",
            calibration.agreed,
            calibration.total,
            calibration.agreement() * 100.0
        );
        return Ok(ExitCode::SUCCESS);
    }
    let Some(path) = args.answers else {
        let session = interactive::Session {
            topic: args.topic,
            review: args.review,
            limit: args.limit.unwrap_or(if args.review { 10 } else { usize::MAX }),
        };
        return interactive::run(&banks, &session);
    };
    if path.is_dir() {
        return team(&banks, &path, args.csv);
    }
    if args.csv {
        return Err(UsageError("--csv grades a folder of answer files: give --answers a folder".into()).into());
    }
    let mut sheet = AnswerSheet::load(&path).map_err(|e| UsageError(e.to_string()))?;
    if let Some(topic) = &args.topic {
        bank_of(&banks, topic)?;
        sheet.answers.retain(|(id, _, _)| id.starts_with(&format!("{topic}-")));
    }
    let graded = quiz::grade_answers(&banks, &sheet).map_err(|e| UsageError(e.to_string()))?;
    record(&graded)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&graded)?);
        return Ok(ExitCode::SUCCESS);
    }
    for r in &graded.results {
        print_result(r);
    }
    for (topic, score) in &graded.by_topic {
        println!("{topic}: {} of {} passed", score.passed, score.answered);
    }
    if !graded.unknown_ids.is_empty() {
        println!("unknown question ids (not graded): {}", graded.unknown_ids.join(", "));
    }
    Ok(ExitCode::SUCCESS)
}

/// Broken banks as one usage error, each problem on its line with its file and line.
pub fn bank_errors(errors: Vec<quiz::BankError>) -> UsageError {
    UsageError(errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))
}

/// The bank of `topic`, or a usage error listing the topics there are.
pub fn bank_of<'a>(banks: &'a [quiz::Bank], topic: &str) -> Result<&'a quiz::Bank, UsageError> {
    banks.iter().find(|b| b.topic == topic).ok_or_else(|| {
        let known: Vec<&str> = banks.iter().map(|b| b.topic.as_str()).collect();
        UsageError(format!("no topic {topic:?}; the topics are: {}", known.join(", ")))
    })
}

/// Keeps each question's latest grade in the progress file (`cargo xtask progress` shows them per topic), and moves
/// it between Leitner boxes for `--review`.
pub fn record(graded: &quiz::Graded) -> anyhow::Result<()> {
    let path = learner::progress::path(&crate::root());
    let mut progress = learner::progress::load(&path);
    let at = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    for r in &graded.results {
        let previous = progress.quiz.get(&r.id).map(|p| p.leitner_box);
        let record = learner::progress::QuizRecord {
            topic: r.topic.clone(),
            score: r.score,
            passed: r.passed,
            at: at.clone(),
            leitner_box: quiz::review::next_box(previous, r.passed),
            answer: r.answer.clone(),
            missed: r.missed.clone(),
            misconceptions: r
                .notes
                .iter()
                .filter_map(|n| n.strip_prefix("misconception: ").map(String::from))
                .collect(),
        };
        progress.quiz.insert(r.id.clone(), record);
    }
    Ok(learner::progress::save(&path, &progress)?)
}

/// Prints one graded answer: verdict, concepts found and missed, notes, the model answer and why.
pub fn print_result(r: &quiz::GradedQuestion) {
    println!(
        "{} {} ({}) — score {:.2}",
        if r.passed { "✓" } else { "✗" },
        r.id,
        r.kind,
        r.score
    );
    if !r.found.is_empty() {
        println!("  found: {}", r.found.join("; "));
    }
    if !r.missed.is_empty() {
        println!("  missed: {}", r.missed.join("; "));
    }
    for note in &r.notes {
        println!("  note: {note}");
    }
    println!(
        "  model answer: {}",
        r.model_answer.split_whitespace().collect::<Vec<_>>().join(" ")
    );
    println!(
        "  why: {}\n",
        r.explanation.split_whitespace().collect::<Vec<_>>().join(" ")
    );
}

/// A team session: every answer file in `dir`, one row per person.
fn team(banks: &[quiz::Bank], dir: &std::path::Path, csv: bool) -> anyhow::Result<ExitCode> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(UsageError(format!("no *.toml answer files in {}", dir.display())).into());
    }
    let topics: Vec<&str> = banks.iter().map(|b| b.topic.as_str()).collect();
    let mut rows = Vec::new();
    for file in &files {
        let sheet = AnswerSheet::load(file).map_err(|e| UsageError(e.to_string()))?;
        let graded = quiz::grade_answers(banks, &sheet).map_err(|e| UsageError(e.to_string()))?;
        let name = graded
            .name
            .clone()
            .unwrap_or_else(|| file.file_stem().unwrap_or_default().to_string_lossy().into_owned());
        let mut row = vec![name];
        for topic in &topics {
            row.push(
                graded
                    .by_topic
                    .get(*topic)
                    .map_or("–".into(), |s| format!("{}/{}", s.passed, s.answered)),
            );
        }
        let passed: usize = graded.by_topic.values().map(|s| s.passed).sum();
        let answered: usize = graded.by_topic.values().map(|s| s.answered).sum();
        row.push(passed.to_string());
        row.push(answered.to_string());
        row.push(graded.unknown_ids.len().to_string());
        rows.push(row);
    }
    let mut header = vec!["name".to_string()];
    header.extend(topics.iter().map(|t| t.to_string()));
    header.extend(["passed", "answered", "unknown ids"].map(String::from));
    if csv {
        let field = |f: &String| {
            if f.contains([',', '"', '\n']) {
                format!("\"{}\"", f.replace('"', "\"\""))
            } else {
                f.clone()
            }
        };
        println!("{}", header.iter().map(field).collect::<Vec<_>>().join(","));
        for row in &rows {
            println!("{}", row.iter().map(field).collect::<Vec<_>>().join(","));
        }
    } else {
        let mut table = comfy_table::Table::new();
        table.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
        table.set_header(header);
        for row in rows {
            table.add_row(row);
        }
        println!("{table}");
    }
    Ok(ExitCode::SUCCESS)
}
