//! Sessions: a user signs in, gets a token, and the session — their profile and cart, cached so later requests need
//! not load them again — is kept under that token.
//!
//! Drill `memory-leak` — `cargo xtask incident start memory-leak` shows how this behaves under load.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::support::Session;

/// Every signed-in session, by token.
#[derive(Default)]
pub struct Sessions {
    by_token: Mutex<HashMap<String, Arc<Session>>>,
}

impl Sessions {
    /// An empty store.
    pub fn new() -> Sessions {
        Sessions::default()
    }

    /// Signs `user` in: a new session, kept under the token returned.
    pub fn start(&self, user: &str) -> String {
        let session = Arc::new(Session::load(user));
        let token = session.token.clone();
        self.by_token.lock().unwrap().insert(token.clone(), session);
        token
    }

    /// The session of `token`, if it is kept.
    pub fn get(&self, token: &str) -> Option<Arc<Session>> {
        self.by_token.lock().unwrap().get(token).cloned()
    }

    /// How many sessions are kept.
    pub fn kept(&self) -> u64 {
        self.by_token.lock().unwrap().len() as u64
    }
}
