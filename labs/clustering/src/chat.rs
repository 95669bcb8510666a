//! `GET /chat[?room=N]`: a chat room over WebSockets, on every process of the cluster — and the question clustering
//! asks of every real-time service: a message posted on one worker must reach the room's members connected to the
//! *other* workers. Where does the room live?
//!
//! | `--state` | the room's bus | what members on other workers get |
//! |---|---|---|
//! | `local` | none: each process delivers to its own members | nothing — with two workers, about half the room hears each message |
//! | `primary` | the primary relays each message to every worker over IPC (Node: `process.send`, the primary re-sends) | everything, one hop through the primary |
//! | `redis` | Redis pub/sub: each worker publishes to `<run>:chat:<room>` and subscribes to `<run>:chat:*` | everything, and across machines too — the seed's answer (Socket.IO's Redis adapter does this) |
//!
//! With a bus, a worker delivers a message only when it comes back from the bus, its own included: every member
//! then gets the room's messages in the bus's one order. A frame is the client's text as sent, shared by every
//! member it goes to (`Bytes`: a clone is a pointer and a count — the lesson of the incident drill `chat-rooms`).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::{Query, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures_util::StreamExt;
use lab_kit::Counters;
use serde::Deserialize;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

use crate::ipc::{self, Peer};
use crate::server::Service;

/// Rooms connections are spread over, in turn, when they name none.
pub const ROOMS: u32 = 20;

/// The longest message a client may send: a chat line.
const MAX_MESSAGE: usize = 16 << 10;

/// Where a posted message goes before it reaches the members.
pub enum Bus {
    /// Straight to this process's members.
    Local,
    /// To the primary, which sends it to every worker.
    Primary(Peer),
    /// To Redis, whose subscribers (every worker) deliver it.
    Redis(RedisBus),
}

/// This process's rooms: each member's outbox, by room.
pub struct Chat {
    rooms: Mutex<HashMap<u32, HashMap<u64, mpsc::UnboundedSender<Bytes>>>>,
    next_member: AtomicU64,
    next_room: AtomicU64,
    bus: Bus,
    counters: Counters,
}

/// Counter names on `/stats` (added up over the workers).
pub const COUNTERS: &[&str] = &[
    "chat_joined",
    "chat_posts",
    "chat_frames",
    "chat_bus_sent",
    "chat_bus_received",
];

impl Chat {
    /// Rooms whose messages travel by `bus`.
    pub fn new(bus: Bus) -> Chat {
        Chat {
            rooms: Mutex::default(),
            next_member: AtomicU64::new(0),
            next_room: AtomicU64::new(0),
            bus,
            counters: Counters::new(COUNTERS),
        }
    }

    /// Rooms on Redis pub/sub at `url`, this run's channels under `prefix`; the subscription runs on a task.
    pub async fn over_redis(url: &str, prefix: String) -> anyhow::Result<Arc<Chat>> {
        let (bus, subscription) = RedisBus::connect(url, prefix).await?;
        let chat = Arc::new(Chat::new(Bus::Redis(bus)));
        tokio::spawn(subscription.deliver_to(chat.clone()));
        Ok(chat)
    }

    /// The chat's counters, for `/stats`.
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    fn join(&self, room: u32) -> (u64, mpsc::UnboundedReceiver<Bytes>) {
        let member = self.next_member.fetch_add(1, Ordering::Relaxed);
        let (outbox, frames) = mpsc::unbounded_channel();
        self.rooms
            .lock()
            .unwrap()
            .entry(room)
            .or_default()
            .insert(member, outbox);
        self.counters.incr("chat_joined");
        (member, frames)
    }

    fn leave(&self, room: u32, member: u64) {
        if let Some(members) = self.rooms.lock().unwrap().get_mut(&room) {
            members.remove(&member);
        }
    }

    /// A member posted `text` to `room`: onto the bus, or straight to the members here.
    async fn post(&self, room: u32, text: Utf8Bytes) {
        self.counters.incr("chat_posts");
        match &self.bus {
            Bus::Local => self.deliver(room, Bytes::from(text)),
            Bus::Primary(primary) => {
                self.counters.incr("chat_bus_sent");
                primary.send(ipc::Message::ChatPublish {
                    room,
                    text: text.as_str().to_owned(),
                });
            }
            Bus::Redis(redis) => {
                if redis.publish(room, text.as_bytes()).await {
                    self.counters.incr("chat_bus_sent");
                }
            }
        }
    }

    /// A message of `room` came back from the bus.
    pub fn from_bus(&self, room: u32, frame: Bytes) {
        self.counters.incr("chat_bus_received");
        self.deliver(room, frame);
    }

