//! `cargo xtask lab <topic>`: run a lab and print the comparison and the lessons' verdicts.

use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use lab_harness::RunOptions;

use crate::UsageError;

/// Arguments of `cargo xtask lab`.
#[derive(Args)]
pub struct LabArgs {
    /// The lab to run (see `cargo xtask list`).
    lab: String,
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
    /// Print the run report as JSON on stdout, and nothing else there.
    #[arg(long)]
    json: bool,
    /// Open the HTML report in a browser afterwards.
    #[arg(long)]
    open: bool,
}

/// Runs the lab.
pub fn run(args: LabArgs) -> anyhow::Result<ExitCode> {
    let root = crate::root();
    let labs = lab_harness::discover(&root)?;
    let Some(manifest) = labs.iter().find(|m| m.name == args.lab) else {
        let known: Vec<&str> = labs.iter().map(|m| m.name.as_str()).collect();
        return Err(UsageError(format!(
            "unknown lab {:?}; the labs are: {}",
            args.lab,
            known.join(", ")
        ))
        .into());
    };
    if let Some(rate) = args.rate {
        if !(rate > 0.0 && rate.is_finite()) {
            return Err(UsageError(format!("--rate must be a positive number, not {rate}")).into());
        }
    }
    for wanted in &args.variants {
        if !manifest.variants.iter().any(|v| &v.name == wanted) {
            let known: Vec<&str> = manifest.variants.iter().map(|v| v.name.as_str()).collect();
            return Err(UsageError(format!(
                "lab {} has no variant {wanted:?}; its variants are: {}",
                manifest.name,
                known.join(", ")
            ))
            .into());
        }
    }
    let options = RunOptions {
        profile: if args.full { "full" } else { "quick" }.into(),
        variants: args.variants,
        rate: args.rate,
        duration: args.duration,
    };
    let mut progress = crate::progress::Progress::new();
    let report = lab_harness::run_lab(&root, manifest, &options, &mut |event| progress.on(event))?;
    let out_dir = target_dir(&root).join("workbench").join(&report.lab);
    let (json_path, html_path) = report.write(&out_dir)?;

    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        eprintln!("report: {}\n        {}", json_path.display(), html_path.display());
    } else {
        println!(
            "{}: {} (profile {}, {} CPUs: {})",
            report.lab, report.title, report.profile, report.machine.cpus, report.machine.cpu_model
        );
        println!("{}", report.table());
        println!("{}", report.verdicts());
        println!("report: {}\n        {}", json_path.display(), html_path.display());
    }
    if args.open {
        open_in_browser(&html_path);
    }
    Ok(if report.all_lessons_hold() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(3)
    })
}

/// Cargo's target folder: `CARGO_TARGET_DIR` when set, else `<root>/target`.
pub fn target_dir(root: &std::path::Path) -> std::path::PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), std::path::PathBuf::from)
}

pub fn open_in_browser(path: &std::path::Path) {
    let opener = if cfg!(target_os = "macos") { "open" } else { "xdg-open" };
    match std::process::Command::new(opener).arg(path).status() {
        Ok(status) if status.success() => {}
        _ => eprintln!("could not open a browser ({opener}); open {} yourself", path.display()),
    }
}
