//! One lab run: every variant in turn, under the same profile, on the same machine, minutes apart at most.
//!
//! Variants run one after another, never at once: on 2 cores, two servers under load at the same time would
//! measure each other.

use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant, SystemTime};

use lab_load_generator::websocket::WsPlan;
use lab_load_generator::{Mode, Plan, Target};

use crate::error::{within, Context, RunError};
use crate::manifest::{Manifest, ModeKind, Profile, VariantSpec};
use crate::process::{build_lab_server, LabProcess};
use crate::prometheus::PrivatePrometheus;
use crate::report::{RunReport, ServerSample, Skipped, VariantResult, SCHEMA};
use crate::sampling::{Query, Sampling};

/// Choices for a run; `Default` is the quick profile with every variant.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Profile name.
    pub profile: String,
    /// Run only these variants (all when empty).
    pub variants: Vec<String>,
    /// Replaces the profile's rate (fixed-rate profiles).
    pub rate: Option<f64>,
    /// Replaces the profile's duration.
    pub duration: Option<Duration>,
    /// `/metrics` queries to sample over each variant's run, beside the lab's own `[sampling]` (`--sample`).
    pub sample: Vec<(String, Query)>,
    /// Replaces the sampling interval (`--sample-every`).
    pub sample_every: Option<Duration>,
    /// A private Prometheus scrapes each variant; its p99 goes beside the generator's (`--prometheus`).
    pub prometheus: bool,
    /// Each variant's CPU profile over its whole load (warm-up included), from the server's own profiler (`--flamegraph`).
    pub cpu_profile: bool,
    /// Each variant's heap profile by allocation site, from a dhat build of the server (`--heap-profile`).
    pub heap_profile: bool,
}

impl RunOptions {
    /// What to sample during the run: the lab's `[sampling]` series, then `--sample`'s (a name given twice takes
    /// the command line's query); `None` when neither asks for anything.
    pub fn sampling(&self, manifest: &Manifest) -> Option<Sampling> {
        let mut sampling = manifest.sampling.clone().unwrap_or(Sampling {
            every: crate::sampling::EVERY,
            series: Vec::new(),
        });
        for (name, query) in &self.sample {
            sampling.series.retain(|(n, _)| n != name);
            sampling.series.push((name.clone(), query.clone()));
        }
        if let Some(every) = self.sample_every {
            sampling.every = every;
        }
        (!sampling.series.is_empty()).then_some(sampling)
    }

    /// Checks the options against a lab: the profile and every named variant exist, the rate is a positive number.
    /// Done before anything is built, so a typo costs nothing (and exits 2).
    pub fn validate<'m>(&self, manifest: &'m Manifest) -> Result<&'m Profile, RunError> {
        if self.prometheus && crate::prometheus::installed().is_none() {
            return Err(RunError::BadInput(crate::prometheus::NOT_INSTALLED.into()));
        }
        if let Some(rate) = self.rate {
            if !(rate > 0.0 && rate.is_finite()) {
                return Err(RunError::BadInput(format!(
                    "--rate must be a positive number, not {rate}"
                )));
            }
        }
        for wanted in &self.variants {
            if !manifest.variants.iter().any(|v| &v.name == wanted) {
                let known: Vec<&str> = manifest.variants.iter().map(|v| v.name.as_str()).collect();
                return Err(RunError::BadInput(format!(
                    "lab {} has no variant {wanted:?}; its variants are: {}",
                    manifest.name,
                    known.join(", ")
                )));
            }
        }
        manifest.profiles.get(&self.profile).ok_or_else(|| {
            let known: Vec<&str> = manifest.profiles.keys().map(String::as_str).collect();
            RunError::BadInput(format!(
                "lab {} has no profile {:?}; its profiles are: {}",
                manifest.name,
                self.profile,
                known.join(", ")
            ))
        })
    }
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            profile: "quick".into(),
            variants: Vec::new(),
            rate: None,
            duration: None,
            sample: Vec::new(),
            sample_every: None,
            prometheus: false,
            cpu_profile: false,
            heap_profile: false,
        }
    }
}

