//! The shapes `lab.toml` is read into, before validation: serde's view, with spans for line numbers.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use super::{Better, Exercise, ModeKind};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawManifest {
    pub(super) name: Spanned<String>,
    pub(super) title: String,
    pub(super) chapter: Option<String>,
    pub(super) server: String,
    pub(super) package: Option<String>,
    #[serde(default)]
    pub(super) also_build: Vec<String>,
    pub(super) baseline: Option<Spanned<String>>,
    pub(super) variants: Vec<Spanned<RawVariant>>,
    pub(super) profile: BTreeMap<String, Spanned<RawProfile>>,
    #[serde(default)]
    pub(super) lesson: Vec<Spanned<RawLesson>>,
    #[serde(default)]
    pub(super) exercise: Vec<Spanned<Exercise>>,
    pub(super) sampling: Option<Spanned<RawSampling>>,
}

/// `[sampling]`: `every = "1s"`, `series = { name = "query", … }`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSampling {
    pub(super) every: Option<String>,
    pub(super) series: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawVariant {
    pub(super) name: String,
    /// Which of the server's variants this runs (`--variant`); the variant's own name when absent.
    pub(super) serves: Option<String>,
    /// Further arguments, after `--variant <serves>`.
    #[serde(default)]
    pub(super) args: Vec<String>,
    pub(super) mode: Option<ModeKind>,
    pub(super) connections: Option<usize>,
    pub(super) rate: Option<f64>,
    pub(super) requires_env: Option<String>,
    pub(super) path: Option<String>,
    #[serde(default)]
    pub(super) on_demand: bool,
    pub(super) new_connection: Option<bool>,
    pub(super) timeout: Option<String>,
    /// With `path`: the request's method, headers and body.
    pub(super) method: Option<String>,
    #[serde(default)]
    pub(super) headers: BTreeMap<String, String>,
    pub(super) body: Option<RawBody>,
    /// A slow client: `"1MB/s"`.
    pub(super) upload_rate: Option<String>,
    pub(super) read_rate: Option<String>,
    /// Actions mid-run: `during = [{ at = "2s", run = "workbench-pm reload all --home {run_dir}" }]`.
    #[serde(default)]
    pub(super) during: Vec<RawAction>,
}

/// One action of `during`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAction {
    pub(super) at: String,
    pub(super) run: String,
}

/// `body = { file = "…" }` or `body = { head = "…", repeat = "…", size = "32MB" }`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawBody {
    pub(super) file: Option<String>,
    #[serde(default)]
    pub(super) head: String,
    pub(super) repeat: Option<String>,
    pub(super) size: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawProfile {
    pub(super) mode: ModeKind,
    pub(super) rate: Option<f64>,
    pub(super) duration: String,
    #[serde(default)]
    pub(super) warmup: Option<String>,
    #[serde(default)]
    pub(super) ramp: Option<String>,
    pub(super) connections: usize,
    #[serde(default = "one")]
    pub(super) threads: usize,
    pub(super) path: Option<String>,
    pub(super) scenario: Option<String>,
    #[serde(default)]
    pub(super) slo: Option<String>,
    #[serde(default)]
    pub(super) arrivals: Option<String>,
    #[serde(default)]
    pub(super) new_connection: bool,
    pub(super) timeout: Option<String>,
    pub(super) message_size: Option<usize>,
}

fn one() -> usize {
    1
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLesson {
    pub(super) claim: String,
    pub(super) metric: String,
    pub(super) better: Better,
    pub(super) baseline: String,
    pub(super) variant: String,
    pub(super) at_least: f64,
    pub(super) variant_at_most: Option<f64>,
}
