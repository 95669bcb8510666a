//! `GET /chat[?room=N]`: the chat rooms' WebSocket endpoint (drill `chat-rooms`). This is the socket code around the
//! drill's rooms — the handshake, one task per connection, the writes — and it is not where the fault is.
//!
//! - **The handshake** is lab-kit's (`lab_kit::websocket`): on hyper's upgrade, with tungstenite's stream (the
//!   version the load generator uses).
//! - **Rooms**: a connection names its room with `?room=`, or is placed in the next of [`ROOMS`] rooms in turn, so
//!   a load generator's connections fill them evenly ([`ROOMS`] rooms of 100 at 10,000 connections).
//! - **Memory per connection** is the drill's subject, so the socket's own is kept small: tungstenite reads into a
//!   buffer of 128 KiB per connection by default — 1.2 GiB of heap at 10,000 connections before anyone says a
//!   word. `lab_kit::websocket::small_messages` asks for 4 KiB (a chat message is far smaller), and writes go
//!   straight to the socket, fed and flushed when the outbox is empty (`write_text_frames`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::extract::{Query, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use serde::Deserialize;
use tokio_tungstenite::tungstenite::Message;

use crate::drills::chat_rooms;
use crate::server::{AppState, Variant};
use exercise_incidents::support::{self, Frame};

/// Rooms connections are spread over when they name none.
pub const ROOMS: u32 = 100;

/// The most a client may send in one message: a chat line, not a file.
const MAX_MESSAGE: usize = 16 << 10;

/// The chat rooms of the variant being served.
pub enum Rooms {
    Broken(chat_rooms::broken::ChatRooms),
    Fixed(chat_rooms::fixed::ChatRooms),
    Yours(exercise_incidents::chat_rooms::ChatRooms),
}

/// A member's outbox, whoever's rooms made it (the three are the same type: tokio's receiver of frames).
type Outbox = tokio::sync::mpsc::UnboundedReceiver<Frame>;

impl Rooms {
    /// The variant's rooms.
    pub fn new(variant: Variant) -> Rooms {
        match variant {
            Variant::Broken => Rooms::Broken(chat_rooms::broken::ChatRooms::new()),
            Variant::Fixed => Rooms::Fixed(chat_rooms::fixed::ChatRooms::new()),
            Variant::Yours => Rooms::Yours(exercise_incidents::chat_rooms::ChatRooms::new()),
        }
    }

    fn join(&self, room: u32) -> (u64, Outbox) {
        match self {
            Rooms::Broken(r) => r.join(room),
            Rooms::Fixed(r) => r.join(room),
            Rooms::Yours(r) => r.join(room),
        }
    }

    fn leave(&self, room: u32, member: u64) {
        match self {
            Rooms::Broken(r) => r.leave(room, member),
            Rooms::Fixed(r) => r.leave(room, member),
            Rooms::Yours(r) => r.leave(room, member),
        }
    }

    fn post(&self, room: u32, from: u64, text: &str) {
        match self {
            Rooms::Broken(r) => r.post(room, from, text),
            Rooms::Fixed(r) => r.post(room, from, text),
            Rooms::Yours(r) => r.post(room, from, text),
        }
    }
}

/// What the endpoint counts for `/stats`: connections now and at most, frames written.
#[derive(Default)]
pub struct ChatCounters {
    connections: AtomicU64,
    connections_max: AtomicU64,
    frames_written: AtomicU64,
}

impl ChatCounters {
    /// `(name, value)` for `/stats`.
    pub fn read(&self) -> [(&'static str, u64); 3] {
        [
            ("chat_connections", self.connections.load(Ordering::Relaxed)),
            ("chat_connections_max", self.connections_max.load(Ordering::Relaxed)),
            ("chat_frames_written", self.frames_written.load(Ordering::Relaxed)),
        ]
    }
}

#[derive(Deserialize)]
pub struct ChatQuery {
    room: Option<String>,
}

/// The handshake (lab-kit's): a WebSocket upgrade gets its 101 and a task that serves the connection; anything else a
/// 400.
pub async fn chat(State(state): State<Arc<AppState>>, Query(query): Query<ChatQuery>, request: Request) -> Response {
    let room = match query.room.as_deref().map(str::parse::<u32>) {
        None => (state.chat_next.fetch_add(1, Ordering::Relaxed) % u64::from(ROOMS)) as u32,
        Some(Ok(room)) => room,
        Some(Err(_)) => return (StatusCode::BAD_REQUEST, "a room is a whole number: ?room=7\n").into_response(),
    };
    lab_kit::websocket::accept(
        request,
        lab_kit::websocket::small_messages(MAX_MESSAGE),
        move |socket| async move {
            serve(&state, room, socket).await;
        },
    )
}

/// One member, from join to leave: what it sends is posted to its room; what its outbox holds is written to it.
async fn serve(state: &AppState, room: u32, socket: lab_kit::websocket::Socket) {
    let counters = &state.chat_counters;
    let open = counters.connections.fetch_add(1, Ordering::Relaxed) + 1;
    counters.connections_max.fetch_max(open, Ordering::Relaxed);
    let (member, mut outbox) = state.chat.join(room);
    let (mut sink, mut stream) = socket.split();
    let writer = lab_kit::websocket::write_text_frames(&mut sink, &mut outbox, || {
        counters.frames_written.fetch_add(1, Ordering::Relaxed);
    });
    let reader = async {
        while let Some(Ok(message)) = stream.next().await {
            match message {
                Message::Text(text) => {
                    support::count_post();
                    state.chat.post(room, member, text.as_str());
                }
                Message::Close(_) => return,
                _ => {}
            }
        }
    };
    tokio::select! {
        () = writer => {}
        () = reader => {}
    }
    state.chat.leave(room, member);
    counters.connections.fetch_sub(1, Ordering::Relaxed);
}
