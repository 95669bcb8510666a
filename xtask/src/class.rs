//! `cargo xtask class DIR`: the instructor's view of a team session — every submission in the class folder read
//! (a broken one named and skipped), printed as tables, and written as one self-contained HTML page; `--csv` and
//! `--json` for tools; `--watch` serves the page and refreshes it while submissions arrive.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use classroom::summary::{Catalogue, QuestionInfo, Summary};
use classroom::Room;

use crate::UsageError;

/// Arguments of `cargo xtask class`.
#[derive(Args)]
pub struct ClassArgs {
    /// The class folder the learners submit into (`cargo xtask submit DIR`).
    dir: PathBuf,
    /// Print the room as CSV (one row per learner per quiz answer, exercise, lesson, drill) instead of tables.
    #[arg(long, conflicts_with_all = ["json", "watch"])]
    csv: bool,
    /// Print the dashboard's data as JSON instead of tables.
    #[arg(long, conflicts_with = "watch")]
    json: bool,
    /// Where to write the HTML page (default: target/workbench/class/dashboard.html).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Serve the page and refresh it as submissions arrive, until Ctrl-C.
    #[arg(long)]
    watch: bool,
    /// With --watch: the address to listen on. The default, 127.0.0.1, shows the page only on this machine; say
    /// `--host 0.0.0.0` to put it on the room's network (the page lists names and grades: only on a network you
    /// trust).
    #[arg(long, requires = "watch", default_value = "127.0.0.1")]
    host: IpAddr,
    /// With --watch: the port (0 picks a free one).
    #[arg(long, requires = "watch", default_value_t = 3300)]
    port: u16,
}

/// Runs the command.
pub fn run(args: ClassArgs) -> anyhow::Result<ExitCode> {
    let root = crate::root();
    let catalogue = catalogue(&root);
    let room = Room::gather(&args.dir).map_err(|e| UsageError(e.to_string()))?;
    if args.csv {
        print!("{}", classroom::csv::render(&room));
        report_problems(&Summary::of(&room, &catalogue));
        return Ok(ExitCode::SUCCESS);
    }
    let summary = Summary::of(&room, &catalogue);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
        report_problems(&summary);
        return Ok(ExitCode::SUCCESS);
    }
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| lab_harness::report::reports_dir(&root).join("class/dashboard.html"));
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    print_tables(&summary);
    report_problems(&summary);
    std::fs::write(&out, classroom::html::render(&summary, false))?;
    println!("\nThe dashboard: {}", out.display());
    if !args.watch {
        return Ok(ExitCode::SUCCESS);
    }

    let folder = args.dir.clone();
    let render = move || match Room::gather(&folder) {
        Ok(room) => {
            let summary = Summary::of(&room, &catalogue);
            let _ = std::fs::write(&out, classroom::html::render(&summary, false));
            eprintln!(
                "{} submissions read{}",
                summary.learners.len(),
                if summary.skipped.is_empty() {
                    String::new()
                } else {
                    format!(", {} skipped", summary.skipped.len())
                }
            );
            classroom::html::render(&summary, true)
        }
        Err(e) => format!(
            "<!doctype html><meta charset=\"utf-8\"><p>{}</p>{}",
            lab_harness::report::html::esc(&e.to_string()),
            classroom::html::RELOAD_SCRIPT
        ),
    };
    let addr = SocketAddr::new(args.host, args.port);
    classroom::serve::serve(&args.dir, addr, render, |url| {
        println!("Serving the dashboard at {url} — it refreshes as submissions arrive; Ctrl-C stops.");
        if args.host == IpAddr::V4(Ipv4Addr::LOCALHOST) {
            println!("Only this machine can see it; --host 0.0.0.0 shows it to the room's network.");
        }
    })
    .map_err(|e| UsageError(format!("cannot serve on {addr}: {e}")))?;
    Ok(ExitCode::SUCCESS)
}

/// The course as the instructor's workbench has it: question prompts, exercises, drills.
fn catalogue(root: &Path) -> Catalogue {
    let mut catalogue = Catalogue::default();
    match quiz::load_banks(&root.join("quiz/banks")) {
        Ok(banks) => {
            for question in banks.iter().flat_map(|b| &b.questions) {
                catalogue.questions.insert(
                    question.id.clone(),
                    QuestionInfo {
                        topic: question.topic.clone(),
                        prompt: question.prompt.clone(),
                    },
                );
            }
        }
        Err(errors) => eprintln!(
            "warning: the quiz banks do not load ({} problems; `cargo xtask quiz --check` lists them): questions are shown by id only",
            errors.len()
        ),
    }
    if let Ok(labs) = lab_harness::discover(root) {
        catalogue.exercises = learner::exercises::all(&labs).iter().map(|f| f.key()).collect();
    }
    if let Ok(drills) = lab_harness::drill::discover_drills(root) {
        catalogue.drills = drills.iter().map(|d| d.key()).collect();
    }
    catalogue
}

