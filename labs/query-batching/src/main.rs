//! The query-batching lab's server: `lab-query-batching --variant {n-plus-one,dataloader,join,exercise,no-index,index}`.

fn main() -> std::process::ExitCode {
    lab_kit::run::<lab_query_batching::cli::Cli>()
}
