//! The baseline lab's server: `lab-baseline --variant {hyper,axum}-{current,multi}-thread [--port N]`.

use anyhow::bail;
use clap::Parser;
use lab_baseline::{hyper_server, server, COUNTERS};
use lab_kit::{Counters, RuntimeFlavor, ServerArgs};

/// Hello world four ways.
#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    server: ServerArgs,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let (framework, flavor) = match cli.server.variant.as_str() {
        "hyper-current-thread" => ("hyper", RuntimeFlavor::CurrentThread),
        "hyper-multi-thread" => ("hyper", RuntimeFlavor::MultiThread),
        "axum-current-thread" => ("axum", RuntimeFlavor::CurrentThread),
        "axum-multi-thread" => ("axum", RuntimeFlavor::MultiThread),
        other => bail!(
            "unknown variant {other:?}; known: hyper-current-thread, hyper-multi-thread, axum-current-thread, axum-multi-thread"
        ),
    };
    let counters = Counters::new(COUNTERS);
    lab_kit::build_runtime(flavor)?.block_on(async {
        if framework == "hyper" {
            let listener = lab_kit::bind(&cli.server).await?;
            hyper_server::serve(listener, counters).await
        } else {
            lab_kit::serve(&cli.server, server::app(counters)).await
        }
    })
}
