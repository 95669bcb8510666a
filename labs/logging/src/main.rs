//! The logging lab's server: `lab-logging --variant {println,tracing-sync,non-blocking-lossy,non-blocking-backpressure,filtered}`.

fn main() -> std::process::ExitCode {
    lab_kit::run::<lab_logging::cli::Cli>()
}
