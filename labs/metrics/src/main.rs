//! The metrics lab's server: `lab-metrics --variant {none,instrumented,raw-path-label,naive,lookup-per-call,cached-handle,fixed-buckets,exercise}`.

fn main() -> std::process::ExitCode {
    lab_kit::run::<lab_metrics::cli::Cli>()
}
