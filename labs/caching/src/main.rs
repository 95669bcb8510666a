//! The caching lab's server: `lab-caching --variant {naive,lru,moka,single-flight,exercise,layered} [options]`.

fn main() -> std::process::ExitCode {
    lab_kit::run::<lab_caching::cli::Cli>()
}
