//! The process-manager lab's server: `lab-process-manager --variant NAME --port N --home DIR` (see `lab`).

fn main() -> std::process::ExitCode {
    lab_kit::run::<lab_process_manager::lab::Lab>()
}
