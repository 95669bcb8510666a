//! The service every process runs — one worker of a cluster, or the whole server in `single` and `multi-thread`:
//!
//! | route | does |
//! |---|---|
//! | `GET /work` | ~1 ms of hashing: the CPU-bound request one event loop can do ~1,000 of a second |
//! | `GET /ping` | nothing: the cheap request |
//! | `GET /limited/{key}` | 200 within the rate limit of the key's window, 429 beyond it |
//! | `POST /login/{user}`, `GET /me/{user}` | a session, then reads of it (401 when it is not found) |
//! | `GET /chat[?room=N]` | a WebSocket chat room; how a message reaches the members on other workers is `--state` ([`crate::chat`]) |
//! | `GET /stats` | the counters — of the whole cluster when this process is a worker |
//! | `GET /healthz` | 200 — in a cluster, only once every worker serves |

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use lab_kit::Counters;

use crate::ipc::{Message, Peer};

/// Counter names on `/stats`.
pub const COUNTERS: &[&str] = &[
    "served",
    "work",
    "admitted",
    "rejected",
    "logins",
    "sessions_found",
    "sessions_missing",
];

/// How long a worker waits for the primary before answering 503.
const ASK_PRIMARY: Duration = Duration::from_secs(2);

/// Where the rate limit and the sessions live.
pub enum Shared {
    /// In this process's memory.
    Local(crate::state::State),
    /// In the primary's, asked over IPC.
    Primary(Peer),
    /// In Redis, shared by every worker (and every machine).
    Redis(crate::redis_state::RedisState),
}

/// What the handlers share.
pub struct Service {
    /// This process's counters.
    pub counters: Counters,
    /// The rate limit and the sessions.
    pub shared: Shared,
    /// The primary, when this process is a worker of a cluster: `/stats` and `/healthz` then speak for the cluster.
    pub primary: Option<Peer>,
    /// Hash rounds per `/work`.
    pub rounds: u32,
    /// The chat rooms of `/chat`, and their bus.
    pub chat: Arc<crate::chat::Chat>,
}

impl Service {
    /// This process's counters and its chat's, as one JSON object.
    pub fn counters_json(&self) -> serde_json::Value {
        let mut all = self.counters.to_json();
        if let (Some(all), serde_json::Value::Object(chat)) = (all.as_object_mut(), self.chat.counters().to_json()) {
            all.extend(chat);
        }
        all
    }
}

/// The routes.
pub fn app(service: Arc<Service>) -> Router {
    Router::new()
        .route("/work", get(work))
        .route("/ping", get(ping))
        .route("/limited/{key}", get(limited))
        .route("/login/{user}", post(login))
        .route("/me/{user}", get(me))
        .route("/chat", get(crate::chat::chat))
        .route("/stats", get(stats))
        .route("/healthz", get(healthz))
        .with_state(service)
}

async fn work(State(s): State<Arc<Service>>) -> String {
    s.counters.incr("served");
    s.counters.incr("work");
    // On the event loop on purpose: this is the CPU-bound handler a cluster spreads over cores.
    crate::work::hash_rounds(b"clustering", s.rounds)
}

async fn ping(State(s): State<Arc<Service>>) -> &'static str {
    s.counters.incr("served");
    "pong"
}

async fn limited(State(s): State<Arc<Service>>, Path(key): Path<String>) -> Response {
    s.counters.incr("served");
    let admitted = match &s.shared {
        Shared::Local(state) => Some(state.admit(&key)),
        Shared::Primary(primary) => primary
            .ask(ASK_PRIMARY, |id| Message::Admit { id, key })
            .await
            .and_then(|v| v.as_bool()),
        Shared::Redis(redis) => redis.admit(&key).await,
    };
    match admitted {
        Some(true) => {
            s.counters.incr("admitted");
            "ok".into_response()
        }
        Some(false) => {
            s.counters.incr("rejected");
            (StatusCode::TOO_MANY_REQUESTS, "rate limit reached for this key\n").into_response()
        }
        None => primary_unavailable(),
    }
}

async fn login(State(s): State<Arc<Service>>, Path(user): Path<String>) -> Response {
    s.counters.incr("served");
    let done = match &s.shared {
        Shared::Local(state) => {
            state.login(&user);
            true
        }
        Shared::Primary(primary) => primary
            .ask(ASK_PRIMARY, |id| Message::Login { id, user })
            .await
            .is_some(),
        Shared::Redis(redis) => redis.login(&user).await,
    };
    if !done {
        return primary_unavailable();
    }
    s.counters.incr("logins");
    StatusCode::NO_CONTENT.into_response()
}

async fn me(State(s): State<Arc<Service>>, Path(user): Path<String>) -> Response {
    s.counters.incr("served");
    let found = match &s.shared {
        Shared::Local(state) => Some(state.has_session(&user)),
        Shared::Primary(primary) => primary
            .ask(ASK_PRIMARY, |id| Message::Session { id, user: user.clone() })
            .await
            .and_then(|v| v.as_bool()),
        Shared::Redis(redis) => redis.has_session(&user).await,
    };
    match found {
        Some(true) => {
            s.counters.incr("sessions_found");
            format!("hello {user}\n").into_response()
        }
        Some(false) => {
            s.counters.incr("sessions_missing");
            (StatusCode::UNAUTHORIZED, "no session: log in first\n").into_response()
        }
        None => primary_unavailable(),
    }
}

async fn stats(State(s): State<Arc<Service>>) -> Response {
    match &s.primary {
        None => Json(s.counters_json()).into_response(),
        Some(primary) => match primary.ask(ASK_PRIMARY, |id| Message::ClusterStats { id }).await {
            Some(stats) => Json(stats).into_response(),
            None => primary_unavailable(),
        },
    }
}

async fn healthz(State(s): State<Arc<Service>>) -> Response {
    let Some(primary) = &s.primary else {
        return "ok".into_response();
    };
    match primary.ask(ASK_PRIMARY, |id| Message::ClusterReady { id }).await {
        Some(serde_json::Value::Bool(true)) => "ok".into_response(),
        _ => (StatusCode::SERVICE_UNAVAILABLE, "the cluster is starting\n").into_response(),
    }
}

fn primary_unavailable() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        "the shared state (the primary or Redis) did not answer\n",
    )
        .into_response()
}
