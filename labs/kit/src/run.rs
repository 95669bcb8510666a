//! `lab_kit::run::<Lab>()`: the whole `main` of a lab server — flags, variant, runtime, bind, serve, stop.
//!
//! A lab describes itself with [`LabServer`] (its extra flags, its variants, which runtime each runs on, how to
//! build its service) and its `main.rs` is one call. The contract the harness relies on (see the crate docs) is then
//! kept in one place for every lab.

use std::future::Future;
use std::pin::Pin;
use std::process::ExitCode;

use axum::Router;
use clap::{ArgMatches, Args, Command, FromArgMatches, ValueEnum};
use tokio::net::TcpListener;

use crate::error::{BoxError, ServeError};
use crate::{bind, build_runtime, shutdown_signal, RuntimeFlavor, ServerArgs};

/// A lab's server, described for [`run`]. The lab's own flags are the fields of the implementing struct
/// (`#[derive(clap::Args)]`); `--variant`, `--port` and `--host` are added by lab-kit.
pub trait LabServer: Args + Sized {
    /// The lab's variants, as `lab.toml` names them (`#[derive(clap::ValueEnum)]`).
    type Variant: ValueEnum + Copy;
    /// What building the service may fail with; `anyhow::Error` is fine.
    type Error: Into<BoxError>;
    /// One line for `--help`: what this server is.
    const ABOUT: &'static str;

    /// The runtime `variant` runs on: one event loop ([`RuntimeFlavor::CurrentThread`], like one Node.js process)
    /// or a pool ([`RuntimeFlavor::MultiThread`]).
    fn runtime(variant: Self::Variant) -> RuntimeFlavor;

    /// Whether `variant`'s routes get lab-kit's request metrics (`/metrics` is served either way). Yes, unless
    /// the variant's lesson is the cost of the request path itself, where a middleware would be measured too.
    fn instrument(variant: Self::Variant) -> bool {
        let _ = variant;
        true
    }

    /// Builds the service for `variant`. Runs inside the runtime, so it may connect to a database or spawn
    /// background tasks. Called before the port is bound: a server that cannot start never announces an address.
    fn app(self, variant: Self::Variant) -> impl Future<Output = Result<App, Self::Error>>;
}

/// The future a hand-written server runs on its listener.
pub type ServeFuture = Pin<Box<dyn Future<Output = Result<(), BoxError>>>>;

/// What a lab serves: an axum router (every lab), or a server of its own on the bound listener (the baseline
/// lab's bare hyper variant), which must stop on [`shutdown_signal`].
pub enum App {
    /// An axum router; `/healthz` and `/stats` come from [`crate::with_standard_routes`], `/metrics` from
    /// [`crate::telemetry`].
    Router(Router),
    /// A hand-written server (it serves no `/metrics`: lab-kit cannot add routes to it).
    Custom(Box<dyn FnOnce(TcpListener) -> ServeFuture>),
}

impl From<Router> for App {
    fn from(router: Router) -> App {
        App::Router(router)
    }
}

/// Runs the lab server described by `L` with the process's arguments: parses them (exiting with clap's usage
/// message when they are wrong), builds the runtime and the service, binds, prints `listening on ADDR`, serves
/// until SIGTERM or Ctrl-C. An error is printed on one line to stderr and the exit status is 1.
pub fn run<L: LabServer>() -> ExitCode {
    let matches = command::<L>().get_matches();
    match start::<L>(&matches) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", e.chain());
            ExitCode::FAILURE
        }
    }
}

/// The server's command line: lab-kit's flags and the lab's, `--variant` limited to the lab's variants (so `--help`
/// lists them). Usage messages name the binary as it was invoked: clap takes it from the first argument.
pub fn command<L: LabServer>() -> Command {
    let variants: Vec<clap::builder::PossibleValue> = L::Variant::value_variants()
        .iter()
        .filter_map(ValueEnum::to_possible_value)
        .collect();
    L::augment_args(ServerArgs::augment_args(Command::new("lab-server")))
        .about(L::ABOUT)
        .mut_arg("variant", |arg| {
            arg.value_parser(clap::builder::PossibleValuesParser::new(variants))
        })
}

