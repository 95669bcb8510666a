//! Chat rooms, fixed: a room keeps its history once, and a message is wrapped in its envelope once and shared by
//! every member it goes to.
//!
//! The shipped rooms gave every member a copy of the room's last [`ROOM_HISTORY`] messages — its own scrollback,
//! so that "load earlier messages" never looked at the room — and wrapped each message again for every member.
//! Each copy is small and looks harmless in review. But memory per connection is what decides how many connections
//! a process holds: 200 messages of ~300 bytes is ~60 KB a member, and ten thousand members are 600 MB of the same
//! text ten thousand times over, before a single socket buffer. The evidence is memory that grows with the number
//! of *connections*, not with traffic or time (`server.rss_peak_bytes` over `websocket.opened`), and the envelopes
//! counter at the room's size times the messages.
//!
//! The fix is the one every fan-out service (a chat, a price feed, a Socket.IO room) makes: what is the same for
//! every member is kept once and shared. `Bytes` is reference counted, so a member's copy of a frame is a pointer
//! and a count; the room's history is one `VecDeque` of those frames, and a member's scrollback is read from it.
//! Nothing else changes: the same frames arrive in the same order, and the backlog and the scrollback are the same.

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

// ANCHOR: fix
/// A room: its members' outboxes, and its last [`ROOM_HISTORY`] frames — once, for all of them.
struct Room {
    members: HashMap<u64, mpsc::UnboundedSender<Frame>>,
    history: VecDeque<Frame>,
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
            history: support::load_room_history(room).into_iter().map(Frame::from).collect(),
        });
        let skip = room.history.len().saturating_sub(JOIN_BACKLOG);
        for frame in room.history.iter().skip(skip) {
            // A clone of a `Bytes` is a pointer and a reference count, not a copy of the text.
            let _ = outbox.send(frame.clone());
        }
        room.members.insert(member, outbox);
        (member, frames)
    }

    /// `member` leaves `room`.
    pub fn leave(&self, room: u32, member: u64) {
        if let Some(room) = self.rooms.lock().unwrap().get_mut(&room) {
            room.members.remove(&member);
        }
    }

    /// `from` posts `text` to `room`: wrapped once, and the one frame shared by every member's outbox and the
    /// room's history.
    pub fn post(&self, room: u32, from: u64, text: &str) {
        let mut rooms = self.rooms.lock().unwrap();
        let Some(room_state) = rooms.get_mut(&room) else {
            return;
        };
        let frame = Frame::from(support::envelope(room, from, text));
        for outbox in room_state.members.values() {
            let _ = outbox.send(frame.clone());
        }
        room_state.history.push_back(frame);
        if room_state.history.len() > ROOM_HISTORY {
            room_state.history.pop_front();
        }
    }

    /// `member`'s scrollback in `room`: the room's last `n` messages (at most [`ROOM_HISTORY`]), oldest first —
    /// the same for every member of the room, so read from the room's one copy.
    pub fn scrollback(&self, room: u32, member: u64, n: usize) -> Vec<Frame> {
        let rooms = self.rooms.lock().unwrap();
        let Some(room) = rooms.get(&room).filter(|r| r.members.contains_key(&member)) else {
            return Vec::new();
        };
        let skip = room.history.len().saturating_sub(n);
        room.history.iter().skip(skip).cloned().collect()
    }
}
// ANCHOR_END: fix
