//! `workbench-pm`: the supervisor and its command line (see `lab_process_manager::cli`).

fn main() -> std::process::ExitCode {
    lab_process_manager::cli::main()
}
