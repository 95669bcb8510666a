//! `cargo xtask pm …`: the process-manager lab's supervisor, `workbench-pm`, built in release and run with the
//! arguments given (`cargo xtask pm start labs/process-manager/ecosystem.toml`, `pm list`, `pm reload web`, …).

use std::process::ExitCode;

use clap::Args;

/// Arguments passed through to workbench-pm.
#[derive(Debug, Args)]
pub struct PmArgs {
    /// workbench-pm's command and its arguments (`start FILE [--foreground]`, `list`, `reload APP`, `logs APP
    /// --lines N`, `stop`, `restart`, `delete`, `kill`; `help` for all).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, required = true)]
    pub args: Vec<String>,
}

/// Builds workbench-pm (and the demo app beside it), then becomes it: its exit status, signals and terminal are
/// the user's, as if it had been run directly.
pub fn run(args: PmArgs) -> anyhow::Result<ExitCode> {
    let binary = lab_harness::process::build_server(&crate::root(), "lab-process-manager", "workbench-pm")?;
    use std::os::unix::process::CommandExt;
    // exec only returns on failure.
    let error = std::process::Command::new(&binary).args(&args.args).exec();
    Err(anyhow::anyhow!("running {}: {error}", binary.display()))
}
