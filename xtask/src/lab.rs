//! `cargo xtask lab <topic>`: run a lab and print the comparison and the lessons' verdicts.

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use lab_harness::truth::Tally;
use lab_harness::{Manifest, RunError, RunOptions};

use crate::UsageError;

/// Arguments of `cargo xtask lab`.
#[derive(Args)]
pub struct LabArgs {
    /// The lab to run (see `cargo xtask list`).
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    lab: Option<String>,
    /// Run every lab, one after another.
    #[arg(long)]
    all: bool,
    /// Run each lab this many times and print, per lesson, how many runs judged it and how many it held in
    /// (exit 0 only when every lesson was judged and held every time). Use it before a change to a lab lands.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=20))]
    repeat: u32,
    /// The short profile (the default): the whole lab in well under a minute.
    #[arg(long, conflicts_with = "full")]
    quick: bool,
    /// The long profile: steadier numbers, for the book's tables.
    #[arg(long)]
    full: bool,
    /// Run only this variant (repeatable).
    #[arg(long = "variant", value_name = "VARIANT")]
    variants: Vec<String>,
    /// Replace the profile's arrival rate (requests per second).
    #[arg(long)]
    rate: Option<f64>,
    /// Replace the profile's measured duration (e.g. 10s).
    #[arg(long, value_parser = lab_load_generator::parse_duration)]
    duration: Option<Duration>,
    /// Sample the server's /metrics during each variant's run and chart it (repeatable): `NAME=QUERY` or `QUERY`,
    /// where QUERY is a metric (`process_resident_memory_bytes`), `rate(COUNTER)` or
    /// `histogram_quantile(0.99, HISTOGRAM)`, with optional `{label="value"}` matchers.
    #[arg(long, value_name = "QUERY", value_parser = lab_harness::sampling::Sampling::parse_arg)]
    sample: Vec<(String, lab_harness::sampling::Query)>,
    /// Time between /metrics samples (default 1s, or the lab's [sampling] every).
    #[arg(long, value_name = "DURATION", value_parser = parse_sample_every)]
    sample_every: Option<Duration>,
    /// Start a private Prometheus (the `prometheus` executable: own port, temporary data, 1 s scrapes) for each
    /// variant, and report the p99 its histogram_quantile computes beside the load generator's.
    #[arg(long)]
    prometheus: bool,
    /// A CPU profile of each variant's server over its load (warm-up included), taken in-process (no perf needed): the top
    /// frames under the table, the flamegraph SVG beside the report. Labs built with lab-kit's `profiling` feature.
    #[arg(long)]
    flamegraph: bool,
    /// Where each variant's heap went, by allocation site: the server built apart with dhat as its allocator
    /// (lab-kit's `heap-profile` feature), the top sites under the table, the DHAT profile beside the report (open
    /// it in DHAT's viewer, `dh_view.html`). Slow by design: read the sites, not the timings.
    #[arg(long, conflicts_with = "flamegraph")]
    heap_profile: bool,
    /// Print the run report as JSON on stdout, and nothing else there (one lab, one run).
    #[arg(long, conflicts_with_all = ["all", "repeat"])]
    json: bool,
    /// Open the HTML report in a browser afterwards.
    #[arg(long)]
    open: bool,
}

/// `--sample-every`: a duration of at least 100 ms.
fn parse_sample_every(text: &str) -> Result<Duration, String> {
    let every = lab_load_generator::parse_duration(text)?;
    if every < Duration::from_millis(100) {
        return Err(format!("{text} is too often: at least 100ms"));
    }
    Ok(every)
}

