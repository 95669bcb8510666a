//! From the raw TOML to a [`Manifest`]: one validator per section, each error naming the file and line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use lab_load_generator::body::{parse_rate, parse_size};
use lab_load_generator::scenario::{header_map, line_of};
use lab_load_generator::{parse_duration, Arrivals, BodySpec, Rates, RequestSpec, Scenario};
use toml::Spanned;

use super::raw::{RawAction, RawBody, RawLesson, RawManifest, RawProfile, RawSampling, RawVariant};
use crate::sampling::Sampling;

use super::{known_metric, Action, Exercise, Lesson, Manifest, ManifestError, ModeKind, Profile, VariantSpec, METRICS};

/// The manifest's text and where it lives: what every validator needs to name a line.
pub(super) struct Source<'a> {
    text: &'a str,
    path: &'a Path,
    /// The lab's folder: scenario files and exercise files are relative to it.
    dir: PathBuf,
}

impl<'a> Source<'a> {
    pub(super) fn new(text: &'a str, path: &'a Path) -> Source<'a> {
        let dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
        Source { text, path, dir }
    }

    /// An error at `line`.
    fn fail(&self, line: usize, message: String) -> ManifestError {
        ManifestError {
            file: self.path.display().to_string(),
            line,
            message,
        }
    }

    /// The line a spanned value starts on.
    fn line<T>(&self, value: &Spanned<T>) -> usize {
        line_of(self.text, value.span().start)
    }
}

/// The whole manifest: syntax, then each section in the order the others depend on (variants first).
pub(super) fn manifest(source: &Source) -> Result<Manifest, ManifestError> {
    let raw: RawManifest = toml::from_str(source.text).map_err(|e| {
        let line = e.span().map_or(1, |s| line_of(source.text, s.start));
        source.fail(line, e.message().trim().to_string())
    })?;
    let variants = variants(source, raw.variants)?;
    let baseline = baseline(source, raw.baseline, &variants)?;
    let profiles = profiles(source, raw.profile)?;
    let sampling = raw.sampling.map(|s| sampling(source, s)).transpose()?;
    let lessons = lessons(source, raw.lesson, &variants, sampling.as_ref())?;
    let exercises = exercises(source, raw.exercise, &variants)?;
    let name = name(source, raw.name)?;
    Ok(Manifest {
        name,
        title: raw.title,
        chapter: raw.chapter,
        package: raw.package.unwrap_or_else(|| raw.server.clone()),
        also_build: raw.also_build,
        server: raw.server,
        dir: source.dir.clone(),
        baseline,
        variants,
        profiles,
        lessons,
        exercises,
        sampling,
    })
}

/// `[sampling]`: an interval of at least 100 ms, and queries that parse.
fn sampling(source: &Source, raw: Spanned<RawSampling>) -> Result<Sampling, ManifestError> {
    let line = source.line(&raw);
    let raw = raw.into_inner();
    let fail = |m: String| source.fail(line, format!("[sampling]: {m}"));
    let every = raw
        .every
        .as_deref()
        .map_or(Ok(crate::sampling::EVERY), parse_duration)
        .map_err(fail)?;
    if every < Duration::from_millis(100) {
        return Err(fail(format!("every = {every:?} is too often: at least 100ms")));
    }
    if raw.series.is_empty() {
        return Err(fail(
            "list at least one series, e.g. series = { rss = \"process_resident_memory_bytes\" }".into(),
        ));
    }
    let mut series = Vec::new();
    for (name, text) in raw.series {
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(fail(format!("series name {name:?}: letters, digits and _ only")));
        }
        let query = text.parse().map_err(|e| fail(format!("series {name:?}: {e}")))?;
        series.push((name, query));
    }
    Ok(Sampling { every, series })
}

