//! `cargo xtask load <url>`: the load generator on any target on this machine, and `load merge` for HDR logs.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Subcommand};
use lab_load_generator::body::{parse_rate, parse_size};
use lab_load_generator::report::{human_us, Percentiles};
use lab_load_generator::scenario::{header_map, RequestSpec};
use lab_load_generator::{parse_duration, Arrivals, BodySpec, Mode, Plan, Rates, Scenario, Target, Threshold};

use crate::UsageError;

/// Arguments of `cargo xtask load`.
#[derive(Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct LoadArgs {
    #[command(subcommand)]
    merge: Option<LoadCommand>,
    /// The target, e.g. http://127.0.0.1:3000/product/{zipf:1000}. Paths may use {seq}, {uniform:N}, {zipf:N}.
    /// With --artillery, it replaces the file's config.target. A ws:// URL holds WebSocket connections open
    /// (--connections, --hold) and sends --rate messages a second over them, measuring delivery latency.
    #[arg(required_unless_present = "artillery")]
    url: Option<String>,
    /// Run an Artillery test file (YAML): its phases of arriving virtual users, their flows and its `ensure`.
    /// Unsupported keys are refused with file:line; see the load-generator README for the subset.
    #[arg(long, conflicts_with_all = ["rate", "scenario", "find_capacity", "method", "body", "headers", "slo"])]
    artillery: Option<PathBuf>,
    /// With --artillery: the most virtual users alive at once; arrivals beyond are dropped and counted.
    #[arg(long, default_value_t = 10_000, requires = "artillery")]
    max_users: usize,
    /// Fixed arrival rate in requests/s (open model). Without it, the closed model: each connection as fast as it goes.
    #[arg(long)]
    rate: Option<f64>,
    /// Connections (open model: the most requests in flight at once).
    #[arg(long, default_value_t = 16)]
    connections: usize,
    /// Measured duration.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    duration: Duration,
    /// Unrecorded warm-up before it.
    #[arg(long, default_value = "0s", value_parser = parse_duration)]
    warmup: Duration,
    /// Linear ramp from a tenth of --rate up to it, before the measured phase (open model).
    #[arg(long, default_value = "0s", value_parser = parse_duration)]
    ramp: Duration,
    /// Generator threads, each with its own share of the connections.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// A TOML file of weighted, named requests (replaces the URL's path, method, headers and body).
    #[arg(long)]
    scenario: Option<PathBuf>,
    /// HTTP method.
    #[arg(long, default_value = "GET")]
    method: String,
    /// A request header, `name: value` (repeatable).
    #[arg(long = "header", short = 'H')]
    headers: Vec<String>,
    /// Request body.
    #[arg(long)]
    body: Option<String>,
    /// Send this file's bytes as the request body.
    #[arg(long, conflicts_with = "body")]
    body_file: Option<PathBuf>,
    /// Repeat --body until the body is this large (`64KiB`, `16MB`): a large upload without a file.
    #[arg(long, requires = "body", value_parser = parse_size)]
    body_size: Option<u64>,
    /// Upload at most this fast (`256KiB/s`): a slow uploader, whose request trickles in.
    #[arg(long, value_parser = parse_rate)]
    upload_rate: Option<u64>,
    /// Read responses at most this fast (`1MB/s`): a slow reader, whose full socket pushes back on the server.
    #[arg(long, value_parser = parse_rate)]
    read_rate: Option<u64>,
    /// Open a new TCP connection for every request; connect time is reported apart.
    #[arg(long)]
    new_connection: bool,
    /// Longest wait for one response.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    timeout: Duration,
    /// A pass/fail rule, e.g. 'p99<50ms', 'errors<0.1%', 'rps>=1900', 'ping:p99<5ms' (repeatable).
    #[arg(long = "threshold")]
    thresholds: Vec<String>,
    /// A latency objective: `500ms` reports goodput (the successful responses within it per second); a
    /// percentile rule such as `p99<50ms` does that at 50 ms and is also the objective of --find-capacity.
    #[arg(long, value_parser = parse_slo)]
    slo: Option<Slo>,
    /// Find the highest arrival rate that meets the objective (--slo 'p99<50ms' and any --threshold): steps of
    /// --duration each, starting at --rate (default 100), doubling until a step misses, then bisecting to 5%.
    #[arg(long)]
    find_capacity: bool,
    /// How arrivals are spaced at a fixed rate: `even` (request i at i/rate, as wrk2) or `poisson` (random, as
    /// independent users arrive; the same times every run).
    #[arg(long, default_value = "even", value_parser = Arrivals::parse)]
    arrivals: Arrivals,
    /// At a fixed rate, the shortest gap between two wake-ups of a generator thread: requests due within it leave
    /// together. Smaller sends more evenly and costs more CPU per request (see the load-generator README).
    /// [default: 700us]
    #[arg(long, value_parser = parse_duration)]
    pacing: Option<Duration>,
    /// ws:// only: how long to hold the connections open once all are open.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    hold: Duration,
    /// ws:// only: bytes per message.
    #[arg(long, default_value_t = 64)]
    message_size: usize,
    /// Print the result as JSON on stdout, and nothing else there.
    #[arg(long)]
    json: bool,
    /// Write an HdrHistogram interval log (one histogram per second) to this file.
    #[arg(long)]
    hdr_log: Option<PathBuf>,
    /// Allow a target that is not on this machine. Never point this at a service you do not own.
    #[arg(long)]
    allow_remote: bool,
}

