//! Running an Artillery test: virtual users arrive on the open model's schedule and each walks its scenario's flow.
//!
//! One generator thread (as Artillery runs one Node.js process per worker) keeps the arrival schedule with the same
//! [`Pacer`] as a fixed-rate run, so users arrive on time even when the server is slow; each user then sends its
//! requests one after another on its own keep-alive connection, thinking where the flow says so. A slow server
//! therefore makes users pile up — as real users do — and the number alive at once is capped (`max_users`), with
//! arrivals over the cap counted as dropped rather than silently not sent.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use http::{HeaderMap, HeaderValue, Method};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use super::config::{BodySpec, JsonTemplate, RequestStep, Step, Test};
use crate::connection::{self, Connection, SendError};
use crate::engine::is_idempotent;
use crate::generator_thread::run_measured;
use crate::pacer::Pacer;
use crate::plan::{drain_deadline, LoadError, Plan};
use crate::recorder::{micros, Outcome, Recorder};
use crate::report::{self, LoadReport};
use crate::scenario::RequestSpec;
use crate::schedule::{Mode, Phase, Schedule};
use crate::target::Target;

/// How to run a test beyond what its file says.
#[derive(Debug, Clone)]
pub struct Options {
    /// Where requests go (the file's `config.target`, or the command line's URL).
    pub target: Target,
    /// The longest wait for one response (`config.http.timeout`, else 10 s).
    pub timeout: Duration,
    /// The most users alive at once; arrivals beyond are dropped and counted.
    pub max_users: usize,
    /// The pacer's shortest gap between wake-ups ([`crate::pacer::DEFAULT_PACING`]).
    pub pacing: Duration,
    /// Requests completed so far, for a progress bar.
    pub progress: Arc<AtomicU64>,
}

/// What became of the virtual users (Artillery's `vusers.*` counters).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Users {
    /// Users that arrived and started their flow.
    pub created: u64,
    /// Users that finished every step.
    pub completed: u64,
    /// Users whose flow stopped early: a request got no response, or a capture found nothing.
    pub failed: u64,
    /// Arrivals not started because `max_users` were alive.
    pub dropped: u64,
    /// Users still in their flow when the run's drain deadline passed.
    pub unfinished: u64,
    /// The most users alive at once.
    pub peak_alive: u64,
    /// Why users failed, and how many of each.
    pub failures: std::collections::BTreeMap<String, u64>,
}

/// The result: the generator's usual report (one row per endpoint) and the users.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ArtilleryRun {
    /// Requests, as for any run; `load.mode` is `virtual-users`.
    #[serde(flatten)]
    pub report: LoadReport,
    /// The virtual users.
    pub users: Users,
}

/// Everything the users of the run share (one thread: `Rc`, `Cell`, `RefCell`).
struct Shared {
    test: Test,
    options: Options,
    /// Each request step's index in the report's rows.
    rows: HashMap<String, usize>,
    t0: Instant,
    recorder: RefCell<Recorder>,
    users: RefCell<Users>,
    alive: Cell<u64>,
}

