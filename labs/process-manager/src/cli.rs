//! `workbench-pm`: PM2's commands for this supervisor.
//!
//! | PM2 | workbench-pm |
//! |---|---|
//! | `pm2 start ecosystem.config.js` | `workbench-pm start ecosystem.toml` (starts the daemon if none runs) |
//! | `pm2 start … --no-daemon` | `workbench-pm start ecosystem.toml --foreground` |
//! | `pm2 list` | `workbench-pm list` |
//! | `pm2 reload web` / `restart` / `stop` / `delete` | the same words |
//! | `pm2 logs web --lines 50 --nostream` | `workbench-pm logs web --lines 50` |
//! | `pm2 sendSignal SIGKILL web` | `workbench-pm signal SIGKILL web [--id 0]` |
//! | `pm2 kill` | `workbench-pm kill` |

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::control::{self, Answer, Request};
use crate::daemon;
use crate::ecosystem::Ecosystem;
use crate::logs;
use crate::supervisor::{Row, Supervisor};

/// A process manager in PM2's words: cluster mode on one inherited socket, readiness, rolling reload, backoff,
/// memory restarts, rotated logs.
#[derive(Debug, Parser)]
#[command(name = "workbench-pm")]
pub struct Cli {
    /// Where the supervisor keeps its control socket and logs (default: $WORKBENCH_PM_HOME, else ~/.workbench-pm).
    #[arg(long, global = true)]
    pub home: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the apps of an ecosystem file (and the background supervisor, if none is running).
    Start {
        /// The ecosystem file (TOML).
        file: PathBuf,
        /// Supervise in this terminal instead of a background daemon; Ctrl-C stops everything.
        #[arg(long)]
        foreground: bool,
    },
    /// Stop an app's instances (its port is closed).
    Stop {
        /// App name, or `all`.
        app: String,
    },
    /// Stop every instance of an app, then start them again (the port stays open).
    Restart {
        /// App name, or `all`.
        app: String,
    },
    /// Replace an app's instances one at a time, each new one ready before the old one stops: no request lost.
    Reload {
        /// App name, or `all`.
        app: String,
    },
    /// Stop an app and forget it.
    Delete {
        /// App name, or `all`.
        app: String,
    },
    /// Send a signal to an app's instances, or to one (`--id`): `signal SIGKILL web --id 0` is `kill -9` of one
    /// instance, which the supervisor then restarts as a crash (PM2's `sendSignal`).
    Signal {
        /// SIGKILL, SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2, SIGSTOP, SIGCONT (or the number).
        signal: String,
        /// App name, or `all`.
        app: String,
        /// Only this instance.
        #[arg(long)]
        id: Option<usize>,
    },
    /// The process table: pid, status, uptime, restarts, CPU, memory.
    #[command(alias = "ls")]
    List {
        /// JSON rows instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// The last lines of an app's logs (every app's without a name).
    Logs {
        /// App name.
        app: Option<String>,
        /// Lines per file.
        #[arg(long, default_value_t = 15)]
        lines: usize,
    },
    /// Stop every app and the supervisor itself.
    Kill,
    /// (internal) The background supervisor, as `start` launches it.
    #[command(hide = true)]
    Daemon,
}

/// `main` of `workbench-pm`.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let home = daemon::home(cli.home);
    // One thread: the supervisor forks its instances from it, so their PR_SET_PDEATHSIG ties them to a thread
    // that lives as long as the process.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let socket = control::socket_path(&home);
    let request = match cli.command {
        Command::Start { file, foreground } => {
            let file = std::path::absolute(&file).with_context(|| format!("{}", file.display()))?;
            // Checked here, so a mistake is reported with its line before any daemon is started.
            let ecosystem = Ecosystem::load(&file)?;
            if foreground {
                let supervisor = Supervisor::new(daemon::paths(&home));
                runtime.block_on(daemon::supervise(supervisor, Some(ecosystem), |s, message| {
                    println!("{message}");
                    print_table(&s.list());
                    println!("supervising in the foreground; Ctrl-C stops every app");
                }))?;
                return Ok(ExitCode::SUCCESS);
            }
            if std::os::unix::net::UnixStream::connect(&socket).is_err() {
                daemon::spawn_daemon(&home)?;
            }
            Request::Start { file }
        }
        Command::Daemon => {
            let supervisor = Supervisor::new(daemon::paths(&home));
            runtime.block_on(daemon::supervise(supervisor, None, |_, _| {
                println!("supervisor daemon {} ready", std::process::id());
            }))?;
            return Ok(ExitCode::SUCCESS);
        }
        Command::Logs { app, lines } => {
            print_logs(&daemon::paths(&home).logs, app.as_deref(), lines);
            return Ok(ExitCode::SUCCESS);
        }
        Command::Stop { app } => Request::Stop { app },
        Command::Restart { app } => Request::Restart { app },
        Command::Reload { app } => Request::Reload { app },
        Command::Delete { app } => Request::Delete { app },
        Command::Signal { signal, app, id } => Request::Signal { app, id, signal },
        Command::List { json } => {
            let answer = runtime.block_on(control::ask(&socket, &Request::List))?;
            if json {
                println!("{}", serde_json::to_string_pretty(&answer.rows)?);
            } else {
                print_table(&answer.rows);
            }
            return Ok(ExitCode::SUCCESS);
        }
        Command::Kill => {
            let answer = runtime.block_on(control::ask(&socket, &Request::Kill))?;
            println!("{}", answer.message);
            // The daemon stops its apps and then removes its socket: wait for that, so `kill` returns when done.
            let deadline = std::time::Instant::now() + Duration::from_secs(60);
            while socket.exists() && std::time::Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            return Ok(ExitCode::SUCCESS);
        }
    };
    let answer: Answer = runtime.block_on(control::ask(&socket, &request))?;
    if !answer.ok {
        eprintln!("error: {}", answer.message);
        return Ok(ExitCode::FAILURE);
    }
    println!("{}", answer.message);
    let rows = runtime.block_on(control::ask(&socket, &Request::List))?.rows;
    print_table(&rows);
    // Something that did not come up is a failure of the command that asked for it.
    let errored = rows.iter().any(|r| r.status == "errored");
    Ok(if errored { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

/// The process table, as PM2 prints it.
pub fn print_table(rows: &[Row]) {
    let mut table = comfy_table::Table::new();
    table.set_header(["app", "id", "pid", "status", "uptime", "restarts", "cpu", "memory"]);
    for r in rows {
        table.add_row([
            r.app.clone(),
            r.id.to_string(),
            r.pid.map_or("-".into(), |p| p.to_string()),
            r.status.clone(),
            humantime::format_duration(Duration::from_secs(r.uptime_ms / 1000)).to_string(),
            r.restarts.to_string(),
            format!("{:.0}%", r.cpu_percent),
            format!("{:.1} MiB", r.memory_bytes as f64 / (1024.0 * 1024.0)),
        ]);
    }
    println!("{table}");
    for r in rows.iter().filter(|r| r.status == "errored") {
        if let Some(why) = &r.last_error {
            println!("{}[{}] errored: {why}", r.app, r.id);
        }
    }
}

fn print_logs(dir: &std::path::Path, app: Option<&str>, lines: usize) {
    let files = crate::instance::app_logs(dir, app);
    if files.is_empty() {
        println!(
            "no logs in {}{}",
            dir.display(),
            app.map(|a| format!(" for {a}")).unwrap_or_default()
        );
    }
    for file in files {
        println!("==> {} (last {lines} lines) <==", file.display());
        for line in logs::last_lines(&file, lines) {
            println!("{line}");
        }
    }
}
