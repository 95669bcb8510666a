//! `lab-harness`: runs a lab the same way every time, so that its numbers can be compared.
//!
//! For each variant of a lab: build the server in release, start it on an ephemeral port, wait until `/healthz`
//! answers, drive the profile's load through the in-process load generator, sample the server's CPU and peak RSS
//! from /proc, read its `/stats` counters, stop it (SIGTERM, then SIGKILL). Then judge each lesson — a ratio of
//! one metric between two variants *of the same run* — and write the report (JSON for tools, HTML for people).
//!
//! The harness knows nothing about any particular lab: variants, profiles and lessons are data in `lab.toml`.
//!
//! | module | what it holds |
//! |---|---|
//! | [`manifest`] | `lab.toml`: reading, validating (errors name file and line), finding every lab |
//! | [`cpu_profile`] | `--flamegraph`: each variant's CPU profile, taken in-process by the server, and its flamegraph |
//! | [`drill`] | incident drills: a lab manifest plus what the on-call engineer is told, the file to fix, the hints |
//! | [`process`] | building and starting lab servers; stopping them on success, failure, Ctrl-C and panic |
//! | [`during`] | actions mid-run (`during = [{ at, run }]`): a reload, a kill, at a set time under load |
//! | [`probe`] | the two HTTP GETs the harness makes itself: `/healthz` and `/stats` |
//! | [`run`] | one lab run, variant by variant |
//! | [`sampling`] | the server's `/metrics` sampled during a run: time series (memory, lag, rates) for the report |
//! | [`prometheus`] | `--prometheus`: a private Prometheus scraping each variant, its p99 beside the generator's |
//! | [`lessons`] | judging claims by ratios |
//! | [`metric`] | the metric names a lesson may compare, and how each is read off a report |
//! | [`truth`] | lesson truth: each lesson's verdicts over repeated runs (`--repeat`) |
//! | [`report`] | the run report (the JSON contract of DESIGN.md); its renderers: table, Markdown, HTML |
//! | [`machine`] | which machine the numbers came from |
//! | [`error`] | what can go wrong, by who can fix it: bad input, the environment, a lesson that did not hold |

pub mod cpu_profile;
pub mod drill;
pub mod during;
pub mod error;
pub mod heap_profile;
pub mod lessons;
pub mod machine;
pub mod manifest;
pub mod metric;
pub mod probe;
pub mod process;
pub mod prometheus;
pub mod report;
pub mod run;
pub mod sampling;
pub mod truth;

pub use error::{error_chain, RunError};
pub use manifest::{discover, Manifest, ManifestError};
pub use report::RunReport;
pub use run::{run_lab, RunOptions};
