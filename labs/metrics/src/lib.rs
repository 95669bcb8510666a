//! `lab-metrics`: one small user service, instrumented seven ways, to measure what metrics cost.
//!
//! The seed's monitoring chapter instruments an Express app with prom-client: a counter and a histogram per
//! request, labelled by route, and `collectDefaultMetrics`. Every lab here already has that through lab-kit
//! ([`lab_kit::telemetry`]); this lab takes it apart:
//!
//! | variant | request metrics | what it shows |
//! |---|---|---|
//! | `none` | none | the floor: what the service costs without instrumentation |
//! | `instrumented` | lab-kit's middleware: a counter and a histogram by *route template* | the production way |
//! | `raw-path-label` | the same families, labelled by the *raw path* | cardinality: one series per user id |
//! | `naive` | a `Mutex<HashMap<String, Vec<f64>>>` keeping every latency ([`naive`]) | what people write first |
//! | `lookup-per-call` | instrumented, and a hot counter looked up by name on every bump | the registry lookup's cost |
//! | `cached-handle` | instrumented, and the same counter bumped through a handle fetched once | the cure |
//! | `fixed-buckets` | one hand-written fixed-bucket histogram ([`fixed_buckets`], the exercise's reference) | what a histogram is |
//! | `exercise` | your histogram (`labs/metrics/exercise`) | as implemented |
//!
//! The route is `GET /users/{id}`: a small JSON answer, the same in every variant. `/stats` reports what the
//! lessons count: the series the variant's registry exposes, its exposition's size, and how many numbers it keeps.

pub mod buckets;
pub mod cli;
/// The exercise's reference: a fixed-bucket histogram with Prometheus exposition (`exercise/solution.rs`).
#[path = "../exercise/solution.rs"]
pub mod fixed_buckets;
pub mod naive;
pub mod raw_path;
pub mod server;