/// `variants = [...]`: unique names, sane overrides, `--variant <serves>` added here (never typed in `args`).
fn variants(source: &Source, raw: Vec<Spanned<RawVariant>>) -> Result<Vec<VariantSpec>, ManifestError> {
    let mut variants: Vec<VariantSpec> = Vec::new();
    for v in raw {
        let line = source.line(&v);
        let v = v.into_inner();
        let fail = |m: String| source.fail(line, format!("variant {:?}: {m}", v.name));
        if variants.iter().any(|known| known.name == v.name) {
            return Err(source.fail(line, format!("variant {:?} is listed twice", v.name)));
        }
        if v.rate.is_some_and(|r| !(r > 0.0 && r.is_finite())) {
            return Err(fail("rate must be a positive number".into()));
        }
        if v.connections == Some(0) {
            return Err(fail("connections must be at least 1".into()));
        }
        if v.args.iter().any(|a| a == "--variant" || a.starts_with("--variant=")) {
            return Err(fail(format!(
                "args must not repeat --variant; it is `--variant {}` already (set `serves = \"…\"` to run another of the server's variants)",
                v.serves.as_deref().unwrap_or(&v.name)
            )));
        }
        let requests = match &v.path {
            Some(path) => {
                let mut spec = RequestSpec::get(path).map_err(|e| fail(e.to_string()))?;
                if let Some(method) = &v.method {
                    spec.method = method
                        .parse()
                        .map_err(|_| fail(format!("{method:?} is not an HTTP method")))?;
                }
                spec.headers = header_map(v.headers.iter().map(|(k, v)| (k.as_str(), v.as_str()))).map_err(fail)?;
                Some(vec![spec])
            }
            None if v.method.is_some() || !v.headers.is_empty() || v.body.is_some() => {
                return Err(fail(
                    "`method`, `headers` and `body` shape the variant's own request: give its `path` too".into(),
                ))
            }
            None => None,
        };
        let body = v
            .body
            .as_ref()
            .map(|b| body_spec(source, b))
            .transpose()
            .map_err(fail)?;
        let rate = |r: &Option<String>| r.as_deref().map(parse_rate).transpose().map_err(fail);
        let rates = Rates {
            upload: rate(&v.upload_rate)?,
            read: rate(&v.read_rate)?,
        };
        let timeout = v.timeout.as_deref().map(parse_duration).transpose().map_err(fail)?;
        if timeout.is_some_and(|t| t.is_zero()) {
            return Err(fail("timeout must be more than zero".into()));
        }
        let during = actions(&v.during).map_err(fail)?;
        let mut args = vec!["--variant".to_string(), v.serves.unwrap_or_else(|| v.name.clone())];
        args.extend(v.args);
        variants.push(VariantSpec {
            name: v.name,
            args,
            mode: v.mode,
            connections: v.connections,
            rate: v.rate,
            requires_env: v.requires_env,
            requests,
            on_demand: v.on_demand,
            new_connection: v.new_connection,
            timeout,
            body,
            rates,
            during,
        });
    }
    if variants.is_empty() {
        return Err(source.fail(1, "a lab needs at least one variant".into()));
    }
    Ok(variants)
}

/// A variant's `body`: a file beside `lab.toml`, or a generated one (`head`, `repeat`, `size`), never both.
fn body_spec(source: &Source, raw: &RawBody) -> Result<BodySpec, String> {
    match (&raw.file, &raw.repeat, &raw.size) {
        (Some(file), None, None) if raw.head.is_empty() => {
            let path = source.dir.join(file);
            if !path.is_file() {
                return Err(format!("body file {} does not exist", path.display()));
            }
            Ok(BodySpec::File(path))
        }
        (None, Some(repeat), Some(size)) if !repeat.is_empty() => Ok(BodySpec::Generated {
            head: raw.head.clone(),
            repeat: repeat.clone(),
            size: parse_size(size)?,
        }),
        _ => Err("body is either { file = \"…\" } or { head = \"…\", repeat = \"…\", size = \"32MB\" } with a non-empty repeat".into()),
    }
}

/// `baseline = "<variant>"`: required, and one of the variants.
fn baseline(source: &Source, raw: Option<Spanned<String>>, variants: &[VariantSpec]) -> Result<String, ManifestError> {
    let Some(baseline) = raw else {
        return Err(source.fail(
            1,
            "name the naive variant the others are measured against: baseline = \"<variant>\"".into(),
        ));
    };
    let line = source.line(&baseline);
    let baseline = baseline.into_inner();
    if !variants.iter().any(|v| v.name == baseline) {
        return Err(source.fail(line, format!("baseline {baseline:?} is not one of the variants")));
    }
    Ok(baseline)
}