fn start<L: LabServer>(matches: &ArgMatches) -> Result<(), ServeError> {
    let server = ServerArgs::from_arg_matches(matches).map_err(|e| ServeError::Setup(e.into()))?;
    let lab = L::from_arg_matches(matches).map_err(|e| ServeError::Setup(e.into()))?;
    let variant = server.variant_as::<L::Variant>()?;
    // A server may hold thousands of connections; a shell's soft limit is often 1,024 ([`crate::raise_fd_limit`]).
    if let Err(e) = crate::raise_fd_limit() {
        eprintln!("warning: could not raise the open-files limit: {e}");
    }
    // A heap-profiling build records from here and writes its profile when this function returns (the server has
    // stopped: everything it held is in the profile's peak).
    #[cfg(feature = "heap-profile")]
    let _heap_profile = crate::heap::profile::start();
    let runtime = build_runtime(L::runtime(variant)).map_err(ServeError::Runtime)?;
    runtime.block_on(async {
        // Metrics first, so the lab's own code may record from its first line (and read the lag probe).
        let telemetry = crate::telemetry();
        telemetry.start();
        let app = lab.app(variant).await.map_err(|e| ServeError::Setup(e.into()))?;
        let listener = bind(&server).await?;
        match app {
            App::Router(router) if L::instrument(variant) => {
                axum::serve(listener, crate::telemetry::instrument(router))
                    .with_graceful_shutdown(shutdown_signal())
                    .await
                    .map_err(|e| ServeError::Serve(e.into()))
            }
            App::Router(router) => axum::serve(listener, crate::telemetry::expose(router))
                .with_graceful_shutdown(shutdown_signal())
                .await
                .map_err(|e| ServeError::Serve(e.into())),
            App::Custom(serve) => serve(listener).await.map_err(ServeError::Serve),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A lab with one flag and two variants.
    #[derive(Args)]
    struct Demo {
        /// How slow.
        #[arg(long, default_value_t = 5)]
        slowness: u32,
    }

    #[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
    enum DemoVariant {
        Naive,
        Fast,
    }

    impl LabServer for Demo {
        type Variant = DemoVariant;
        type Error = std::io::Error;
        const ABOUT: &'static str = "A demo lab.";

        fn runtime(_: DemoVariant) -> RuntimeFlavor {
            RuntimeFlavor::CurrentThread
        }

        async fn app(self, _: DemoVariant) -> Result<App, std::io::Error> {
            Err(std::io::Error::other(format!(
                "the demo cannot start (slowness {})",
                self.slowness
            )))
        }
    }

    fn matches(args: &[&str]) -> Result<ArgMatches, clap::Error> {
        command::<Demo>().try_get_matches_from(std::iter::once("demo").chain(args.iter().copied()))
    }

    #[test]
    fn the_command_line_has_the_kits_flags_and_the_labs() {
        let m = matches(&["--variant", "fast", "--port", "7", "--slowness", "9"]).unwrap();
        assert_eq!(ServerArgs::from_arg_matches(&m).unwrap().port, 7);
        assert_eq!(Demo::from_arg_matches(&m).unwrap().slowness, 9);
        assert!(matches(&["--port", "7"]).is_err(), "--variant is required");
    }

    #[test]
    fn an_unknown_variant_is_refused_with_the_known_ones_before_anything_starts() {
        let e = matches(&["--variant", "quick"]).unwrap_err().to_string();
        assert!(
            e.contains("invalid value 'quick'") && e.contains("[possible values: naive, fast]"),
            "{e}"
        );
        assert!(command::<Demo>().render_help().to_string().contains("A demo lab."));
    }

    #[test]
    fn a_failed_setup_says_why_and_binds_nothing() {
        let e = start::<Demo>(&matches(&["--variant", "naive", "--slowness", "3"]).unwrap()).unwrap_err();
        assert_eq!(e.chain(), "the demo cannot start (slowness 3)");
    }
}
