//! Chat rooms: a member joins a room and is sent its last few messages; every message posted to a room goes to
//! each of its members. Every member keeps its own scrollback — the room's last messages — so that "load earlier
//! messages" is answered from the member's own state.
//!
//! Drill `chat-rooms` — `cargo xtask incident start chat-rooms` shows how this behaves under load.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use tokio::sync::mpsc;

use super::support::{self, Frame, JOIN_BACKLOG, ROOM_HISTORY};

/// A member's outbox: the frames its connection writes to the socket, in order.
pub type Outbox = mpsc::UnboundedReceiver<Frame>;

/// Every room, by number.
#[derive(Default)]
pub struct ChatRooms {
    rooms: Mutex<HashMap<u32, Room>>,
    next_member: AtomicU64,
}

#[derive(Default)]
struct Room {
    members: HashMap<u64, Member>,
    /// The newest messages, to start a new member's scrollback with.
    recent: VecDeque<String>,
}

struct Member {
    outbox: mpsc::UnboundedSender<Frame>,
    /// This member's scrollback: the room's last [`ROOM_HISTORY`] messages.
    scrollback: VecDeque<String>,
}

impl ChatRooms {
    /// No rooms yet.
    pub fn new() -> ChatRooms {
        ChatRooms::default()
    }

    /// A new member joins `room`: returns its number and its outbox, with the room's last [`JOIN_BACKLOG`]
    /// messages already in it.
    pub fn join(&self, room: u32) -> (u64, Outbox) {
        let member = self.next_member.fetch_add(1, Ordering::Relaxed) + 1;
        let (outbox, frames) = mpsc::unbounded_channel();
        let mut rooms = self.rooms.lock().unwrap();
        let room = rooms.entry(room).or_insert_with(|| Room {
            members: HashMap::new(),
            recent: support::load_room_history(room).into(),
        });
        let scrollback = room.recent.clone();
        for text in scrollback.iter().skip(scrollback.len().saturating_sub(JOIN_BACKLOG)) {
            let _ = outbox.send(Frame::from(text.clone()));
        }
        room.members.insert(member, Member { outbox, scrollback });
        (member, frames)
    }

    /// `member` leaves `room`.
    pub fn leave(&self, room: u32, member: u64) {
        if let Some(room) = self.rooms.lock().unwrap().get_mut(&room) {
            room.members.remove(&member);
        }
    }

    /// `from` posts `text` to `room`: every member's outbox gets it, in the room's envelope.
    pub fn post(&self, room: u32, from: u64, text: &str) {
        let mut rooms = self.rooms.lock().unwrap();
        let Some(room_state) = rooms.get_mut(&room) else {
            return;
        };
        for member in room_state.members.values_mut() {
            let frame = support::envelope(room, from, text);
            member.scrollback.push_back(frame.clone());
            if member.scrollback.len() > ROOM_HISTORY {
                member.scrollback.pop_front();
            }
            let _ = member.outbox.send(Frame::from(frame));
        }
        room_state.recent.push_back(support::envelope(room, from, text));
        if room_state.recent.len() > ROOM_HISTORY {
            room_state.recent.pop_front();
        }
    }

    /// `member`'s scrollback in `room`: its last `n` messages (at most [`ROOM_HISTORY`]), oldest first.
    pub fn scrollback(&self, room: u32, member: u64, n: usize) -> Vec<Frame> {
        let rooms = self.rooms.lock().unwrap();
        let Some(member) = rooms.get(&room).and_then(|r| r.members.get(&member)) else {
            return Vec::new();
        };
        let skip = member.scrollback.len().saturating_sub(n);
        member
            .scrollback
            .iter()
            .skip(skip)
            .map(|t| Frame::from(t.clone()))
            .collect()
    }
}
