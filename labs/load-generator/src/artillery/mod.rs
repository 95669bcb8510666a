//! Artillery test files, run by the workbench's generator: `cargo xtask load --artillery test.yml`.
//!
//! The seed's load-testing chapter writes its tests for Artillery, so a learner arrives with YAML like this:
//!
//! ```yaml
//! config:
//!   target: "http://127.0.0.1:3000"
//!   phases:
//!     - { duration: 30, arrivalRate: 5, name: "warm up" }
//!     - { duration: 60, arrivalRate: 20, rampTo: 80, name: "ramp" }
//!   ensure: { p95: 200, maxErrorRate: 1 }
//! scenarios:
//!   - name: "sign in, then read"
//!     flow:
//!       - post: { url: "/login", json: { user: "u{{ $randomNumber(1, 999) }}" }, capture: { json: "$.token", as: "token" } }
//!       - think: 1
//!       - get: { url: "/me", headers: { authorization: "Bearer {{ token }}" } }
//! ```
//!
//! # What runs, and what is refused
//!
//! Supported: `config.target`, `config.phases` (`duration`, `arrivalRate`, `rampTo`, `name`),
//! `config.defaults.headers`, `config.http.timeout`, `config.ensure` (`median`/`p90`/`p95`/`p99`/`p999`/`max` in
//! ms, `maxErrorRate` in %, and `thresholds` on `http.response_time.*`), `config.plugins` `ensure` and
//! `metrics-by-endpoint` (both built in); `scenarios` with `name`, `weight` and a `flow` of
//! `get`/`post`/`put`/`patch`/`delete`/`head`/`options` (`url`, `headers`, `qs`, `json`, `body`, `capture` by JSON
//! path) and `think`; templates `{{ variable }}`, `$randomNumber`, `$randomString`, `$randomElement`,
//! `$processEnvironment.NAME`. Anything else — JavaScript hooks (`processor`, `beforeRequest`), `loop`,
//! `payload` CSV files, other engines — is refused with its file and line, never silently skipped: a run that
//! quietly left half the test out would measure something else.
//!
//! # How the arrivals differ from Artillery's
//!
//! Both are open models: `arrivalRate: 20` starts twenty *virtual users* a second whatever the server does, and
//! each user walks its flow one request at a time. The differences are in how honestly that is kept:
//!
//! - arrivals are due at exact times (`i / rate`, or the integral of a ramp) and released by the same pacer as a
//!   fixed-rate run; how late each user started is measured as *arrival lag* and a run whose lag p99 passed 1 ms is
//!   marked invalid. Artillery starts users from Node.js timers on a busy event loop and does not report lateness;
//! - the users alive at once are capped (`--max-users`, default 10,000); an arrival over the cap is *dropped* and
//!   counted, where Artillery would keep creating users until the process runs out of memory or sockets;
//! - a request's latency runs from the moment its bytes left: inside a flow the user waits for each answer, as a
//!   person would, so that is the latency the user sees. The queueing a slow server causes shows up as more users
//!   alive at once and, past the cap, as dropped arrivals — not as requests sent late;
//! - each user has one keep-alive connection, opened at its first request (Artillery's default without
//!   `http.pool`), and `think` pauses with tokio's timer (millisecond resolution, fine for pauses of seconds).
//!
//! The report has one row per request step (method and URL as written), Artillery's `metrics-by-endpoint`, and
//! the users' fate: created, completed, failed (and why), dropped, unfinished.

mod config;
mod text;
mod users;

pub use config::{ArtilleryError, BodySpec, Capture, JsonTemplate, PhaseSpec, RequestStep, ScenarioSpec, Step, Test};
pub use text::{JsonPath, Text};
pub use users::{run, ArtilleryRun, Options, Users};
