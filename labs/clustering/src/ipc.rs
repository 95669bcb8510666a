//! The primary and its workers talk over a Unix socket pair, one JSON message per line — Node's cluster IPC
//! (`process.send` / `worker.on('message')`) by hand. Either side may ask and either may answer, so every request
//! carries an `id` and its answer the same `id`.
//!
//! | message | from → to | for |
//! |---|---|---|
//! | `ready` | worker → primary | the worker is serving: the cluster is ready when all are |
//! | `admit`, `login`, `session` | worker → primary | state kept in the primary (`--state primary`) |
//! | `cluster_stats`, `cluster_ready`, `cluster_metrics` | worker → primary | `/stats`, `/healthz` and `/metrics` of the whole cluster |
//! | `report`, `expose` | primary → worker | "send me your counters" (answered by `counters`), "your exposition" |
//! | `reply` | either | the answer to an `id` |
//! | `shutdown` | primary → worker | stop accepting, finish in-flight requests, exit (Node's `worker.disconnect()`) |
//! | `chat_publish`, `chat_deliver` | worker → primary → every worker | a chat message on its way to every worker's members of the room (`--state primary`) |

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;
use tokio::sync::{mpsc, oneshot};

/// One message.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Message {
    /// The worker serves.
    Ready { worker: usize },
    /// Count a request for `key` against the rate limit; the reply is `true` if admitted.
    Admit { id: u64, key: String },
    /// Log `user` in.
    Login { id: u64, user: String },
    /// Is `user` logged in? The reply is a bool.
    Session { id: u64, user: String },
    /// The whole cluster's counters.
    ClusterStats { id: u64 },
    /// Is every worker serving?
    ClusterReady { id: u64 },
    /// The whole cluster's `/metrics`.
    ClusterMetrics { id: u64 },
    /// Send your Prometheus exposition (the reply is its text).
    Expose { id: u64 },
    /// Send your counters.
    Report { id: u64 },
    /// A worker's counters, answering `report`.
    Counters { id: u64, counters: Value },
    /// The answer to `id`.
    Reply { id: u64, value: Value },
    /// Drain and exit.
    Shutdown,
    /// A member posted `text` to `room` (`--state primary`): send it to every worker.
    ChatPublish { room: u32, text: String },
    /// Deliver `text` to your members of `room`.
    ChatDeliver { room: u32, text: String },
}

/// One end of the channel: sends messages, matches answers to the requests waiting for them, and hands every other
/// incoming message to the owner.
#[derive(Clone)]
pub struct Peer {
    outbox: mpsc::UnboundedSender<Message>,
    pending: Arc<Mutex<HashMap<u64, oneshot::Sender<Value>>>>,
    next_id: Arc<AtomicU64>,
}

impl Peer {
    /// Runs the channel over `stream`: returns the peer and the incoming messages that are not answers. The
    /// receiver ends when the other side goes away.
    pub fn start(stream: UnixStream) -> (Peer, mpsc::UnboundedReceiver<Message>) {
        let (read, mut write) = stream.into_split();
        let (outbox, mut to_send) = mpsc::unbounded_channel::<Message>();
        let (incoming_tx, incoming) = mpsc::unbounded_channel();
        let pending: Arc<Mutex<HashMap<u64, oneshot::Sender<Value>>>> = Arc::default();
        tokio::spawn(async move {
            while let Some(message) = to_send.recv().await {
                let mut line = serde_json::to_vec(&message).expect("messages serialise");
                line.push(b'\n');
                if write.write_all(&line).await.is_err() {
                    break;
                }
            }
        });
        let waiting = pending.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(read).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                match serde_json::from_str::<Message>(&line) {
                    Ok(Message::Reply { id, value } | Message::Counters { id, counters: value }) => {
                        if let Some(answer) = waiting.lock().unwrap().remove(&id) {
                            let _ = answer.send(value);
                        }
                    }
                    Ok(other) => {
                        if incoming_tx.send(other).is_err() {
                            break;
                        }
                    }
                    Err(e) => eprintln!("ipc: ignoring a malformed message ({e}): {line}"),
                }
            }
            // The other side is gone: nothing will answer what is still waiting.
            waiting.lock().unwrap().clear();
        });
        let peer = Peer {
            outbox,
            pending,
            next_id: Arc::new(AtomicU64::new(1)),
        };
        (peer, incoming)
    }

    /// Sends a message that needs no answer.
    pub fn send(&self, message: Message) {
        let _ = self.outbox.send(message);
    }

    /// Sends the request `make(id)` and waits for its answer (`None` if the other side went away or took longer
    /// than `within`).
    pub async fn ask(&self, within: Duration, make: impl FnOnce(u64) -> Message) -> Option<Value> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        self.pending.lock().unwrap().insert(id, tx);
        self.send(make(id));
        let answer = tokio::time::timeout(within, rx).await.ok()?.ok();
        self.pending.lock().unwrap().remove(&id);
        answer
    }
}