/// Runs the lab (or every lab), once or `--repeat N` times.
pub fn run(args: LabArgs) -> anyhow::Result<ExitCode> {
    let root = crate::root();
    let labs = lab_harness::discover(&root)?;
    let chosen: Vec<&Manifest> = match &args.lab {
        Some(name) => match labs.iter().find(|m| &m.name == name) {
            Some(manifest) => vec![manifest],
            None => {
                let known: Vec<&str> = labs.iter().map(|m| m.name.as_str()).collect();
                return Err(UsageError(format!("unknown lab {name:?}; the labs are: {}", known.join(", "))).into());
            }
        },
        None => labs.iter().collect(),
    };
    let options = RunOptions {
        profile: if args.full { "full" } else { "quick" }.into(),
        variants: args.variants.clone(),
        rate: args.rate,
        duration: args.duration,
        sample: args.sample.clone(),
        sample_every: args.sample_every,
        prometheus: args.prometheus,
        cpu_profile: args.flamegraph,
        heap_profile: args.heap_profile,
    };
    // Every lab's options are checked before the first build: a typo in --variant costs nothing.
    for manifest in &chosen {
        options.validate(manifest)?;
    }
    if chosen.len() == 1 && args.repeat == 1 {
        return run_once(&root, chosen[0], &options, &args);
    }
    // Rounds: every lab once, then every lab again — so a lab's runs are spread over the session, not bunched.
    let mut tally = Tally::default();
    for round in 1..=args.repeat {
        for manifest in &chosen {
            eprintln!("== round {round}/{}: {}", args.repeat, manifest.name);
            let mut progress = crate::progress_bar::RunProgress::new();
            match lab_harness::run_lab(&root, manifest, &options, &mut |event| progress.on(event)) {
                Ok(report) => {
                    let (json_path, _) = report.save(&root)?;
                    println!("{} (round {round}): {}", report.lab, json_path.display());
                    println!("{}", report.verdicts());
                    tally.add(&report);
                }
                Err(e) => {
                    println!(
                        "{} (round {round}): the run failed: {}",
                        manifest.name,
                        lab_harness::error_chain(&e)
                    );
                    tally.add_failed_run(manifest);
                }
            }
        }
    }
    println!(
        "\nLesson truth: {} run(s) of each lab, profile {}",
        args.repeat, options.profile
    );
    println!("{}", tally.table());
    let held = tally.lessons().iter().filter(|t| t.always_held()).count();
    println!(
        "{held} of {} lessons judged and holding in every run",
        tally.lessons().len()
    );
    Ok(if tally.all_held() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(RunError::LessonsDidNotHold(Vec::new()).exit_status())
    })
}

fn run_once(root: &Path, manifest: &Manifest, options: &RunOptions, args: &LabArgs) -> anyhow::Result<ExitCode> {
    let mut progress = crate::progress_bar::RunProgress::new();
    let report = lab_harness::run_lab(root, manifest, options, &mut |event| progress.on(event))?;
    let (json_path, html_path) = report.save(root)?;

    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        eprintln!("report: {}\n        {}", json_path.display(), html_path.display());
    } else {
        // How the generator was scheduled decides how well it kept its schedule: say it up front.
        let priorities: std::collections::BTreeSet<&str> = report
            .variants
            .iter()
            .map(|v| v.load.generator.priority.as_str())
            .filter(|p| !p.is_empty())
            .collect();
        println!(
            "{}: {} (profile {}, {} CPUs: {}; generator threads: {})",
            report.lab,
            report.title,
            report.profile,
            report.machine.cpus,
            report.machine.cpu_model,
            priorities.into_iter().collect::<Vec<_>>().join(", ")
        );
        println!("{}", report.table());
        println!("{}", report.verdicts());
        println!("report: {}\n        {}", json_path.display(), html_path.display());
    }
    if args.open {
        open_in_browser(&html_path);
    }
    Ok(match report.require_lessons_hold() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => ExitCode::from(e.exit_status()),
    })
}

pub fn open_in_browser(path: &std::path::Path) {
    let opener = if cfg!(target_os = "macos") { "open" } else { "xdg-open" };
    match std::process::Command::new(opener).arg(path).status() {
        Ok(status) if status.success() => {}
        _ => eprintln!("could not open a browser ({opener}); open {} yourself", path.display()),
    }
}