/// Runs the test to its end (the last phase plus a drain grace) and reports.
pub fn run(test: &Test, options: &Options) -> Result<ArtilleryRun, LoadError> {
    let phases: Vec<Phase> = test
        .phases
        .iter()
        .map(|p| Phase {
            name: "arrivals",
            duration: p.duration,
            from_rps: p.arrival_rate,
            to_rps: p.ramp_to.unwrap_or(p.arrival_rate),
            steady: true,
        })
        .collect();
    let schedule = Arc::new(Schedule::new(&phases));
    let length = schedule.length();
    // One row per distinct request step, in the order they first appear.
    let mut names: Vec<String> = Vec::new();
    for scenario in &test.scenarios {
        for step in &scenario.flow {
            if let Step::Request(r) = step {
                if !names.contains(&r.name) {
                    names.push(r.name.clone());
                }
            }
        }
    }
    let rows = names.iter().enumerate().map(|(i, n)| (n.clone(), i)).collect();
    let rows_count = names.len();
    let (thread_test, thread_options) = (test.clone(), options.clone());
    let ((recorder, users), usage) = run_measured("load-users", true, move || async move {
        let shared = Rc::new(Shared {
            test: thread_test,
            options: thread_options,
            rows,
            t0: Instant::now() + Duration::from_millis(50),
            recorder: RefCell::new(Recorder::new(rows_count, false)),
            users: RefCell::new(Users::default()),
            alive: Cell::new(0),
        });
        arrivals(shared.clone(), schedule).await?;
        // Every user has been joined or aborted, and the pacer awaited: this is the last reference.
        let shared = Rc::try_unwrap(shared).ok().expect("every user has ended");
        Ok((shared.recorder.into_inner(), shared.users.into_inner()))
    })?;
    // The report of a closed run of the same length gives the table; then what differs is said.
    let requests = names
        .iter()
        .map(|n| {
            let mut spec = RequestSpec::get("/").expect("a plain path");
            spec.name = n.clone();
            spec
        })
        .collect();
    let mut plan = Plan::new(
        options.target.clone(),
        requests,
        Mode::Closed {
            warmup: Duration::ZERO,
            duration: length,
        },
    );
    plan.connections = users.peak_alive as usize;
    // Users arrive on a schedule: the generator is judged as a fixed-rate run's is.
    let mut report = report::assemble(&plan, None, &recorder, std::slice::from_ref(&usage), true);
    report.load.mode = "virtual-users".into();
    report.dropped = users.dropped;
    Ok(ArtilleryRun { report, users })
}

/// Starts each user when its arrival is due, until the schedule ends; then waits for the users still walking
/// their flow, up to the drain deadline.
async fn arrivals(shared: Rc<Shared>, schedule: Arc<Schedule>) -> std::io::Result<()> {
    let abort = Arc::new(AtomicBool::new(false));
    let pacer = Rc::new(Pacer::new(
        schedule.clone(),
        shared.t0,
        (1, 0),
        shared.options.pacing,
        abort.clone(),
    ));
    let pacing = tokio::task::spawn_local({
        let pacer = pacer.clone();
        async move { pacer.run().await }
    });
    let deadline = drain_deadline(shared.t0, schedule.length());
    let mut users = tokio::task::JoinSet::new();
    let mut rng = SmallRng::seed_from_u64(0x5eed);
    let weights: u32 = shared.test.scenarios.iter().map(|s| s.weight).sum();
    for j in 0..pacer.share() {
        pacer.wait(j).await;
        let due = shared.t0 + schedule.due(j).0;
        let lag = Instant::now().saturating_duration_since(due);
        shared.recorder.borrow_mut().send_lag.saturating_record(micros(lag));
        while users.try_join_next().is_some() {}
        if shared.alive.get() as usize >= shared.options.max_users {
            shared.users.borrow_mut().dropped += 1;
            continue;
        }
        let mut pick = rng.random_range(0..weights);
        let scenario = shared
            .test
            .scenarios
            .iter()
            .position(|s| {
                let hit = pick < s.weight;
                pick = pick.saturating_sub(s.weight);
                hit
            })
            .expect("a pick below the total weight lands on a scenario");
        let alive = shared.alive.get() + 1;
        shared.alive.set(alive);
        {
            let mut counts = shared.users.borrow_mut();
            counts.created += 1;
            counts.peak_alive = counts.peak_alive.max(alive);
        }
        let user = User {
            shared: shared.clone(),
            rng: SmallRng::seed_from_u64(j),
            vars: HashMap::new(),
            connection: None,
        };
        users.spawn_local(user.walk(scenario));
    }
    abort.store(true, Ordering::Relaxed);
    pacing.await.expect("the pacer panicked")?;
    // Let the users still in their flow finish, up to the deadline; the rest are counted as unfinished.
    let drained = tokio::time::timeout_at(deadline.into(), async { while users.join_next().await.is_some() {} });
    if drained.await.is_err() {
        shared.users.borrow_mut().unfinished += users.len() as u64;
        users.abort_all();
        while users.join_next().await.is_some() {}
    }
    Ok(())
}