    /// Every member of `room` in this process gets `frame` (a clone of the one `Bytes`).
    fn deliver(&self, room: u32, frame: Bytes) {
        let rooms = self.rooms.lock().unwrap();
        let Some(members) = rooms.get(&room) else {
            return;
        };
        for outbox in members.values() {
            let _ = outbox.send(frame.clone());
        }
        self.counters.add("chat_frames", members.len() as u64);
    }
}

#[derive(Deserialize)]
pub struct ChatQuery {
    room: Option<String>,
}

/// The endpoint: a handshake becomes a member of its room (named, or the next of [`ROOMS`] in turn).
pub async fn chat(State(s): State<Arc<Service>>, Query(query): Query<ChatQuery>, request: Request) -> Response {
    s.counters.incr("served");
    let room = match query.room.as_deref().map(str::parse::<u32>) {
        None => (s.chat.next_room.fetch_add(1, Ordering::Relaxed) % u64::from(ROOMS)) as u32,
        Some(Ok(room)) => room,
        Some(Err(_)) => return (StatusCode::BAD_REQUEST, "a room is a whole number: ?room=7\n").into_response(),
    };
    let chat = s.chat.clone();
    lab_kit::websocket::accept(
        request,
        lab_kit::websocket::small_messages(MAX_MESSAGE),
        move |socket| async move {
            serve(&chat, room, socket).await;
        },
    )
}

/// One member, from join to leave: what it sends is posted; what its outbox holds is written (lab-kit's
/// `write_text_frames`: fed, and flushed when the outbox is empty).
async fn serve(chat: &Chat, room: u32, socket: lab_kit::websocket::Socket) {
    let (member, mut outbox) = chat.join(room);
    let (mut sink, mut stream) = socket.split();
    let writer = lab_kit::websocket::write_text_frames(&mut sink, &mut outbox, || {});
    let reader = async {
        while let Some(Ok(message)) = stream.next().await {
            match message {
                Message::Text(text) => chat.post(room, text).await,
                Message::Close(_) => return,
                _ => {}
            }
        }
    };
    tokio::select! {
        () = writer => {}
        () = reader => {}
    }
    chat.leave(room, member);
}

/// Redis pub/sub as the rooms' bus: one channel per room under this run's prefix.
pub struct RedisBus {
    publisher: redis::aio::ConnectionManager,
    prefix: String,
}

impl RedisBus {
    /// Connects to `url`, subscribes to every room of this run (`<prefix>:chat:*`) and hands each message to
    /// `chat` as it arrives (on a task); returns the publishing half.
    pub async fn connect(url: &str, prefix: String) -> anyhow::Result<(RedisBus, RedisSubscription)> {
        let client = redis::Client::open(url)?;
        let within = std::time::Duration::from_secs(5);
        let no_answer = || anyhow::anyhow!("no answer from Redis at {url} within 5 s");
        let publisher = tokio::time::timeout(within, redis::aio::ConnectionManager::new(client.clone()))
            .await
            .map_err(|_| no_answer())??;
        let mut pubsub = tokio::time::timeout(within, client.get_async_pubsub())
            .await
            .map_err(|_| no_answer())??;
        pubsub.psubscribe(format!("{prefix}:chat:*")).await?;
        Ok((
            RedisBus {
                publisher,
                prefix: prefix.clone(),
            },
            RedisSubscription { pubsub, prefix },
        ))
    }

    /// Publishes `text` to `room`'s channel; `false` if Redis failed.
    async fn publish(&self, room: u32, text: &[u8]) -> bool {
        redis::cmd("PUBLISH")
            .arg(format!("{}:chat:{room}", self.prefix))
            .arg(text)
            .query_async::<i64>(&mut self.publisher.clone())
            .await
            .is_ok()
    }
}

/// The subscribing half of [`RedisBus`]: [`RedisSubscription::deliver_to`] runs it.
pub struct RedisSubscription {
    pubsub: redis::aio::PubSub,
    prefix: String,
}

impl RedisSubscription {
    /// Delivers every message of this run's rooms to `chat`'s members here, until the connection ends.
    pub async fn deliver_to(self, chat: Arc<Chat>) {
        let room_of = format!("{}:chat:", self.prefix);
        let mut messages = self.pubsub.into_on_message();
        while let Some(message) = messages.next().await {
            let Some(room) = message
                .get_channel_name()
                .strip_prefix(&room_of)
                .and_then(|r| r.parse().ok())
            else {
                continue;
            };
            chat.from_bus(room, Bytes::copy_from_slice(message.get_payload_bytes()));
        }
    }
}