/// A WebSocket profile's message size when it names none: a chat message with its envelope.
const DEFAULT_MESSAGE_SIZE: usize = 128;

/// `[profile.NAME]`: durations, a rate only in the open model, exactly one of `path` or `scenario`; `quick` needed.
fn profiles(
    source: &Source,
    raw: BTreeMap<String, Spanned<RawProfile>>,
) -> Result<BTreeMap<String, Profile>, ManifestError> {
    let mut profiles = BTreeMap::new();
    for (name, p) in raw {
        let line = source.line(&p);
        let p = p.into_inner();
        let fail = |m: String| source.fail(line, format!("profile {name:?}: {m}"));
        let duration = parse_duration(&p.duration).map_err(fail)?;
        let optional = |d: &Option<String>| d.as_deref().map_or(Ok(Duration::ZERO), parse_duration);
        let warmup = optional(&p.warmup).map_err(fail)?;
        let ramp = optional(&p.ramp).map_err(fail)?;
        let slo = p.slo.as_deref().map(parse_duration).transpose().map_err(fail)?;
        if slo.is_some_and(|s| s.is_zero()) {
            return Err(fail("slo must be more than zero".into()));
        }
        let timeout = p.timeout.as_deref().map(parse_duration).transpose().map_err(fail)?;
        if timeout.is_some_and(|t| t.is_zero()) {
            return Err(fail("timeout must be more than zero".into()));
        }
        if duration.is_zero() {
            return Err(fail("duration must be more than zero".into()));
        }
        let arrivals = p
            .arrivals
            .as_deref()
            .map_or(Ok(Arrivals::Even), Arrivals::parse)
            .map_err(fail)?;
        match (p.mode, p.rate) {
            (ModeKind::FixedRate, None) => return Err(fail("mode \"fixed-rate\" needs a rate".into())),
            (ModeKind::FixedRate, Some(r)) if r <= 0.0 => return Err(fail("rate must be positive".into())),
            (ModeKind::Closed, Some(_)) => return Err(fail("mode \"closed\" takes no rate".into())),
            (ModeKind::WebSocket, None) => {
                return Err(fail("mode \"websocket\" needs a rate (messages a second)".into()))
            }
            (ModeKind::WebSocket, Some(r)) if r <= 0.0 => return Err(fail("rate must be positive".into())),
            _ => {}
        }
        if p.message_size.is_some() && p.mode != ModeKind::WebSocket {
            return Err(fail("message_size is for mode \"websocket\"".into()));
        }
        if p.mode == ModeKind::WebSocket
            && (p.scenario.is_some() || p.threads != 1 || p.ramp.is_some() || p.warmup.is_some())
        {
            return Err(fail(
                "mode \"websocket\" takes a `path` to connect to, one thread, no ramp and no warmup (opening the \
                 connections is its warm-up)"
                    .into(),
            ));
        }
        if p.connections == 0 || p.threads == 0 || p.threads > p.connections {
            return Err(fail("need 1 <= threads <= connections".into()));
        }
        let requests = match (&p.path, &p.scenario) {
            (Some(path), None) => vec![RequestSpec::get(path).map_err(|e| fail(e.to_string()))?],
            (None, Some(scenario)) => {
                Scenario::load(&source.dir.join(scenario))
                    .map_err(|e| fail(e.to_string()))?
                    .requests
            }
            _ => return Err(fail("give exactly one of `path` or `scenario`".into())),
        };
        let profile = Profile {
            mode: p.mode,
            rate: p.rate,
            duration,
            warmup,
            ramp,
            connections: p.connections,
            threads: p.threads,
            requests,
            slo,
            arrivals,
            new_connection: p.new_connection,
            timeout,
            message_size: p.message_size.unwrap_or(DEFAULT_MESSAGE_SIZE),
        };
        profiles.insert(name, profile);
    }
    if !profiles.contains_key("quick") {
        return Err(source.fail(1, "a lab needs a [profile.quick]".into()));
    }
    Ok(profiles)
}

