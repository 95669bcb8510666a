//! The control socket: how `workbench-pm list` in one terminal talks to the supervisor running in another (or in
//! the background), like PM2's CLI talks to its daemon.
//!
//! A Unix stream socket at `<home>/pm.sock`, one JSON request per line, one JSON answer per line. Only the user
//! who owns the home folder can reach it (the socket file's permissions), and nothing listens on the network.

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};

use crate::ecosystem::Ecosystem;
use crate::supervisor::{Row, Supervisor};

/// What a client asks.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "cmd", rename_all = "lowercase")]
pub enum Request {
    /// Start the apps of an ecosystem file (an absolute path).
    Start {
        /// The file.
        file: PathBuf,
    },
    /// Stop an app (or `all`).
    Stop {
        /// App name or `all`.
        app: String,
    },
    /// Stop, then start.
    Restart {
        /// App name or `all`.
        app: String,
    },
    /// Rolling replacement.
    Reload {
        /// App name or `all`.
        app: String,
    },
    /// Stop and forget.
    Delete {
        /// App name or `all`.
        app: String,
    },
    /// Send a signal to an app's instances (or one of them).
    Signal {
        /// App name or `all`.
        app: String,
        /// One instance only.
        id: Option<usize>,
        /// `SIGKILL`, `KILL`, `9`, …
        signal: String,
    },
    /// The process table.
    List,
    /// The counters.
    Stats,
    /// Stop everything and exit.
    Kill,
}

/// The supervisor's answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Answer {
    /// Whether it worked.
    pub ok: bool,
    /// What happened, or what went wrong.
    pub message: String,
    /// `list`'s rows.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rows: Vec<Row>,
    /// `stats`' counters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stats: Option<serde_json::Value>,
}

impl Answer {
    fn ok(message: String) -> Answer {
        Answer {
            ok: true,
            message,
            rows: Vec::new(),
            stats: None,
        }
    }
    fn failed(e: anyhow::Error) -> Answer {
        Answer {
            ok: false,
            message: format!("{e:#}"),
            rows: Vec::new(),
            stats: None,
        }
    }
}

/// The control socket's path under `home`.
pub fn socket_path(home: &Path) -> PathBuf {
    home.join("pm.sock")
}

/// Binds the control socket; refuses when another supervisor answers on it (a stale file from a crash is removed).
pub async fn bind(path: &Path) -> anyhow::Result<UnixListener> {
    if UnixStream::connect(path).await.is_ok() {
        anyhow::bail!(
            "a supervisor is already running with this home ({}): use it, or `workbench-pm kill` it first",
            path.display()
        );
    }
    let _ = std::fs::remove_file(path);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    UnixListener::bind(path).with_context(|| format!("binding the control socket {}", path.display()))
}

/// Serves requests until a `kill` arrives; then returns (the caller shuts the supervisor down).
pub async fn serve(listener: UnixListener, supervisor: Supervisor) {
    let (killed_tx, mut killed) = tokio::sync::mpsc::channel::<()>(1);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let supervisor = supervisor.clone();
                let killed_tx = killed_tx.clone();
                tokio::spawn(async move {
                    if let Ok(true) = answer_one(stream, &supervisor).await {
                        let _ = killed_tx.send(()).await;
                    }
                });
            }
            _ = killed.recv() => return,
        }
    }
}

/// Answers one connection's request; `true` when it was `kill`.
async fn answer_one(stream: UnixStream, supervisor: &Supervisor) -> std::io::Result<bool> {
    let (read, mut write) = stream.into_split();
    let mut line = String::new();
    BufReader::new(read).read_line(&mut line).await?;
    let request: Result<Request, _> = serde_json::from_str(&line);
    let mut kill = false;
    let answer = match request {
        Err(e) => Answer::failed(anyhow::anyhow!("not a request: {e}")),
        Ok(request) => {
            kill = matches!(request, Request::Kill);
            handle(request, supervisor).await
        }
    };
    let mut text = serde_json::to_string(&answer).unwrap_or_else(|_| "{\"ok\":false}".into());
    text.push('\n');
    write.write_all(text.as_bytes()).await?;
    Ok(kill)
}

async fn handle(request: Request, supervisor: &Supervisor) -> Answer {
    let result = match request {
        Request::Start { file } => match Ecosystem::load(&file) {
            Ok(ecosystem) => supervisor.start(&ecosystem).await,
            Err(e) => Err(e.into()),
        },
        Request::Stop { app } => supervisor.stop(&app).await,
        Request::Restart { app } => supervisor.restart(&app).await,
        Request::Reload { app } => supervisor.reload(&app).await,
        Request::Delete { app } => supervisor.delete(&app).await,
        Request::Signal { app, id, signal } => supervisor.signal(&app, id, &signal),
        Request::Kill => Ok("stopping every app and the supervisor".into()),
        Request::List => {
            let mut answer = Answer::ok(String::new());
            answer.rows = supervisor.list();
            return answer;
        }
        Request::Stats => {
            let mut answer = Answer::ok(String::new());
            answer.stats = serde_json::to_value(supervisor.counters()).ok();
            return answer;
        }
    };
    match result {
        Ok(message) => Answer::ok(message),
        Err(e) => Answer::failed(e),
    }
}

/// Sends one request to the supervisor at `socket` and waits for its answer.
pub async fn ask(socket: &Path, request: &Request) -> anyhow::Result<Answer> {
    let stream = UnixStream::connect(socket).await.with_context(|| {
        format!(
            "no supervisor is running with this home ({}); start one with `workbench-pm start ECOSYSTEM.toml`",
            socket.display()
        )
    })?;
    let (read, mut write) = stream.into_split();
    let mut text = serde_json::to_string(request)?;
    text.push('\n');
    write.write_all(text.as_bytes()).await?;
    let mut line = String::new();
    BufReader::new(read).read_line(&mut line).await?;
    serde_json::from_str(&line).with_context(|| format!("the supervisor's answer {line:?}"))
}
