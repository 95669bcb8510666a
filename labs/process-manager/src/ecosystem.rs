//! The ecosystem file: PM2's `ecosystem.config.js`, in TOML, with every default written down.
//!
//! ```toml
//! [[app]]
//! name = "web"
//! command = "pm-demo-app"          # a path, or a name looked up beside workbench-pm and then on PATH
//! args = ["--boot-time", "300ms"]
//! env = { GREETING = "hello" }
//! instances = 2
//! listen = "127.0.0.1:3000"        # cluster mode: the supervisor binds it; every instance inherits it (fd 3)
//! ready = "notify"                 # READY=1 on $NOTIFY_SOCKET (PM2's wait_ready); "spawn": ready once started
//! ready_timeout = "10s"
//! kill_timeout = "5s"              # SIGTERM, then SIGKILL this long after
//! exp_backoff_restart_delay = "100ms"  # x1.5 per crash, at most 15 s, reset after 30 s up; "0ms" = no delay
//! max_restarts = 16                # crashes in a row (no 30 s up between them) before "errored"
//! max_memory = "64MB"              # replaced (rolling) when its RSS goes over
//! memory_poll = "1s"               # how often RSS is read (PM2: every 30 s)
//! log_max_size = "10MB"            # rotate a log file at this size (pm2-logrotate's max_size)
//! log_retain = 3                   # rotated files kept
//! ```
//!
//! A mistake is reported with the file and line: toml's span for a value that does not parse, the app's own line
//! for a rule broken across fields.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Deserializer};
use toml::Spanned;

use crate::restart_policy::RestartPolicy;

/// A parsed ecosystem file.
#[derive(Debug, Clone)]
pub struct Ecosystem {
    /// Where it was read from (relative commands resolve against its folder).
    pub file: PathBuf,
    /// Its apps, in file order.
    pub apps: Vec<AppSpec>,
}

/// How an instance says it is ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Ready {
    /// `READY=1` on the datagram socket named by `$NOTIFY_SOCKET` (systemd's `sd_notify`, PM2's `wait_ready`).
    Notify,
    /// As soon as the process has started (PM2's default: it cannot know better).
    Spawn,
}

/// One app: a command run as `instances` processes.
#[derive(Debug, Clone)]
pub struct AppSpec {
    /// Its name (`list`, `logs`, `reload NAME`).
    pub name: String,
    /// The program.
    pub command: PathBuf,
    /// Its arguments.
    pub args: Vec<String>,
    /// Extra environment.
    pub env: BTreeMap<String, String>,
    /// How many processes.
    pub instances: usize,
    /// Cluster mode: the address the supervisor binds and passes to every instance.
    pub listen: Option<SocketAddr>,
    /// How readiness is signalled.
    pub ready: Ready,
    /// How long an instance may take to be ready.
    pub ready_timeout: Duration,
    /// SIGTERM, then SIGKILL this long after.
    pub kill_timeout: Duration,
    /// When to restart after a crash, and when to give up.
    pub restart: RestartPolicy,
    /// Replace an instance whose RSS goes over this.
    pub max_memory: Option<u64>,
    /// How often RSS is read.
    pub memory_poll: Duration,
    /// Rotate a log file at this size.
    pub log_max_size: u64,
    /// Rotated files kept.
    pub log_retain: usize,
}

/// An ecosystem file that cannot be used: `file:line: message`.
#[derive(Debug, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct EcosystemError {
    /// The file.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    app: Vec<Spanned<RawApp>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawApp {
    name: String,
    command: String,
    #[serde(default)]
    args: Vec<String>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    #[serde(default = "one")]
    instances: usize,
    listen: Option<SocketAddr>,
    #[serde(default = "notify")]
    ready: Ready,
    #[serde(default = "secs::<10>", deserialize_with = "duration")]
    ready_timeout: Duration,
    #[serde(default = "secs::<5>", deserialize_with = "duration")]
    kill_timeout: Duration,
    #[serde(default = "hundred_ms", deserialize_with = "duration")]
    exp_backoff_restart_delay: Duration,
    max_restarts: Option<u32>,
    #[serde(default, deserialize_with = "some_size")]
    max_memory: Option<u64>,
    #[serde(default = "secs::<1>", deserialize_with = "duration")]
    memory_poll: Duration,
    #[serde(default = "ten_mb", deserialize_with = "size")]
    log_max_size: u64,
    #[serde(default = "three")]
    log_retain: usize,
}

fn one() -> usize {
    1
}
fn three() -> usize {
    3
}
fn notify() -> Ready {
    Ready::Notify
}
fn secs<const N: u64>() -> Duration {
    Duration::from_secs(N)
}
fn hundred_ms() -> Duration {
    Duration::from_millis(100)
}
fn ten_mb() -> u64 {
    10_000_000
}

fn duration<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let text = String::deserialize(d)?;
    humantime::parse_duration(&text)
        .map_err(|e| serde::de::Error::custom(format!("{text:?} is not a duration like \"500ms\" or \"2s\": {e}")))
}

fn size<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let text = String::deserialize(d)?;
    parse_size(&text).map_err(serde::de::Error::custom)
}

fn some_size<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    size(d).map(Some)
}

/// `"64MB"`, `"512KiB"`, `"1GB"`, `"4096"` → bytes (KB/MB/GB are powers of 1000, KiB/MiB/GiB of 1024).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a size like \"64MB\" or \"512KiB\""))?;
    let scale = match unit.trim() {
        "" | "B" => 1.0,
        "KB" | "kB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        "KiB" => 1024.0,
        "MiB" => 1024.0 * 1024.0,
        "GiB" => 1024.0 * 1024.0 * 1024.0,
        other => {
            return Err(format!(
                "{text:?}: unknown unit {other:?} (use B, KB, MB, GB, KiB, MiB or GiB)"
            ))
        }
    };
    Ok((number * scale) as u64)
}

