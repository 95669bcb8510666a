//! The lab's server (`lab-process-manager --variant NAME --port N --home DIR`): a supervisor in the foreground,
//! running one of the ecosystem files in `labs/process-manager/ecosystems/`, on a port the lab harness gives it.
//!
//! lab-kit binds the port and prints `listening on ADDR`; the lab writes the ecosystem with that address to
//! `DIR/ecosystem.toml` — the file a `during` action can `start` again — and hands the bound socket to the
//! supervisor. Connections that arrive before the first instance is ready wait in the socket's queue. Requests, `/healthz` and `/stats` are all served by the instances on that socket; the demo
//! app adds the supervisor's counters to its `/stats`.

use std::path::PathBuf;

use lab_kit::{App, LabServer, RuntimeFlavor};

use crate::ecosystem::Ecosystem;
use crate::supervisor::{PolicyCode, Supervisor};

/// The lab's variants: an ecosystem file each.
pub const ECOSYSTEMS: &[(&str, &str)] = &[
    ("web", include_str!("../ecosystems/web.toml")),
    (
        "web-exit-on-sigterm",
        include_str!("../ecosystems/web-exit-on-sigterm.toml"),
    ),
    (
        "crash-loop-no-delay",
        include_str!("../ecosystems/crash-loop-no-delay.toml"),
    ),
    (
        "crash-loop-backoff",
        include_str!("../ecosystems/crash-loop-backoff.toml"),
    ),
    ("memory-slow-poll", include_str!("../ecosystems/memory-slow-poll.toml")),
    ("memory-fast-poll", include_str!("../ecosystems/memory-fast-poll.toml")),
    ("leak-shipped", include_str!("../ecosystems/leak-shipped.toml")),
    ("leak-fixed", include_str!("../ecosystems/leak-fixed.toml")),
];

/// The lab's variants: one ecosystem file each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Variant {
    /// Two draining instances (`ecosystems/web.toml`).
    Web,
    /// Two instances that exit at once on SIGTERM.
    WebExitOnSigterm,
    /// A crash loop restarted at once.
    CrashLoopNoDelay,
    /// A crash loop under PM2's backoff.
    CrashLoopBackoff,
    /// A leak, memory read every 2 s.
    MemorySlowPoll,
    /// A leak, memory read every 50 ms.
    MemoryFastPoll,
    /// The memory-leak drill's session service as shipped (`labs/incidents`), supervised with a memory limit.
    LeakShipped,
    /// The same service with the drill's fix.
    LeakFixed,
    /// The crash loop under the learner's restart policy (`exercise/src/lib.rs`).
    Exercise,
}

impl Variant {
    fn ecosystem(self) -> &'static str {
        if self == Variant::Exercise {
            return Variant::CrashLoopBackoff.ecosystem();
        }
        let name = clap::ValueEnum::to_possible_value(&self)
            .map(|v| v.get_name().to_string())
            .unwrap_or_default();
        ECOSYSTEMS.iter().find(|(n, _)| *n == name).map_or("", |(_, text)| text)
    }
}

/// The lab server's own flag (lab-kit adds `--variant`, `--port`, `--host`).
#[derive(Debug, clap::Args)]
pub struct Lab {
    /// The supervisor's home: control socket, logs, the ecosystem file (default: a new folder under the system's
    /// temporary directory).
    #[arg(long)]
    pub home: Option<PathBuf>,
}

impl LabServer for Lab {
    type Variant = Variant;
    type Error = anyhow::Error;
    const ABOUT: &'static str =
        "The process-manager lab's server: workbench-pm in the foreground running one ecosystem";

    fn runtime(_: Variant) -> RuntimeFlavor {
        // One thread: the supervisor forks its instances from it, and PR_SET_PDEATHSIG follows the forking thread.
        RuntimeFlavor::CurrentThread
    }

    async fn app(self, variant: Variant) -> anyhow::Result<App> {
        // Without --home, a temporary folder that lives as long as the server (removed when it stops).
        let (home, temporary) = match self.home {
            Some(home) => (home, None),
            None => {
                let dir = tempfile::Builder::new().prefix("workbench-pm-lab-").tempdir()?;
                (dir.path().to_path_buf(), Some(dir))
            }
        };
        std::fs::create_dir_all(&home)?;
        let template = variant.ecosystem();
        Ok(App::Custom(Box::new(move |listener| {
            Box::pin(async move {
                let listener = listener.into_std()?;
                let addr = listener.local_addr()?;
                let file = home.join("ecosystem.toml");
                std::fs::write(&file, template.replace("{listen}", &addr.to_string()))?;
                let ecosystem = Ecosystem::load(&file)?;
                let code = if variant == Variant::Exercise {
                    PolicyCode::Learner
                } else {
                    PolicyCode::Reference
                };
                let supervisor = Supervisor::with_policy_code(crate::daemon::paths(&home), code);
                supervisor.prebind(listener)?;
                crate::daemon::supervise(supervisor, Some(ecosystem), |_, _| {}).await?;
                drop(temporary);
                Ok(())
            })
        })))
    }
}