/// `during = [{ at, run }]`: a duration and a command line, kept in time order.
fn actions(raw: &[RawAction]) -> Result<Vec<Action>, String> {
    let mut actions = Vec::new();
    for action in raw {
        let at = parse_duration(&action.at)?;
        let mut words = action.run.split_whitespace().map(str::to_string);
        let program = words
            .next()
            .ok_or_else(|| "an action's `run` names a binary of the lab's package and its arguments".to_string())?;
        if program.contains('/') {
            return Err(format!(
                "an action runs a binary of the lab's own package, by name: {program:?} is a path"
            ));
        }
        actions.push(Action {
            at,
            program,
            args: words.collect(),
        });
    }
    // A stable sort: actions at the same moment run in the order written.
    actions.sort_by_key(|a| a.at);
    Ok(actions)
}

/// `[[lesson]]`: both variants exist, the metric is in the vocabulary, the ratio is positive.
fn lessons(
    source: &Source,
    raw: Vec<Spanned<RawLesson>>,
    variants: &[VariantSpec],
    sampling: Option<&Sampling>,
) -> Result<Vec<Lesson>, ManifestError> {
    let mut lessons = Vec::new();
    for l in raw {
        let line = source.line(&l);
        let l = l.into_inner();
        for name in [&l.baseline, &l.variant] {
            if !variants.iter().any(|v| &v.name == name) {
                let known: Vec<&str> = variants.iter().map(|v| v.name.as_str()).collect();
                return Err(source.fail(
                    line,
                    format!("lesson names variant {name:?}, which is not one of {known:?}"),
                ));
            }
        }
        if !known_metric(&l.metric) {
            let message = format!(
                "unknown metric {:?}; use counters.NAME, by_name.REQUEST.METRIC, timeline.series.NAME.FIELD or one of {METRICS:?}",
                l.metric
            );
            return Err(source.fail(line, message));
        }
        if let Some(series) = crate::metric::timeline_series(&l.metric) {
            if !sampling.is_some_and(|s| s.series.iter().any(|(name, _)| name == series)) {
                return Err(source.fail(
                    line,
                    format!("lesson reads the sampled series {series:?}: add it to [sampling] series, so every run samples it"),
                ));
            }
        }
        if l.at_least <= 0.0 {
            return Err(source.fail(line, "at_least must be positive".into()));
        }
        lessons.push(Lesson {
            claim: l.claim,
            metric: l.metric,
            better: l.better,
            baseline: l.baseline,
            variant: l.variant,
            at_least: l.at_least,
            variant_at_most: l.variant_at_most,
        });
    }
    Ok(lessons)
}

/// `[[exercise]]`: unique names, the files exist, the variants exist, at least one hint.
fn exercises(
    source: &Source,
    raw: Vec<Spanned<Exercise>>,
    variants: &[VariantSpec],
) -> Result<Vec<Exercise>, ManifestError> {
    let mut exercises: Vec<Exercise> = Vec::new();
    for e in raw {
        let line = source.line(&e);
        let e = e.into_inner();
        let fail = |m: String| source.fail(line, format!("exercise {:?}{m}", e.name));
        if exercises.iter().any(|known| known.name == e.name) {
            return Err(fail(" is declared twice".into()));
        }
        for file in [&e.starter, &e.reference] {
            if !source.dir.join(file).is_file() {
                return Err(fail(format!(": no file {}", source.dir.join(file).display())));
            }
        }
        let known = |name: &str| variants.iter().any(|v| v.name == name);
        for variant in std::iter::once(&e.perf_variant).chain(e.gate.iter().map(|g| &g.relative_to)) {
            if !known(variant) {
                return Err(fail(format!(" names variant {variant:?}, which the lab does not have")));
            }
        }
        if e.hints.is_empty() {
            return Err(fail(" needs at least one hint".into()));
        }
        exercises.push(e);
    }
    Ok(exercises)
}

/// `name`: the lab's folder name, so `cargo xtask lab NAME` and the tree agree.
fn name(source: &Source, raw: Spanned<String>) -> Result<String, ManifestError> {
    let line = source.line(&raw);
    let name = raw.into_inner();
    let folder = source.dir.file_name().map(|d| d.to_string_lossy().into_owned());
    let is_lab_toml = source.path.file_name().is_some_and(|f| f == "lab.toml");
    match folder {
        Some(folder) if is_lab_toml && folder != name => {
            Err(source.fail(line, format!("name {name:?} differs from the lab's folder {folder:?}")))
        }
        _ => Ok(name),
    }
}