impl Ecosystem {
    /// Reads and checks `file`.
    pub fn load(file: &Path) -> Result<Ecosystem, EcosystemError> {
        let text = std::fs::read_to_string(file).map_err(|e| EcosystemError {
            file: file.display().to_string(),
            line: 1,
            message: format!("cannot read it: {e}"),
        })?;
        Ecosystem::parse(file, &text)
    }

    /// Parses `text`, read from `file`.
    pub fn parse(file: &Path, text: &str) -> Result<Ecosystem, EcosystemError> {
        let fail = |offset: usize, message: String| EcosystemError {
            file: file.display().to_string(),
            line: text[..offset.min(text.len())].matches('\n').count() + 1,
            message,
        };
        let raw: RawFile =
            toml::from_str(text).map_err(|e| fail(e.span().map_or(0, |s| s.start), e.message().to_string()))?;
        if raw.app.is_empty() {
            return Err(fail(0, "no [[app]]: an ecosystem file lists at least one app".into()));
        }
        let folder = file.parent().unwrap_or(Path::new("."));
        let mut apps: Vec<AppSpec> = Vec::new();
        for spanned in raw.app {
            let at = spanned.span().start;
            let a = spanned.into_inner();
            let fail = |m: String| fail(at, format!("app {:?}: {m}", a.name));
            if a.name.is_empty() || a.name == "all" || a.name.contains(char::is_whitespace) {
                return Err(fail(
                    "a name is one word, and not \"all\" (which means every app)".into(),
                ));
            }
            if apps.iter().any(|known| known.name == a.name) {
                return Err(fail("the name is used twice".into()));
            }
            if a.instances == 0 {
                return Err(fail("instances must be at least 1".into()));
            }
            if a.listen.is_none() && a.instances > 1 {
                // Without a shared socket, N copies would fight over one port (or each need its own).
                return Err(fail(
                    "more than one instance needs `listen` (cluster mode: they share the supervisor's socket)".into(),
                ));
            }
            if a.memory_poll.is_zero() {
                return Err(fail("memory_poll must be more than zero".into()));
            }
            apps.push(AppSpec {
                command: resolve_command(folder, &a.command),
                restart: RestartPolicy::pm2(a.exp_backoff_restart_delay, a.max_restarts),
                name: a.name,
                args: a.args,
                env: a.env,
                instances: a.instances,
                listen: a.listen,
                ready: a.ready,
                ready_timeout: a.ready_timeout,
                kill_timeout: a.kill_timeout,
                max_memory: a.max_memory,
                memory_poll: a.memory_poll,
                log_max_size: a.log_max_size.max(1024),
                log_retain: a.log_retain,
            });
        }
        Ok(Ecosystem {
            file: file.to_path_buf(),
            apps,
        })
    }
}

/// A command with a `/` is a path (relative to the ecosystem file's folder); a bare name is looked up beside this
/// executable first (cargo builds `pm-demo-app` there), then left to `PATH`.
fn resolve_command(folder: &Path, command: &str) -> PathBuf {
    if command.contains('/') {
        return folder.join(command);
    }
    if let Some(beside) = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|d| d.join(command)))
        .filter(|p| p.is_file())
    {
        return beside;
    }
    PathBuf::from(command)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Ecosystem, EcosystemError> {
        Ecosystem::parse(Path::new("/srv/eco.toml"), text)
    }

    #[test]
    fn defaults_are_pm2s_and_paths_resolve_against_the_file() {
        let eco = parse("[[app]]\nname = \"web\"\ncommand = \"./server\"\n").unwrap();
        let app = &eco.apps[0];
        assert_eq!(app.command, Path::new("/srv/./server"));
        assert_eq!((app.instances, app.ready, app.listen), (1, Ready::Notify, None));
        assert_eq!(app.kill_timeout, Duration::from_secs(5));
        assert_eq!(app.restart, RestartPolicy::pm2(Duration::from_millis(100), None));
        assert_eq!(app.max_memory, None);
    }

    #[test]
    fn mistakes_name_the_file_and_line() {
        let bad_duration = "[[app]]\nname = \"web\"\ncommand = \"x\"\nkill_timeout = \"soon\"\n";
        let e = parse(bad_duration).unwrap_err();
        assert_eq!((e.file.as_str(), e.line), ("/srv/eco.toml", 4), "{e}");
        assert!(e.to_string().contains("\"soon\" is not a duration"), "{e}");

        let unknown = "[[app]]\nname = \"web\"\ncommand = \"x\"\n\ninstancez = 2\n";
        let e = parse(unknown).unwrap_err();
        assert_eq!(e.line, 5, "{e}");

        let two_without_listen = "\n[[app]]\nname = \"web\"\ncommand = \"x\"\ninstances = 2\n";
        let e = parse(two_without_listen).unwrap_err();
        assert_eq!(e.line, 2, "{e}");
        assert!(e.message.contains("needs `listen`"), "{e}");

        let e = parse("[[app]]\nname = \"web\"\ncommand = \"x\"\nmax_memory = \"64 parsecs\"\n").unwrap_err();
        assert!(e.message.contains("unknown unit"), "{e}");
        assert!(parse("").unwrap_err().message.contains("no [[app]]"));
    }

    #[test]
    fn sizes_take_decimal_and_binary_units() {
        assert_eq!(parse_size("64MB"), Ok(64_000_000));
        assert_eq!(parse_size("512KiB"), Ok(524_288));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert!(parse_size("lots").is_err());
    }
}
