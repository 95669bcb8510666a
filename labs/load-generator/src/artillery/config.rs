//! Reading an Artillery test file: YAML with a line for every node, turned into a [`Test`] or an error that names
//! file and line. Every key is either understood or refused — a key silently ignored would make a run that looks
//! like the user's test and is not.

use std::path::Path;
use std::time::Duration;

use http::header::HeaderName;
use http::Method;
use saphyr::{LoadableYamlNode, MarkedYamlOwned, ScalarOwned, YamlDataOwned};

use super::text::{JsonPath, Text};
use crate::threshold::Threshold;

/// An Artillery test, in the subset the workbench runs.
#[derive(Debug, Clone)]
pub struct Test {
    /// `config.target`: the base URL (the command line's URL replaces it).
    pub target: Option<String>,
    /// `config.phases`, in order.
    pub phases: Vec<PhaseSpec>,
    /// `config.http.timeout`.
    pub timeout: Option<Duration>,
    /// `config.defaults.headers`, sent with every request (a step's own header of the same name wins).
    pub default_headers: Vec<(HeaderName, Text)>,
    /// `scenarios`, each drawn by weight for each arriving virtual user.
    pub scenarios: Vec<ScenarioSpec>,
    /// `config.ensure`, as the generator's own thresholds.
    pub ensure: Vec<Threshold>,
}

/// One phase: `duration` seconds of arrivals at `arrivalRate` per second, ramping to `rampTo` when given.
#[derive(Debug, Clone, PartialEq)]
pub struct PhaseSpec {
    /// `name`, or `phase N`.
    pub name: String,
    /// `duration`.
    pub duration: Duration,
    /// `arrivalRate`: new virtual users per second at the start.
    pub arrival_rate: f64,
    /// `rampTo`: the rate at the end, when it changes linearly.
    pub ramp_to: Option<f64>,
}

/// A scenario: a flow one virtual user runs from start to end.
#[derive(Debug, Clone)]
pub struct ScenarioSpec {
    /// `name`, or `scenario N`.
    pub name: String,
    /// `weight` (default 1).
    pub weight: u32,
    /// `flow`: its steps in order.
    pub flow: Vec<Step>,
}

/// One step of a flow.
#[derive(Debug, Clone)]
pub enum Step {
    /// `get:`, `post:`, …
    Request(Box<RequestStep>),
    /// `think: N`: the user pauses N seconds.
    Think(Duration),
}

/// A request step.
#[derive(Debug, Clone)]
pub struct RequestStep {
    /// The statistics it is reported under: method and URL as written (`GET /products/{{ id }}`), as Artillery's
    /// metrics-by-endpoint does.
    pub name: String,
    /// The method.
    pub method: Method,
    /// `url`: a path (joined to the target) with placeholders.
    pub url: Text,
    /// `qs`: query parameters, appended in order.
    pub qs: Vec<(String, Text)>,
    /// `headers`.
    pub headers: Vec<(HeaderName, Text)>,
    /// `json` or `body`.
    pub body: Option<BodySpec>,
    /// `capture`: values to keep from the response for later steps.
    pub captures: Vec<Capture>,
}

/// A request body.
#[derive(Debug, Clone)]
pub enum BodySpec {
    /// `json:` — sent as `application/json`.
    Json(JsonTemplate),
    /// `body:` — sent as written.
    Raw(Text),
}

/// A JSON value whose strings may hold placeholders.
#[derive(Debug, Clone)]
pub enum JsonTemplate {
    /// null, true/false, or a number.
    Plain(serde_json::Value),
    /// A string with placeholders (a lone `$randomNumber` becomes a number, as in Artillery).
    Text(Text),
    /// An array.
    Array(Vec<JsonTemplate>),
    /// An object, keys in file order.
    Object(Vec<(String, JsonTemplate)>),
}

/// `capture: { json: "$.token", as: "authToken" }`.
#[derive(Debug, Clone)]
pub struct Capture {
    /// Where in the JSON response.
    pub path: JsonPath,
    /// The variable it is stored in.
    pub variable: String,
}