/// Why a request got no response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Failure {
    Connect,
    Timeout,
    Io,
    /// The kept-alive connection closed before any byte of the response: may be retried once.
    Race,
}

/// One virtual user: its variables and its connection.
struct User {
    shared: Rc<Shared>,
    rng: SmallRng,
    vars: HashMap<String, String>,
    connection: Option<Connection>,
}

impl User {
    /// Walks scenario `index`'s flow, counting how it ended.
    async fn walk(mut self, index: usize) {
        let shared = self.shared.clone();
        let mut failure = None;
        for step in &shared.test.scenarios[index].flow {
            match step {
                Step::Think(pause) => tokio::time::sleep(*pause).await,
                Step::Request(request) => {
                    if let Err(why) = self.request(request).await {
                        failure = Some(why);
                        break;
                    }
                }
            }
        }
        let mut users = shared.users.borrow_mut();
        match failure {
            None => users.completed += 1,
            Some(why) => {
                users.failed += 1;
                *users.failures.entry(why).or_default() += 1;
            }
        }
        shared.alive.set(shared.alive.get() - 1);
    }

    /// Sends one request step and applies its captures; `Err` (the reason) ends the user's flow.
    async fn request(&mut self, step: &RequestStep) -> Result<(), String> {
        let shared = self.shared.clone();
        let (path, headers, body) = self.render(step)?;
        let mut bytes = Vec::new();
        let host = shared.options.target.host.as_bytes();
        connection::serialize(&step.method, &path, host, &headers, &body, false, &mut bytes);
        let head = step.method == Method::HEAD;
        let mut kept = (!step.captures.is_empty()).then(Vec::new);
        let row = shared.rows[&step.name];

        let sent = Instant::now();
        let mut outcome = self.exchange(&bytes, head, kept.as_mut(), sent).await;
        if outcome == Err(Failure::Race) && is_idempotent(&step.method) {
            // The keep-alive race (see `connection`): nothing reached the server's application; send once more.
            shared.recorder.borrow_mut().retried += 1;
            outcome = self.exchange(&bytes, head, kept.as_mut(), sent).await;
        }
        let done = Instant::now();
        let result = match outcome {
            Ok(status) => Outcome::Status(status),
            Err(Failure::Connect) => Outcome::Connect,
            Err(Failure::Timeout) => Outcome::Timeout,
            Err(Failure::Io | Failure::Race) => Outcome::Io,
        };
        {
            let mut recorder = shared.recorder.borrow_mut();
            recorder.tick(done - shared.t0);
            recorder.record(row, result, done - sent, Some(done - sent), done - shared.t0);
        }
        shared.options.progress.fetch_add(1, Ordering::Relaxed);
        match result {
            Outcome::Status(_) => {}
            Outcome::Timeout => return Err(format!("{}: no response within the timeout", step.name)),
            Outcome::Connect => return Err(format!("{}: could not connect", step.name)),
            Outcome::Io => return Err(format!("{}: the connection failed", step.name)),
        }
        for capture in &step.captures {
            let body = kept.as_deref().unwrap_or_default();
            match capture.path.find(body) {
                Some(value) => {
                    self.vars.insert(capture.variable.clone(), value);
                }
                None => return Err(format!("{}: capture of {} found nothing", step.name, capture.variable)),
            }
        }
        Ok(())
    }

