//! The baseline lab's server: `lab-baseline --variant {hyper,axum}-{current,multi}-thread [--port N]`.

fn main() -> std::process::ExitCode {
    lab_kit::run::<lab_baseline::cli::Cli>()
}