/// A test file that cannot be run as given: unreadable, bad YAML, or YAML the workbench does not run.
pub type ArtilleryError = crate::input_file::InputFileError;

impl Test {
    /// Reads and checks an Artillery file; environment variables come from the process.
    pub fn load(path: &Path) -> Result<Test, ArtilleryError> {
        let (file, text) = crate::input_file::read(path)?;
        Test::parse(&text, &file, &|name| std::env::var(name).ok())
    }

    /// Parses the text of an Artillery file; `file` is used in messages and `env` reads environment variables.
    pub fn parse(text: &str, file: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<Test, ArtilleryError> {
        let reader = Reader { file, env };
        let documents = MarkedYamlOwned::load_from_str(text).map_err(|e| ArtilleryError::Invalid {
            file: file.to_string(),
            line: e.marker().line(),
            message: format!("not valid YAML: {}", e.info()),
        })?;
        let root = match documents.as_slice() {
            [root] => root,
            [] => return Err(reader.error_at(1, "the file is empty")),
            [_, second, ..] => return Err(reader.error(second, "one YAML document per file, please")),
        };
        reader.test(root)
    }
}

struct Reader<'a> {
    file: &'a str,
    env: &'a dyn Fn(&str) -> Option<String>,
}

type Entries<'n> = Vec<(&'n str, &'n MarkedYamlOwned, &'n MarkedYamlOwned)>;

const HOOKS: &str = "JavaScript hooks (processor, beforeRequest, afterResponse, function) cannot run here: the \
                     workbench has no JavaScript engine. Compute the value in a template, or capture it";

