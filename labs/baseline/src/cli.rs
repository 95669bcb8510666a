//! The server's variants — two frameworks on two runtimes — and how each is started by `lab_kit::run`.

use lab_kit::{App, Counters, LabServer, RuntimeFlavor};

use crate::{hyper_server, server, COUNTERS};

/// Hello world four ways: framework × runtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Variant {
    /// Bare hyper on one thread.
    HyperCurrentThread,
    /// Bare hyper on a worker per core.
    HyperMultiThread,
    /// axum on one thread.
    AxumCurrentThread,
    /// axum on a worker per core.
    AxumMultiThread,
}

/// The baseline lab has no flags of its own.
#[derive(clap::Args)]
pub struct Cli {}

impl LabServer for Cli {
    type Variant = Variant;
    type Error = std::convert::Infallible;
    const ABOUT: &'static str = "Hello world four ways.";

    fn runtime(variant: Variant) -> RuntimeFlavor {
        match variant {
            Variant::HyperCurrentThread | Variant::AxumCurrentThread => RuntimeFlavor::CurrentThread,
            Variant::HyperMultiThread | Variant::AxumMultiThread => RuntimeFlavor::MultiThread,
        }
    }

    /// No request metrics: this lab measures what the request path costs, and a middleware would be part of it
    /// (its `/metrics` still shows the process and the runtime). The metrics lab measures the middleware.
    fn instrument(_: Variant) -> bool {
        false
    }

    async fn app(self, variant: Variant) -> Result<App, Self::Error> {
        let counters = Counters::new(COUNTERS);
        Ok(match variant {
            Variant::HyperCurrentThread | Variant::HyperMultiThread => App::Custom(Box::new(move |listener| {
                Box::pin(async move { hyper_server::serve(listener, counters).await.map_err(Into::into) })
            })),
            Variant::AxumCurrentThread | Variant::AxumMultiThread => server::app(counters).into(),
        })
    }
}