    /// Sends on the user's connection (opening one if it has none), within the timeout.
    async fn exchange(
        &mut self,
        bytes: &[u8],
        head: bool,
        kept: Option<&mut Vec<u8>>,
        sent: Instant,
    ) -> Result<u16, Failure> {
        let shared = self.shared.clone();
        let deadline = sent + shared.options.timeout;
        let mut connection = match self.connection.take().filter(Connection::is_reusable) {
            Some(connection) => connection,
            None => {
                let begun = Instant::now();
                let opened = tokio::time::timeout_at(deadline.into(), Connection::open(shared.options.target.addr));
                match opened.await {
                    Ok(Ok(connection)) => {
                        shared
                            .recorder
                            .borrow_mut()
                            .connect
                            .saturating_record(micros(begun.elapsed()));
                        connection
                    }
                    Ok(Err(_)) => return Err(Failure::Connect),
                    Err(_) => return Err(Failure::Timeout),
                }
            }
        };
        let answer = tokio::time::timeout_at(deadline.into(), connection.send_keeping(bytes, head, kept)).await;
        match answer {
            Ok(Ok(answer)) => {
                let status = answer.status;
                self.connection = Some(connection);
                Ok(status)
            }
            Ok(Err(SendError::ClosedBeforeResponse)) => Err(Failure::Race),
            Ok(Err(SendError::Io)) => Err(Failure::Io),
            Err(_) => Err(Failure::Timeout),
        }
    }

    /// The request's path with its query, its headers, and its body, for this user.
    fn render(&mut self, step: &RequestStep) -> Result<(String, HeaderMap, Vec<u8>), String> {
        let shared = self.shared.clone();
        let mut path = shared.options.target.path.trim_end_matches('/').to_string();
        step.url.render(&self.vars, &mut self.rng, &mut path);
        for (i, (name, value)) in step.qs.iter().enumerate() {
            path.push(if i == 0 && !path.contains('?') { '?' } else { '&' });
            percent_encode(name, &mut path);
            path.push('=');
            percent_encode(&value.to_string(&self.vars, &mut self.rng), &mut path);
        }
        let mut headers = HeaderMap::new();
        for (name, value) in shared.test.default_headers.iter().chain(&step.headers) {
            let text = value.to_string(&self.vars, &mut self.rng);
            let value = HeaderValue::try_from(text)
                .map_err(|_| format!("{}: header {name} is not a valid header value", step.name))?;
            headers.insert(name.clone(), value);
        }
        let body = match &step.body {
            None => Vec::new(),
            Some(BodySpec::Raw(text)) => text.to_string(&self.vars, &mut self.rng).into_bytes(),
            Some(BodySpec::Json(json)) => {
                if !headers.contains_key(http::header::CONTENT_TYPE) {
                    headers.insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
                }
                let value = render_json(json, &self.vars, &mut self.rng);
                serde_json::to_vec(&value).expect("a JSON value serialises")
            }
        };
        Ok((path, headers, body))
    }
}

/// A JSON template with this user's values; a string that is a lone `$randomNumber` becomes a number.
fn render_json(json: &JsonTemplate, vars: &HashMap<String, String>, rng: &mut SmallRng) -> serde_json::Value {
    match json {
        JsonTemplate::Plain(value) => value.clone(),
        JsonTemplate::Text(text) => {
            let rendered = text.to_string(vars, rng);
            match rendered.parse::<i64>() {
                Ok(n) if text.is_number() => n.into(),
                _ => rendered.into(),
            }
        }
        JsonTemplate::Array(items) => items.iter().map(|i| render_json(i, vars, rng)).collect(),
        JsonTemplate::Object(fields) => fields
            .iter()
            .map(|(k, v)| (k.clone(), render_json(v, vars, rng)))
            .collect::<serde_json::Map<_, _>>()
            .into(),
    }
}

/// Appends `text` to `out`, percent-encoding all but RFC 3986's unreserved characters.
fn percent_encode(text: &str, out: &mut String) {
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_percent_encoded() {
        let mut out = String::new();
        percent_encode("-createdAt & more/é", &mut out);
        assert_eq!(out, "-createdAt%20%26%20more%2F%C3%A9");
    }
}
