//! The streams lab's server: `lab-streams --variant {buffered,streamed,streamed-gzip,unbounded,exercise}`.

fn main() -> std::process::ExitCode {
    lab_kit::run::<lab_streams::cli::Cli>()
}