/// What a run tells whoever watches it (a progress bar in `cargo xtask`).
#[derive(Debug, Clone)]
pub enum Event<'a> {
    /// Building the server binary.
    Building(&'a str),
    /// A variant's server is starting.
    Starting(&'a str),
    /// Load is running: elapsed and expected length, requests completed.
    Loading {
        variant: &'a str,
        elapsed: Duration,
        length: Duration,
        completed: u64,
    },
    /// A variant finished.
    Finished(&'a str),
}

/// Runs `manifest` from the workspace at `root`.
pub fn run_lab(
    root: &Path,
    manifest: &Manifest,
    options: &RunOptions,
    on_event: &mut dyn FnMut(Event),
) -> Result<RunReport, RunError> {
    let profile = options.validate(manifest)?;
    let started_at = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
    on_event(Event::Building(&manifest.server));
    let binary = if options.heap_profile {
        crate::process::build_heap_profiling_server(root, &manifest.package, &manifest.server)?
    } else {
        build_lab_server(root, manifest)?
    };
    let sampling = options.sampling(manifest);

    let mut results = Vec::new();
    let mut skipped = Vec::new();
    for variant in &manifest.variants {
        let named = options.variants.contains(&variant.name);
        // Skip what was not asked for; an on-demand variant runs only when named.
        if !named && (!options.variants.is_empty() || variant.on_demand) {
            continue;
        }
        let mut env = Vec::new();
        if let Some(var) = &variant.requires_env {
            match std::env::var(var) {
                Ok(value) => env.push((var.clone(), value)),
                Err(_) => {
                    skipped.push(Skipped {
                        variant: variant.name.clone(),
                        reason: format!("{var} is not set"),
                    });
                    continue;
                }
            }
        }
        on_event(Event::Starting(&variant.name));
        // The variant's scratch folder (`{run_dir}`): a supervisor's control socket, a log file. Removed after it.
        let run_dir = tempfile::Builder::new()
            .prefix("lab-run-")
            .tempdir()
            .context("creating the variant's scratch folder")?;
        let run_dir_text = run_dir.path().display().to_string();
        let heap_file = run_dir.path().join("heap.dhat.json");
        if options.heap_profile {
            env.push((
                crate::heap_profile::PROFILE_ENV.to_string(),
                heap_file.display().to_string(),
            ));
        }
        let args: Vec<String> = variant
            .args
            .iter()
            .map(|a| a.replace("{run_dir}", &run_dir_text))
            .collect();
        let mut server =
            LabProcess::start(&binary, &args, &env).map_err(within(|| format!("variant {}", variant.name)))?;
        let placeholders = crate::during::Placeholders {
            run_dir: run_dir_text,
            pid: server.pid(),
            addr: server.addr,
        };
        let during = During {
            binary: &binary,
            placeholders,
        };
        let result = measure(
            &mut server,
            variant,
            profile,
            options,
            sampling.as_ref(),
            &during,
            on_event,
        )
        .map_err(within(|| format!("variant {}", variant.name)))?;
        // A heap-profiling server writes its profile as it stops: give it time to.
        server.stop(Duration::from_secs(if options.heap_profile { 60 } else { 5 }));
        on_event(Event::Finished(&variant.name));
        let mut result = result;
        if options.heap_profile {
            result
                .notes
                .insert("heap_profile".into(), crate::heap_profile::NOTE.into());
            match crate::heap_profile::read(&heap_file, root) {
                Ok(mut profile) => {
                    profile.file = format!("{}-{}.dhat.json", started_at.replace(':', "-"), variant.name);
                    result.heap_profile = Some(profile);
                }
                Err(why) => {
                    result.notes.insert("heap_profile".into(), why);
                }
            }
        }
        if let Some(profile) = result.cpu_profile.as_mut().filter(|p| !p.svg.is_empty()) {
            // Beside the report, under its own name: `RunReport::write` puts it there. (No samples, no graph: a
            // server that only waited gives the renderer nothing to draw.)
            profile.flamegraph = format!("{}-{}.flamegraph.svg", started_at.replace(':', "-"), variant.name);
        }
        results.push(result);
    }
    let lessons = crate::lessons::judge(&manifest.lessons, &results);
    let gates = crate::lessons::judge_gates(&manifest.exercises, &results);
    Ok(RunReport {
        schema: SCHEMA,
        lab: manifest.name.clone(),
        title: manifest.title.clone(),
        profile: options.profile.clone(),
        started_at,
        machine: crate::machine::Machine::this(),
        variants: results,
        skipped,
        lessons,
        gates,
    })
}

/// The load plan for one variant: the profile, then the variant's overrides, then the command line's.
/// (`--rate` on the command line replaces every variant's rate, overload variants' included.)
pub fn plan_for(
    target: Target,
    variant: &VariantSpec,
    profile: &Profile,
    options: &RunOptions,
) -> Result<Plan, RunError> {
    let duration = options.duration.unwrap_or(profile.duration);
    let mode = match variant.mode.unwrap_or(profile.mode) {
        // A WebSocket run's messages keep a fixed-rate schedule too (its plan is [`websocket_plan`]'s).
        ModeKind::FixedRate | ModeKind::WebSocket => {
            // A closed profile has no rate; a variant switching to fixed-rate then needs one from the command line.
            let rate = options.rate.or(variant.rate).or(profile.rate).unwrap_or(1000.0);
            Mode::fixed_rate(rate, profile.warmup, profile.ramp, duration)
        }
        ModeKind::Closed => Mode::Closed {
            warmup: profile.warmup,
            duration,
        },
    };
    let mut requests = variant.requests.clone().unwrap_or_else(|| profile.requests.clone());
    if let Some(body) = &variant.body {
        let body = body.build().map_err(RunError::BadInput)?;
        for request in &mut requests {
            request.body = body.clone();
        }
    }
    let mut plan = Plan::new(target, requests, mode);
    plan.rates = variant.rates;
    plan.connections = variant.connections.unwrap_or(profile.connections);
    plan.threads = profile.threads.min(plan.connections);
    plan.slo = profile.slo;
    plan.arrivals = profile.arrivals;
    plan.new_connection_per_request = variant.new_connection.unwrap_or(profile.new_connection);
    if let Some(timeout) = variant.timeout.or(profile.timeout) {
        plan.timeout = timeout;
    }
    Ok(plan)
}

/// The WebSocket run of a `mode = "websocket"` profile, from the same overrides as [`plan_for`]; `None` for HTTP.
pub fn websocket_plan(plan: &Plan, variant: &VariantSpec, profile: &Profile) -> Option<WsPlan> {
    if variant.mode.unwrap_or(profile.mode) != ModeKind::WebSocket {
        return None;
    }
    let Mode::FixedRate { phases } = &plan.mode else {
        return None;
    };
    let mut target = plan.target.clone();
    target.path = plan
        .requests
        .first()
        .map_or_else(|| "/".into(), |r| r.path.source().to_string());
    Some(WsPlan {
        target,
        connections: plan.connections,
        hold: phases.iter().map(|p| p.duration).sum(),
        rate: phases.last().map(|p| p.to_rps),
        message_size: profile.message_size,
        timeout: plan.timeout,
        pacing: lab_load_generator::pacer::DEFAULT_PACING,
    })
}

/// What a variant's `during` actions need: the binaries' folder and the placeholders' values.
struct During<'a> {
    binary: &'a Path,
    placeholders: crate::during::Placeholders,
}

fn measure(
    server: &mut LabProcess,
    variant: &VariantSpec,
    profile: &Profile,
    options: &RunOptions,
    sampling: Option<&Sampling>,
    during: &During,
    on_event: &mut dyn FnMut(Event),
) -> Result<VariantResult, RunError> {
    let target = Target::parse(&format!("http://{}/", server.addr), false).context("the server's address")?;
    let plan = plan_for(target, variant, profile, options)?;
    let websocket = websocket_plan(&plan, variant, profile);
    let length = match &plan.mode {
        Mode::FixedRate { phases } => phases.iter().map(|p| p.duration).sum(),
        Mode::Closed { warmup, duration } => *warmup + *duration,
    };
    let prometheus = options
        .prometheus
        .then(|| PrivatePrometheus::start(server.addr))
        .transpose()?;
    let cpu_before = server.cpu_seconds().unwrap_or(0.0);
    let began = Instant::now();
    let addr = server.addr;
    // The CPU profile covers the whole load, warm-up included: starting the profiler costs the server a burst of
    // page faults (pprof-rs fills its sample table), which belongs in the unrecorded warm-up, not in the measurement.
    let (load, timeline, actions, (cpu_after, rss_peak_bytes), cpu_profile) = std::thread::scope(|scope| {
        // The sampler scrapes until its channel's sender is dropped, just after the load ends.
        let (stop_sampling, stop) = std::sync::mpsc::channel::<()>();
        let sampler = sampling.map(|s| scope.spawn(move || crate::sampling::sample(addr, s, stop)));
        let profiler = options.cpu_profile.then(|| {
            let window = length.saturating_sub(began.elapsed()) + crate::cpu_profile::TAIL;
            scope.spawn(move || crate::cpu_profile::take(addr, window))
        });
        let actions = (!variant.during.is_empty()).then(|| {
            scope.spawn(|| crate::during::run_actions(&variant.during, during.binary, &during.placeholders, began))
        });
        let running = scope.spawn(|| match &websocket {
            Some(ws) => lab_load_generator::websocket::run(ws).map(|r| (r.as_load_report(), Some(r))),
            None => lab_load_generator::run(&plan).map(|load| (load, None)),
        });
        while !running.is_finished() {
            on_event(Event::Loading {
                variant: &variant.name,
                elapsed: began.elapsed(),
                length,
                completed: plan.progress.load(Ordering::Relaxed),
            });
            // Progress refresh interval, not synchronisation: `is_finished` decides when to stop.
            std::thread::sleep(Duration::from_millis(100));
        }
        let load = running.join().expect("the load generator panicked");
        drop(stop_sampling);
        let timeline = sampler.map(|s| s.join().expect("the /metrics sampler panicked"));
        let actions = actions.map(|a| a.join().expect("a `during` action panicked"));
        // The server's use of the machine, read before the profiler's last step: turning addresses into names reads
        // the binary's debug info, ~70 MB and a fraction of a CPU-second that belong to the profiler, not the lab.
        let used = (
            server.cpu_seconds().unwrap_or(0.0),
            server.rss_peak_bytes().unwrap_or(0),
        );
        let cpu_profile = profiler.map(|p| p.join().expect("the CPU profiler thread panicked"));
        (load, timeline, actions, used, cpu_profile)
    });
    let ended = SystemTime::now();
    let (load, websocket) = load.context("the load generator")?;
    // What one message (WebSocket) or one request cost the server.
    let completed = match &websocket {
        Some(ws) => ws.sent,
        None => plan.progress.load(Ordering::Relaxed),
    };
    let cpu_seconds = cpu_after - cpu_before;
    let stats = match crate::probe::stats(server.addr) {
        Ok(stats) => stats,
        // A server that died during the run (a crash drill) has no /stats to give; the load's errors say the rest.
        Err(e) => match server.exit_status() {
            Some(status) => {
                let mut stats = crate::probe::Stats::default();
                stats
                    .notes
                    .insert("server".into(), format!("exited during the run ({status}): no /stats"));
                stats
            }
            None => return Err(e).context("reading /stats after the run"),
        },
    };
    let mut stats = stats;
    for (i, note) in actions.unwrap_or_default().into_iter().enumerate() {
        stats.notes.insert(format!("during.{}", i + 1), note);
    }
    let cpu_profile = match cpu_profile {
        None => None,
        Some(Ok(Some(mut profile))) => {
            // Its idle tail (`cpu_profile::TAIL`) is not part of the load.
            profile.seconds = length.as_secs_f64();
            stats
                .notes
                .insert("cpu_profile".into(), crate::cpu_profile::MEMORY_NOTE.into());
            Some(profile)
        }
        Some(Ok(None)) => {
            let why = "this server has no profiler (it is built without lab-kit's `profiling` feature)";
            stats.notes.insert("cpu_profile".into(), why.into());
            None
        }
        Some(Err(e)) => {
            stats.notes.insert("cpu_profile".into(), format!("not taken: {e}"));
            None
        }
    };
    let measured = Duration::from_secs_f64(load.load.duration_s);
    let prometheus = prometheus.map(|p| p.reading(ended, measured)).transpose()?;
    Ok(VariantResult {
        name: variant.name.clone(),
        load,
        server: ServerSample {
            rss_peak_bytes,
            cpu_seconds,
            cpu_us_per_request: cpu_seconds * 1e6 / completed.max(1) as f64,
        },
        websocket,
        counters: stats.counters,
        notes: stats.notes,
        timeline,
        cpu_profile,
        heap_profile: None,
        prometheus,
    })
}
