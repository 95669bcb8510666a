//! # Process manager: keep a service up, replace it without dropping a request, restart it without a storm
//!
//! PM2 is what most Node.js services run under: it starts N copies of the app on one port (cluster mode),
//! restarts a copy that crashes, replaces them all one by one for a deploy (`pm2 reload`), restarts one that grows
//! too big (`max_memory_restart`), and keeps their logs. This lab builds the same thing — `workbench-pm`, a real
//! supervisor you can run your own service under — and measures what each of those promises is worth under load.
//!
//! The lessons, each a ratio from one run (`cargo xtask lab process-manager`):
//!
//! - a rolling reload loses **no** request; the seed's deploy script (`reload`, then `delete all; start`) loses
//!   every request sent while the port was closed;
//! - an app that exits at once on SIGTERM fails every request it was serving; one that drains fails none;
//! - a crash loop restarted at once burns restarts (and CPU) by the hundred; PM2's backoff by the handful;
//! - memory read every 2 s notices a leak far further over the limit than memory read every 50 ms.
//!
//! | module | what it holds |
//! |---|---|
//! | [`ecosystem`] | the ecosystem file (TOML): apps, instances, readiness, timeouts, limits; errors with file:line |
//! | [`supervisor`] | slots and the four moves — launch, crash, replace (rolling), stop — and the memory poll |
//! | [`instance`] | starting one instance: the inherited socket (fd 3), `NOTIFY_SOCKET`, its process group, its logs |
//! | [`restart_policy`] | PM2's exponential backoff, the reset after 30 s up, "errored" after too many crashes |
//! | [`logs`] | log files with size-based rotation, and `logs --lines N` |
//! | [`control`] | the control socket: JSON lines between the CLI and the supervisor |
//! | [`daemon`] | running a supervisor in the foreground or as a background daemon |
//! | [`procfs`] | RSS, peak RSS and CPU from `/proc` |
//! | [`drain`] | the demo app's server loop: draining with `Connection: close` before closing idle connections |
//! | [`server`] | the service the lab supervises: boot time, READY=1, drain or exit on SIGTERM, leak, crash |
//! | [`cli`] | `workbench-pm`'s commands, in PM2's words |
//! | [`lab`] | the lab's server: a foreground supervisor running one of `ecosystems/*.toml` |

pub mod cli;
pub mod control;
pub mod daemon;
pub mod drain;
pub mod ecosystem;
pub mod instance;
pub mod lab;
pub mod logs;
pub mod procfs;
/// The exercise's reference: PM2's restart policy (`exercise/solution.rs`).
#[path = "../exercise/solution.rs"]
pub mod restart_policy;
pub mod server;
pub mod supervisor;
