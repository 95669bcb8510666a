//! The server's flags and how each variant is put together: what `lab_kit::run` starts.

use std::sync::Arc;

use lab_kit::{App, Counters, LabServer, RuntimeFlavor};

use crate::server::{app, AppState, Recording, COUNTERS, HOT_COUNTER};

/// The metrics lab's own flags.
#[derive(clap::Args)]
pub struct Cli {
    /// Bumps of the hot counter per request, in the lookup variants.
    #[arg(long, default_value_t = 100)]
    hot_loop: u32,
}

/// How the service records its metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Variant {
    /// No request metrics at all.
    None,
    /// lab-kit's middleware: by route template.
    Instrumented,
    /// The same families labelled by the raw path.
    RawPathLabel,
    /// Every latency kept in a Vec behind a lock.
    Naive,
    /// Instrumented, plus a hot counter looked up on every bump.
    LookupPerCall,
    /// Instrumented, plus the hot counter bumped through a cached handle.
    CachedHandle,
    /// One fixed-bucket histogram written by hand (the exercise's reference).
    FixedBuckets,
    /// Your histogram, from labs/metrics/exercise.
    Exercise,
}

impl LabServer for Cli {
    type Variant = Variant;
    type Error = anyhow::Error;
    const ABOUT: &'static str = "A user service, instrumented seven ways.";

    fn runtime(_: Variant) -> RuntimeFlavor {
        RuntimeFlavor::MultiThread
    }

    /// lab-kit's request middleware where the variant is "the production way"; the others record their own way
    /// (or not at all), and `/metrics` still shows the process and the runtime.
    fn instrument(variant: Variant) -> bool {
        matches!(
            variant,
            Variant::Instrumented | Variant::LookupPerCall | Variant::CachedHandle
        )
    }

    async fn app(self, variant: Variant) -> Result<App, Self::Error> {
        let recording = match variant {
            Variant::None | Variant::Instrumented => Recording::Kit,
            Variant::RawPathLabel => Recording::RawPath,
            Variant::Naive => Recording::Naive(Arc::default()),
            Variant::LookupPerCall => Recording::LookupPerCall {
                hot_loop: self.hot_loop,
            },
            Variant::CachedHandle => Recording::CachedHandle {
                hot_loop: self.hot_loop,
                counter: metrics::counter!(HOT_COUNTER, "cache" => "users"),
            },
            Variant::FixedBuckets => {
                let bounds = crate::fixed_buckets::DEFAULT_BOUNDS;
                let histogram = crate::fixed_buckets::LatencyHistogram::new(bounds)
                    .map_err(|e| anyhow::anyhow!("the reference histogram refused {bounds:?}: {}", e.0))?;
                Recording::Buckets(Arc::new(histogram))
            }
            Variant::Exercise => {
                let bounds = exercise_metrics::DEFAULT_BOUNDS;
                let histogram = exercise_metrics::LatencyHistogram::new(bounds)
                    .map_err(|e| anyhow::anyhow!("your histogram refused the default bounds {bounds:?}: {}", e.0))?;
                Recording::Buckets(Arc::new(histogram))
            }
        };
        let state = AppState {
            recording,
            counters: Counters::new(COUNTERS),
        };
        Ok(app(Arc::new(state)).into())
    }
}
