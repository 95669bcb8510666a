//! `pm-demo-app`: the service the process-manager lab supervises (see `lab_process_manager::server`).

use clap::Parser;

fn main() -> std::process::ExitCode {
    match lab_process_manager::server::main(lab_process_manager::server::DemoArgs::parse()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