fn report_problems(summary: &Summary) {
    for skipped in &summary.skipped {
        eprintln!("skipped {skipped}");
    }
    for warning in &summary.warnings {
        eprintln!("warning: {warning}");
    }
}

fn table(header: &[&str]) -> comfy_table::Table {
    let mut table = comfy_table::Table::new();
    table.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
    table.set_header(header.to_vec());
    table
}

fn ratio(x: f64) -> String {
    format!("{}×", lab_harness::lessons::round(x))
}

fn print_tables(summary: &Summary) {
    println!(
        "{} submissions in {}{}",
        summary.learners.len(),
        summary.folder,
        if summary.skipped.is_empty() {
            String::new()
        } else {
            format!(" ({} files skipped: see below)", summary.skipped.len())
        }
    );
    if summary.learners.is_empty() {
        println!(
            "No submissions yet: learners run `cargo xtask submit {} --name \"…\"`.",
            summary.folder
        );
        return;
    }
    let mut learners = table(&["learner", "exercises", "quiz", "drills fixed", "labs run", "machine"]);
    for l in &summary.learners {
        learners.add_row([
            l.name.clone(),
            format!("{} / {}", l.exercises_solved, l.exercises_total),
            format!("{} / {}", l.quiz_passed, l.quiz_answered),
            format!("{} / {}", l.drills_fixed, l.drills_total),
            l.labs_run.to_string(),
            l.machine.clone(),
        ]);
    }
    println!("\n{learners}");

    if !summary.questions.is_empty() {
        println!("\nQuestions, weakest first (re-teach from the top):");
        let mut questions = table(&["question", "passed", "most often missed"]);
        for q in summary.questions.iter().take(10) {
            let missed: Vec<String> = q
                .missed
                .iter()
                .chain(&q.misconceptions)
                .take(3)
                .map(|c| format!("{} ({})", c.what, c.learners))
                .collect();
            questions.add_row([
                q.id.clone(),
                format!("{} / {}", q.passed, q.answered),
                missed.join("; "),
            ]);
        }
        println!("{questions}");
    }

    for board in &summary.exercises {
        println!(
            "\n{}: {} relative to {} (same-run ratio, lower is faster; the gate allows {}):",
            board.exercise,
            board.metric,
            board.relative_to,
            ratio(board.at_most)
        );
        let mut leaders = table(&["#", "learner", "ratio", "gate", "machine"]);
        for (i, e) in board.entries.iter().enumerate() {
            let verdict = match (e.solved, e.passed) {
                (true, _) => "✓ solved",
                (false, true) => "✓ passed",
                (false, false) => "✗ not yet",
            };
            leaders.add_row([
                (i + 1).to_string(),
                e.learner.clone(),
                ratio(e.ratio),
                verdict.into(),
                e.machine.clone(),
            ]);
        }
        println!("{leaders}");
        if !board.not_measured.is_empty() {
            println!("  tests not yet passing: {}", board.not_measured.join(", "));
        }
    }

    if !summary.lessons.is_empty() {
        println!("\nLessons across the room's machines:");
        for spread in &summary.lessons {
            let (held, judged) = spread.held_of_judged();
            let ratios: Vec<f64> = spread.observations.iter().filter_map(|o| o.observed_ratio).collect();
            let range = if ratios.is_empty() {
                "not judged".to_string()
            } else {
                let lo = ratios.iter().copied().fold(f64::INFINITY, f64::min);
                let hi = ratios.iter().copied().fold(0.0, f64::max);
                format!("{}–{}", ratio(lo), ratio(hi))
            };
            let mark = match (held, judged) {
                (_, 0) => "–",
                (held, judged) if held == judged => "✓",
                _ => "✗",
            };
            println!(
                "{mark} {}: {} — held on {held} of {judged} machines, {range} (needs {})",
                spread.lab,
                spread.claim,
                ratio(spread.expected_ratio)
            );
            for o in spread.observations.iter().filter(|o| !o.holds) {
                println!(
                    "    {} on {}: {}",
                    o.learner,
                    o.machine,
                    o.observed_ratio
                        .map_or_else(|| o.note.clone().unwrap_or_else(|| "not judged".into()), ratio)
                );
            }
        }
    }
}
