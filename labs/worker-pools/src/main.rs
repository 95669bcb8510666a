//! The worker-pools lab's server: `lab-worker-pools --variant {inline,spawn-blocking,semaphore,bounded-pool,exercise}`.

fn main() -> std::process::ExitCode {
    lab_kit::run::<lab_worker_pools::cli::Cli>()
}
