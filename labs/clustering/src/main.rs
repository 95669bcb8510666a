//! The clustering lab's server: `lab-clustering --variant {single,multi-thread,shared-listener,reuseport,round-robin}`.
//! The same binary is each worker of a cluster: the primary starts it again with `LAB_CLUSTERING_WORKER` set.

fn main() -> std::process::ExitCode {
    lab_clustering::worker::main_if_worker().unwrap_or_else(lab_kit::run::<lab_clustering::cli::Cli>)
}