impl Reader<'_> {
    fn error_at(&self, line: usize, message: impl Into<String>) -> ArtilleryError {
        ArtilleryError::Invalid {
            file: self.file.to_string(),
            line,
            message: message.into(),
        }
    }

    fn error(&self, node: &MarkedYamlOwned, message: impl Into<String>) -> ArtilleryError {
        self.error_at(node.span.start.line().max(1), message)
    }

    fn unsupported(&self, key: &MarkedYamlOwned, name: &str, within: &str, supported: &str) -> ArtilleryError {
        let why = match name {
            "processor" | "beforeRequest" | "afterResponse" | "beforeScenario" | "afterScenario" | "function" => {
                HOOKS.to_string()
            }
            _ => format!("`{name}` in {within} is not supported; supported here: {supported}"),
        };
        self.error(key, why)
    }

    /// A mapping's entries with their keys as text.
    fn mapping<'n>(&self, node: &'n MarkedYamlOwned, what: &str) -> Result<Entries<'n>, ArtilleryError> {
        match &node.data {
            YamlDataOwned::Mapping(map) => map
                .iter()
                .map(|(k, v)| match &k.data {
                    YamlDataOwned::Value(ScalarOwned::String(s)) => Ok((s.as_str(), k, v)),
                    _ => Err(self.error(k, format!("{what}: keys must be names"))),
                })
                .collect(),
            _ => Err(self.error(node, format!("{what} must be a mapping (key: value lines)"))),
        }
    }

    fn sequence<'n>(&self, node: &'n MarkedYamlOwned, what: &str) -> Result<&'n [MarkedYamlOwned], ArtilleryError> {
        match &node.data {
            YamlDataOwned::Sequence(items) => Ok(items),
            _ => Err(self.error(node, format!("{what} must be a list (lines starting with -)"))),
        }
    }

    fn string(&self, node: &MarkedYamlOwned, what: &str) -> Result<String, ArtilleryError> {
        match &node.data {
            YamlDataOwned::Value(ScalarOwned::String(s)) => Ok(s.clone()),
            YamlDataOwned::Value(ScalarOwned::Integer(n)) => Ok(n.to_string()),
            YamlDataOwned::Value(ScalarOwned::FloatingPoint(f)) => Ok(f.to_string()),
            YamlDataOwned::Value(ScalarOwned::Boolean(b)) => Ok(b.to_string()),
            _ => Err(self.error(node, format!("{what} must be text"))),
        }
    }

    fn number(&self, node: &MarkedYamlOwned, what: &str) -> Result<f64, ArtilleryError> {
        let value = match &node.data {
            YamlDataOwned::Value(ScalarOwned::Integer(n)) => *n as f64,
            YamlDataOwned::Value(ScalarOwned::FloatingPoint(f)) => f.into_inner(),
            _ => return Err(self.error(node, format!("{what} must be a number"))),
        };
        if value.is_finite() && value >= 0.0 {
            Ok(value)
        } else {
            Err(self.error(node, format!("{what} must be zero or more")))
        }
    }

    /// Seconds as a number (Artillery's unit for durations and think times), or a string such as `90s` or `2m`.
    fn seconds(&self, node: &MarkedYamlOwned, what: &str) -> Result<Duration, ArtilleryError> {
        if let YamlDataOwned::Value(ScalarOwned::String(s)) = &node.data {
            return crate::duration::parse_duration(s)
                .map_err(|e| self.error(node, format!("{what}: {e} (or a number of seconds)")));
        }
        Ok(Duration::from_secs_f64(self.number(node, what)?))
    }

    fn text(&self, node: &MarkedYamlOwned, what: &str) -> Result<Text, ArtilleryError> {
        let source = self.string(node, what)?;
        Text::parse(&source, self.env).map_err(|e| self.error(node, format!("{what}: {e}")))
    }

    fn test(&self, root: &MarkedYamlOwned) -> Result<Test, ArtilleryError> {
        let mut test = Test {
            target: None,
            phases: Vec::new(),
            timeout: None,
            default_headers: Vec::new(),
            scenarios: Vec::new(),
            ensure: Vec::new(),
        };
        let mut saw_scenarios = None;
        for (name, key, value) in self.mapping(root, "the file")? {
            match name {
                "config" => self.config(value, &mut test)?,
                "scenarios" => {
                    saw_scenarios = Some(key);
                    for (i, scenario) in self.sequence(value, "scenarios")?.iter().enumerate() {
                        test.scenarios.push(self.scenario(scenario, i + 1)?);
                    }
                }
                _ => return Err(self.unsupported(key, name, "the file", "config, scenarios")),
            }
        }
        if test.phases.is_empty() {
            return Err(self.error(
                root,
                "config.phases is missing: say how many virtual users arrive, and for how long",
            ));
        }
        match saw_scenarios {
            None => return Err(self.error(root, "scenarios is missing: say what each virtual user does")),
            Some(key) if test.scenarios.is_empty() => return Err(self.error(key, "scenarios is empty")),
            Some(_) => {}
        }
        Ok(test)
    }

    fn config(&self, node: &MarkedYamlOwned, test: &mut Test) -> Result<(), ArtilleryError> {
        for (name, key, value) in self.mapping(node, "config")? {
            match name {
                "target" => test.target = Some(self.string(value, "config.target")?),
                "phases" => {
                    for (i, phase) in self.sequence(value, "config.phases")?.iter().enumerate() {
                        test.phases.push(self.phase(phase, i + 1)?);
                    }
                }
                "defaults" => {
                    for (name, key, value) in self.mapping(value, "config.defaults")? {
                        match name {
                            "headers" => test.default_headers = self.headers(value, "config.defaults.headers")?,
                            _ => return Err(self.unsupported(key, name, "config.defaults", "headers")),
                        }
                    }
                }
                "http" => {
                    for (name, key, value) in self.mapping(value, "config.http")? {
                        match name {
                            "timeout" => test.timeout = Some(self.seconds(value, "config.http.timeout")?),
                            _ => {
                                return Err(self.error(
                                    key,
                                    format!(
                                        "`{name}` in config.http is not supported; supported here: timeout. Each \
                                         virtual user has its own keep-alive connection, as Artillery's default"
                                    ),
                                ))
                            }
                        }
                    }
                }
                "ensure" => test.ensure = self.ensure(value)?,
                "plugins" => {
                    for (name, key, _) in self.mapping(value, "config.plugins")? {
                        match name {
                            // Both are built in: every run reports each endpoint apart and checks `ensure`.
                            "ensure" | "metrics-by-endpoint" => {}
                            _ => {
                                return Err(self.unsupported(
                                    key,
                                    name,
                                    "config.plugins",
                                    "ensure, metrics-by-endpoint (both built in)",
                                ))
                            }
                        }
                    }
                }
                _ => {
                    return Err(self.unsupported(
                        key,
                        name,
                        "config",
                        "target, phases, defaults, http, ensure, plugins",
                    ))
                }
            }
        }
        Ok(())
    }

    fn phase(&self, node: &MarkedYamlOwned, n: usize) -> Result<PhaseSpec, ArtilleryError> {
        let mut phase = PhaseSpec {
            name: format!("phase {n}"),
            duration: Duration::ZERO,
            arrival_rate: -1.0,
            ramp_to: None,
        };
        for (name, key, value) in self.mapping(node, "a phase")? {
            match name {
                "name" => phase.name = self.string(value, "name")?,
                "duration" => phase.duration = self.seconds(value, "duration")?,
                "arrivalRate" => phase.arrival_rate = self.number(value, "arrivalRate")?,
                "rampTo" => phase.ramp_to = Some(self.number(value, "rampTo")?),
                _ => return Err(self.unsupported(key, name, "a phase", "duration, arrivalRate, rampTo, name")),
            }
        }
        if phase.duration.is_zero() {
            return Err(self.error(node, format!("{}: needs a duration of more than zero", phase.name)));
        }
        if phase.arrival_rate < 0.0 {
            return Err(self.error(node, format!("{}: needs an arrivalRate", phase.name)));
        }
        if phase.arrival_rate == 0.0 && phase.ramp_to.unwrap_or(0.0) == 0.0 {
            return Err(self.error(node, format!("{}: no virtual user would ever arrive", phase.name)));
        }
        Ok(phase)
    }

    fn ensure(&self, node: &MarkedYamlOwned) -> Result<Vec<Threshold>, ArtilleryError> {
        let mut rules = Vec::new();
        let mut add = |rule: String, at: &MarkedYamlOwned| -> Result<(), ArtilleryError> {
            rules.push(rule.parse::<Threshold>().map_err(|e| self.error(at, e.to_string()))?);
            Ok(())
        };
        let percentile = |name: &str| match name {
            "min" => None,
            "median" | "p50" => Some("p50"),
            "p90" => Some("p90"),
            "p95" => Some("p95"),
            "p99" => Some("p99"),
            "p999" => Some("p99.9"),
            "max" => Some("max"),
            _ => None,
        };
        for (name, key, value) in self.mapping(node, "config.ensure")? {
            if let Some(p) = percentile(name) {
                add(format!("{p}<={}ms", self.number(value, name)?), key)?;
                continue;
            }
            match name {
                "maxErrorRate" => add(format!("errors<={}%", self.number(value, name)?), key)?,
                "thresholds" => {
                    for item in self.sequence(value, "config.ensure.thresholds")? {
                        for (metric, key, limit) in self.mapping(item, "a threshold")? {
                            let p = metric
                                .strip_prefix("http.response_time.")
                                .and_then(percentile)
                                .ok_or_else(|| {
                                    self.error(
                                        key,
                                        format!(
                                            "threshold on `{metric}` is not supported; supported: \
                                         http.response_time.(median|p90|p95|p99|p999|max), and maxErrorRate"
                                        ),
                                    )
                                })?;
                            add(format!("{p}<={}ms", self.number(limit, metric)?), key)?;
                        }
                    }
                }
                _ => {
                    return Err(self.unsupported(
                        key,
                        name,
                        "config.ensure",
                        "median, p90, p95, p99, p999, max (ms), maxErrorRate (%), thresholds",
                    ))
                }
            }
        }
        Ok(rules)
    }

    fn headers(&self, node: &MarkedYamlOwned, what: &str) -> Result<Vec<(HeaderName, Text)>, ArtilleryError> {
        self.mapping(node, what)?
            .into_iter()
            .map(|(name, key, value)| {
                let header = HeaderName::try_from(name)
                    .map_err(|_| self.error(key, format!("{name:?} is not a valid header name")))?;
                Ok((header, self.text(value, name)?))
            })
            .collect()
    }

    fn scenario(&self, node: &MarkedYamlOwned, n: usize) -> Result<ScenarioSpec, ArtilleryError> {
        let mut scenario = ScenarioSpec {
            name: format!("scenario {n}"),
            weight: 1,
            flow: Vec::new(),
        };
        let mut flow_seen = false;
        for (name, key, value) in self.mapping(node, "a scenario")? {
            match name {
                "name" => scenario.name = self.string(value, "name")?,
                "weight" => {
                    let weight = self.number(value, "weight")?;
                    if weight < 1.0 || weight.fract() != 0.0 {
                        return Err(self.error(value, "weight must be a whole number, 1 or more"));
                    }
                    scenario.weight = weight as u32;
                }
                "flow" => {
                    flow_seen = true;
                    for step in self.sequence(value, "flow")? {
                        scenario.flow.push(self.step(step)?);
                    }
                }
                "engine" => {
                    let engine = self.string(value, "engine")?;
                    if engine != "http" {
                        return Err(self.error(
                            value,
                            format!("engine {engine:?} is not supported here; for WebSocket load use `cargo xtask load ws://…`"),
                        ));
                    }
                }
                _ => return Err(self.unsupported(key, name, "a scenario", "name, weight, flow, engine: http")),
            }
        }
        if !flow_seen || scenario.flow.is_empty() {
            return Err(self.error(node, format!("{}: needs a flow with at least one step", scenario.name)));
        }
        if !scenario.flow.iter().any(|s| matches!(s, Step::Request(_))) {
            return Err(self.error(node, format!("{}: its flow sends no request", scenario.name)));
        }
        Ok(scenario)
    }

    fn step(&self, node: &MarkedYamlOwned) -> Result<Step, ArtilleryError> {
        let entries = self.mapping(node, "a flow step")?;
        let Some(&(name, key, value)) = entries.first() else {
            return Err(self.error(
                node,
                "an empty flow step: use an action such as `- get:` or `- think: 2`",
            ));
        };
        const ACTIONS: &str = "get, post, put, patch, delete, head, options, think";
        if !ACTIONS.split(", ").any(|action| action == name) {
            return Err(self.unsupported(key, name, "a flow", ACTIONS));
        }
        if let Some((_, extra, _)) = entries.get(1) {
            return Err(self.error(extra, "one action per flow step: start another with `- `"));
        }
        let method = match name {
            "think" => return Ok(Step::Think(self.seconds(value, "think")?)),
            "post" => Method::POST,
            "put" => Method::PUT,
            "patch" => Method::PATCH,
            "delete" => Method::DELETE,
            "head" => Method::HEAD,
            "options" => Method::OPTIONS,
            _ => Method::GET,
        };
        let mut url = None;
        let mut step = RequestStep {
            name: String::new(),
            method,
            url: Text::literal("/"),
            qs: Vec::new(),
            headers: Vec::new(),
            body: None,
            captures: Vec::new(),
        };
        for (field, key, value) in self.mapping(value, name)? {
            match field {
                "url" => {
                    step.url = self.text(value, "url")?;
                    url = Some(self.string(value, "url")?);
                }
                "headers" => step.headers = self.headers(value, "headers")?,
                "qs" => {
                    for (param, _, value) in self.mapping(value, "qs")? {
                        step.qs.push((param.to_string(), self.text(value, param)?));
                    }
                }
                "json" if step.body.is_none() => step.body = Some(BodySpec::Json(self.json(value)?)),
                "body" if step.body.is_none() => step.body = Some(BodySpec::Raw(self.text(value, "body")?)),
                "json" | "body" => return Err(self.error(key, "a request has one body: json or body, not both")),
                "capture" => {
                    let items = match &value.data {
                        YamlDataOwned::Sequence(items) => items.iter().collect(),
                        _ => vec![value],
                    };
                    for item in items {
                        step.captures.push(self.capture(item)?);
                    }
                }
                _ => return Err(self.unsupported(key, field, "a request", "url, headers, qs, json, body, capture")),
            }
        }
        let url = url.ok_or_else(|| self.error(node, format!("{name}: needs a url")))?;
        if !url.starts_with('/') {
            return Err(self.error(
                node,
                format!(
                    "url {url:?}: use a path starting with /, joined to config.target (full URLs are not supported)"
                ),
            ));
        }
        step.name = format!("{} {url}", step.method);
        Ok(Step::Request(Box::new(step)))
    }

    fn capture(&self, node: &MarkedYamlOwned) -> Result<Capture, ArtilleryError> {
        let (mut path, mut variable) = (None, None);
        for (name, key, value) in self.mapping(node, "capture")? {
            match name {
                "json" => {
                    let source = self.string(value, "json")?;
                    path = Some(JsonPath::parse(&source).map_err(|e| self.error(value, e))?);
                }
                "as" => variable = Some(self.string(value, "as")?),
                _ => return Err(self.unsupported(key, name, "capture", "json, as")),
            }
        }
        match (path, variable) {
            (Some(path), Some(variable)) => Ok(Capture { path, variable }),
            _ => Err(self.error(
                node,
                "capture needs both json (a path such as $.token) and as (a variable name)",
            )),
        }
    }

    fn json(&self, node: &MarkedYamlOwned) -> Result<JsonTemplate, ArtilleryError> {
        Ok(match &node.data {
            YamlDataOwned::Value(ScalarOwned::Null) => JsonTemplate::Plain(serde_json::Value::Null),
            YamlDataOwned::Value(ScalarOwned::Boolean(b)) => JsonTemplate::Plain((*b).into()),
            YamlDataOwned::Value(ScalarOwned::Integer(n)) => JsonTemplate::Plain((*n).into()),
            YamlDataOwned::Value(ScalarOwned::FloatingPoint(f)) => JsonTemplate::Plain(f.into_inner().into()),
            YamlDataOwned::Value(ScalarOwned::String(_)) => JsonTemplate::Text(self.text(node, "json")?),
            YamlDataOwned::Sequence(items) => {
                JsonTemplate::Array(items.iter().map(|i| self.json(i)).collect::<Result<_, _>>()?)
            }
            YamlDataOwned::Mapping(_) => JsonTemplate::Object(
                self.mapping(node, "json")?
                    .into_iter()
                    .map(|(k, _, v)| Ok((k.to_string(), self.json(v)?)))
                    .collect::<Result<_, ArtilleryError>>()?,
            ),
            _ => return Err(self.error(node, "this JSON value is not supported (anchors and tags are not)")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        (name == "API_TOKEN").then(|| "secret".to_string())
    }

    fn parse(text: &str) -> Result<Test, ArtilleryError> {
        Test::parse(text, "test.yml", &env)
    }

    /// The line a refusal names, with the message.
    fn refusal(text: &str) -> (usize, String) {
        match parse(text) {
            Err(ArtilleryError::Invalid { file, line, message }) => {
                assert_eq!(file, "test.yml");
                (line, message)
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    const MINIMAL: &str = "config:\n  phases:\n    - duration: 1\n      arrivalRate: 2\nscenarios:\n  - flow:\n      - get:\n          url: \"/\"\n";

    #[test]
    fn the_shop_example_reads_whole() {
        let text = include_str!("../../artillery/shop.yml");
        let test = parse(text).unwrap();
        assert_eq!(test.target.as_deref(), Some("http://127.0.0.1:3000"));
        assert_eq!(
            test.phases[1],
            PhaseSpec {
                name: "Busier".into(),
                duration: Duration::from_secs(3),
                arrival_rate: 10.0,
                ramp_to: Some(30.0),
            }
        );
        assert_eq!(test.timeout, Some(Duration::from_secs(5)));
        assert_eq!(test.default_headers.len(), 1);
        let rules: Vec<&str> = test.ensure.iter().map(|t| t.text()).collect();
        assert_eq!(rules, ["p99<=500ms", "errors<=1%", "p50<=200ms"]);
        assert_eq!(test.scenarios.len(), 2);
        assert_eq!((test.scenarios[0].weight, test.scenarios[1].weight), (1, 3));
        let Step::Request(login) = &test.scenarios[0].flow[0] else {
            panic!("a request first")
        };
        assert_eq!(login.name, "POST /api/v1/auth/login");
        assert_eq!(login.captures[0].variable, "authToken");
        assert!(matches!(test.scenarios[0].flow[1], Step::Think(d) if d == Duration::from_millis(200)));
        let Step::Request(browse) = &test.scenarios[1].flow[0] else {
            panic!("a request first")
        };
        assert_eq!(browse.qs.len(), 3);
    }

    #[test]
    fn unsupported_keys_are_refused_at_their_line() {
        // A JavaScript processor at the top level, line 1.
        let (line, message) = refusal(&format!("processor: \"./hooks.js\"\n{MINIMAL}"));
        assert_eq!(line, 1);
        assert!(message.contains("JavaScript"), "{message}");
        // A phase key Artillery has but the workbench does not run.
        let (line, message) = refusal(
            "config:\n  phases:\n    - duration: 1\n      arrivalRate: 2\n      maxVusers: 50\nscenarios:\n  - flow:\n      - get: { url: \"/\" }\n",
        );
        assert_eq!(line, 5);
        assert!(message.contains("`maxVusers` in a phase is not supported"), "{message}");
        // A flow action that is not a request or think.
        let (line, message) = refusal(&format!(
            "{MINIMAL}      - loop:\n          - get: {{ url: \"/\" }}\n        count: 3\n"
        ));
        assert_eq!(line, 9);
        assert!(message.contains("`loop` in a flow is not supported"), "{message}");
        // A connection pool setting: the user's model would silently change.
        let (line, message) = refusal(&MINIMAL.replace("config:\n", "config:\n  http:\n    pool: 10\n"));
        assert_eq!(line, 3);
        assert!(message.contains("`pool` in config.http"), "{message}");
        // A hook on a request.
        let (line, message) = refusal(&MINIMAL.replace("url: \"/\"", "url: \"/\"\n          beforeRequest: \"sign\""));
        assert_eq!(line, 9);
        assert!(message.contains("JavaScript"), "{message}");
        // An ensure metric it cannot check.
        let (line, message) = refusal(&MINIMAL.replace(
            "config:\n",
            "config:\n  ensure:\n    thresholds:\n      - http.codes.200: 95\n",
        ));
        assert_eq!(line, 4);
        assert!(message.contains("http.codes.200"), "{message}");
    }

    #[test]
    fn mistakes_are_explained_with_their_line() {
        let (line, message) = refusal("config:\n  phases: []\nscenarios: []\n");
        assert_eq!(line, 1);
        assert!(message.contains("config.phases is missing"), "{message}");
        let (line, message) = refusal(&MINIMAL.replace("url: \"/\"", "url: \"http://elsewhere/\""));
        assert_eq!(line, 7);
        assert!(message.contains("path starting with /"), "{message}");
        let (line, message) = refusal(&MINIMAL.replace("arrivalRate: 2", "arrivalRate: fast"));
        assert_eq!(line, 4);
        assert!(message.contains("arrivalRate must be a number"), "{message}");
        let (line, message) = refusal(&MINIMAL.replace("\"/\"", "\"/{{ $processEnvironment.MISSING }}\""));
        assert_eq!(line, 8);
        assert!(message.contains("MISSING is not set"), "{message}");
        let (line, message) = refusal("config: [1\n");
        assert_eq!(line, 2);
        assert!(message.contains("not valid YAML"), "{message}");
        // The environment is read when the file is loaded.
        let test = parse(&MINIMAL.replace("\"/\"", "\"/{{ $processEnvironment.API_TOKEN }}\"")).unwrap();
        let Step::Request(get) = &test.scenarios[0].flow[0] else {
            panic!()
        };
        let mut rng = <rand::rngs::SmallRng as rand::SeedableRng>::seed_from_u64(0);
        assert_eq!(get.url.to_string(&Default::default(), &mut rng), "/secret");
    }
}
