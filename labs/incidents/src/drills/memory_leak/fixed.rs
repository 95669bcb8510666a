//! Sessions, fixed: a bounded cache. At most [`MAX_SESSIONS`] are kept, the least recently used leaving first, and a
//! session idle for [`IDLE`] ends on its own — so memory has a ceiling whatever the traffic.
//!
//! The shipped store kept every session ever started: a `HashMap` that only grows, one more entry per sign-in.
//! Nothing was wrong on any one request, which is why leaks survive code review; memory climbed at a steady slope
//! until the process hit its limit and was killed (or restarted by its supervisor, PM2's `max_memory_restart` — a
//! safety net, not a fix). The evidence is the slope of RSS over time and the count of what is kept.
//!
//! moka's `sync::Cache` is what production Rust uses for this (Caffeine's design). Two settings matter here: a
//! capacity and an idle time, and the LRU eviction policy — moka's default, TinyLFU, may refuse to admit a new
//! entry it has not seen before, which for a session means a user signed out the moment they signed in. The bound
//! is sized for the lab (a real service sizes it from its memory budget: entries × bytes each).

use std::sync::Arc;
use std::time::Duration;

use moka::policy::EvictionPolicy;
use moka::sync::Cache;

use super::support::Session;

/// The most sessions kept.
pub const MAX_SESSIONS: u64 = 500;

/// A session nobody used for this long ends.
pub const IDLE: Duration = Duration::from_secs(15 * 60);

// ANCHOR: fix
/// The signed-in sessions, by token: at most [`MAX_SESSIONS`], none idle longer than [`IDLE`].
pub struct Sessions {
    by_token: Cache<String, Arc<Session>>,
}

impl Default for Sessions {
    fn default() -> Sessions {
        Sessions::new()
    }
}

impl Sessions {
    /// An empty store.
    pub fn new() -> Sessions {
        let by_token = Cache::builder()
            .max_capacity(MAX_SESSIONS)
            .time_to_idle(IDLE)
            .eviction_policy(EvictionPolicy::lru())
            .build();
        Sessions { by_token }
    }

    /// Signs `user` in: a new session, kept under the token returned.
    pub fn start(&self, user: &str) -> String {
        let session = Arc::new(Session::load(user));
        let token = session.token.clone();
        self.by_token.insert(token.clone(), session);
        token
    }

    /// The session of `token`, if it is kept.
    pub fn get(&self, token: &str) -> Option<Arc<Session>> {
        self.by_token.get(token)
    }

    /// How many sessions are kept (after the cache has applied its pending evictions).
    pub fn kept(&self) -> u64 {
        self.by_token.run_pending_tasks();
        self.by_token.entry_count()
    }
}
// ANCHOR_END: fix
