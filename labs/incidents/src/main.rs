//! The incident drills' server: `lab-incidents --variant {broken,fixed,yours}` serves every drill's routes with the
//! code as it shipped, the reference fix, or the learner's (`labs/incidents/exercise`).

fn main() -> std::process::ExitCode {
    lab_kit::run::<lab_incidents::cli::Cli>()
}