#[derive(Subcommand)]
enum LoadCommand {
    /// Add the histograms of several HdrHistogram logs (from several machines) and print the true percentiles.
    Merge {
        /// Interval logs written with --hdr-log.
        #[arg(required = true)]
        logs: Vec<PathBuf>,
    },
}

/// `--slo`: a latency, and the percentile rule it came with, if any.
#[derive(Clone)]
pub struct Slo {
    latency: Duration,
    rule: Option<Threshold>,
}

fn parse_slo(text: &str) -> Result<Slo, String> {
    match text.split_once('<') {
        Some((_, limit)) => {
            let rule: Threshold = text.parse().map_err(|e| format!("{e}"))?;
            let latency = parse_duration(limit.trim_start_matches('=').trim())?;
            Ok(Slo {
                latency,
                rule: Some(rule),
            })
        }
        None => Ok(Slo {
            latency: parse_duration(text)?,
            rule: None,
        }),
    }
}

/// Runs the command.
pub fn run(args: LoadArgs) -> anyhow::Result<ExitCode> {
    if let Some(LoadCommand::Merge { logs }) = &args.merge {
        return merge(logs);
    }
    let mut thresholds: Vec<Threshold> = args
        .thresholds
        .iter()
        .map(|t| t.parse().map_err(|e| UsageError(format!("{e}"))))
        .collect::<Result<_, _>>()?;
    if let Some(file) = &args.artillery {
        let flags = crate::artillery::Flags {
            url: args.url.as_deref(),
            allow_remote: args.allow_remote,
            json: args.json,
            thresholds,
            max_users: args.max_users,
            pacing: args.pacing,
        };
        return crate::artillery::run(file, flags);
    }
    if let Some(url) = args.url.as_deref().filter(|u| u.starts_with("ws://")) {
        let flags = crate::websocket::Flags {
            url,
            allow_remote: args.allow_remote,
            connections: args.connections,
            hold: args.hold,
            rate: args.rate,
            message_size: args.message_size,
            timeout: args.timeout,
            pacing: args.pacing,
            json: args.json,
        };
        return crate::websocket::run(flags);
    }
    let plan = plan(&args)?;
    if args.find_capacity {
        thresholds.extend(args.slo.as_ref().and_then(|s| s.rule.clone()));
        return find_capacity(&args, &plan, &thresholds);
    }
    let report = lab_load_generator::run(&plan).map_err(|e| match e {
        lab_load_generator::LoadError::Plan(m) => anyhow::Error::new(UsageError(m)),
        other => anyhow::Error::new(other),
    })?;
    if let Some(path) = &args.hdr_log {
        lab_load_generator::hdr_log::write(&report, path)?;
        eprintln!("interval log: {}", path.display());
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!("{}", report.table());
    }
    let mut failed = false;
    if !thresholds.is_empty() && !report.generator.valid {
        eprintln!("thresholds not judged: the run is not a valid measurement");
        failed = true;
    } else {
        for threshold in &thresholds {
            if let Err(violation) = threshold.check(&report) {
                eprintln!("✗ {violation}");
                failed = true;
            }
        }
    }
    Ok(if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

fn plan(args: &LoadArgs) -> anyhow::Result<Plan> {
    let url = args.url.as_deref().expect("clap requires a URL without a subcommand");
    let target = Target::parse(url, args.allow_remote).map_err(|e| UsageError(e.to_string()))?;
    let requests = match &args.scenario {
        Some(path) => Scenario::load(path).map_err(|e| UsageError(e.to_string()))?.requests,
        None => {
            let mut spec = RequestSpec::get(&target.path).map_err(|e| UsageError(e.to_string()))?;
            spec.method = args
                .method
                .parse()
                .map_err(|_| UsageError(format!("{:?} is not an HTTP method", args.method)))?;
            let pairs = args
                .headers
                .iter()
                .map(|h| {
                    h.split_once(':')
                        .ok_or_else(|| UsageError(format!("--header {h:?}: expected `name: value`")))
                })
                .collect::<Result<Vec<_>, _>>()?;
            spec.headers = header_map(pairs).map_err(|e| UsageError(format!("--header: {e}")))?;
            if let Some(file) = &args.body_file {
                spec.body = BodySpec::File(file.clone()).build().map_err(UsageError)?;
            } else if let Some(text) = &args.body {
                spec.body = match args.body_size {
                    Some(size) => BodySpec::Generated {
                        head: String::new(),
                        repeat: text.clone(),
                        size,
                    }
                    .build()
                    .map_err(UsageError)?,
                    None => text.clone().into(),
                };
            }
            vec![spec]
        }
    };
    let mode = match args.rate {
        Some(rate) if rate > 0.0 && rate.is_finite() => Mode::fixed_rate(rate, args.warmup, args.ramp, args.duration),
        Some(rate) => return Err(UsageError(format!("--rate must be a positive number, not {rate}")).into()),
        None => Mode::Closed {
            warmup: args.warmup,
            duration: args.duration,
        },
    };
    if args.duration.is_zero() {
        return Err(UsageError("--duration must be more than zero".into()).into());
    }
    let mut plan = Plan::new(target, requests, mode);
    plan.connections = args.connections;
    plan.threads = args.threads;
    plan.timeout = args.timeout;
    plan.new_connection_per_request = args.new_connection;
    plan.keep_intervals = args.hdr_log.is_some();
    plan.slo = args.slo.as_ref().map(|s| s.latency);
    plan.arrivals = args.arrivals;
    plan.rates = Rates {
        upload: args.upload_rate,
        read: args.read_rate,
    };
    if let Some(pacing) = args.pacing {
        plan.pacing = pacing;
    }
    Ok(plan)
}

/// `--find-capacity`: the search, its table (or JSON), and exit 0 when some rate met the objective.
fn find_capacity(args: &LoadArgs, plan: &Plan, objective: &[Threshold]) -> anyhow::Result<ExitCode> {
    if objective.is_empty() {
        return Err(
            UsageError("--find-capacity needs an objective: --slo 'p99<50ms' and/or --threshold rules".into()).into(),
        );
    }
    let how = lab_load_generator::capacity::Search {
        start_rps: args.rate.unwrap_or(100.0),
        warmup: if args.warmup.is_zero() {
            Duration::from_secs(1)
        } else {
            args.warmup
        },
        step: args.duration,
        ..Default::default()
    };
    let capacity = lab_load_generator::capacity::search(plan, objective, &how, |step| {
        eprintln!(
            "step: {:.0} req/s → p99 {} · {}",
            step.target_rps,
            human_us(step.p99_us),
            match &step.verdict {
                lab_load_generator::capacity::Verdict::Met => "met".to_string(),
                lab_load_generator::capacity::Verdict::Missed(why) => format!("missed ({})", why.join("; ")),
                lab_load_generator::capacity::Verdict::GeneratorLimit(_) => "generator limit".to_string(),
            }
        )
    })?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&capacity)?);
    } else {
        println!("{}", capacity.table());
    }
    // The steps and the latency curve as a page, beside the labs' run reports.
    let dir = lab_harness::report::reports_dir(&crate::root()).join("capacity");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let stamp = humantime::format_rfc3339_seconds(std::time::SystemTime::now())
        .to_string()
        .replace(':', "-");
    let page = dir.join(format!("{stamp}.html"));
    std::fs::write(&page, capacity.html()).with_context(|| format!("writing {}", page.display()))?;
    eprintln!("report: {}", page.display());
    Ok(if capacity.capacity_rps.is_some() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn merge(logs: &[PathBuf]) -> anyhow::Result<ExitCode> {
    let totals = lab_load_generator::hdr_log::merge(logs).context("merging interval logs")?;
    let mut table = comfy_table::Table::new();
    table.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
    table.set_header(["tag", "requests", "p50", "p90", "p95", "p99", "p99.9", "max"]);
    for (tag, h) in &totals {
        let p = Percentiles::of(h);
        table.add_row([
            if tag.is_empty() {
                "(all)".to_string()
            } else {
                tag.clone()
            },
            h.len().to_string(),
            human_us(p.p50),
            human_us(p.p90),
            p.p95.map_or("–".into(), human_us),
            human_us(p.p99),
            human_us(p.p999),
            human_us(p.max),
        ]);
    }
    println!("{table}");
    println!(
        "{} logs added histogram by histogram: these are the percentiles of all their requests together.",
        logs.len()
    );
    Ok(ExitCode::SUCCESS)
}
