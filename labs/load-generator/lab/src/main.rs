//! The load-generator lab's server binary:
//! `lab-coordinated-omission --variant freezing [--freeze-ms 500] [--every-ms 2000]`.

fn main() -> std::process::ExitCode {
    lab_kit::run::<lab_coordinated_omission::cli::Cli>()
}
