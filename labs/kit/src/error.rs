//! What can stop a lab server from starting or serving, each with the words a learner needs to fix it.

use std::net::SocketAddr;

/// Any error a lab's own setup returns (an `anyhow::Error` converts into it).
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Why a lab server stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// `--variant` names no variant of this lab.
    #[error("unknown variant {given:?}; known: {known}")]
    UnknownVariant {
        /// What was asked for.
        given: String,
        /// Every variant the lab knows, comma-separated.
        known: String,
    },
    /// The tokio runtime could not start (out of threads or memory).
    #[error("starting the tokio runtime")]
    Runtime(#[source] std::io::Error),
    /// The lab's own setup failed: a database, a Redis URL, a bad flag combination.
    #[error("{0}")]
    Setup(#[source] BoxError),
    /// The address could not be bound (in use, or not ours).
    #[error("binding {addr}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// `listening on ADDR` could not be written: the harness reading stdout went away.
    #[error("announcing the address on stdout")]
    Announce(#[source] std::io::Error),
    /// Serving failed after it started.
    #[error("serving")]
    Serve(#[source] BoxError),
}

impl ServeError {
    /// The error and its causes on one line, `outer: inner: innermost`, as a learner reads it on stderr.
    pub fn chain(&self) -> String {
        let mut line = self.to_string();
        let mut cause = std::error::Error::source(self);
        // `Setup` displays its source already; skip it so the message is not repeated.
        if matches!(self, ServeError::Setup(_)) {
            cause = cause.and_then(std::error::Error::source);
        }
        while let Some(e) = cause {
            line.push_str(": ");
            line.push_str(&e.to_string());
            cause = e.source();
        }
        line
    }
}
