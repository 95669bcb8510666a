//! A WebSocket endpoint on an axum route (feature `websocket`): the handshake answered on hyper's upgrade, the
//! connection handed over as tungstenite's stream — the same tungstenite the load generator speaks.
//!
//! Why not axum's `ws` extractor: it brings a second tungstenite into the workspace (axum pins its own version), and
//! the labs teach what a connection costs, so the socket's settings ([`WebSocketConfig`]) are in plain view here.
//!
//! ```ignore
//! async fn chat(request: Request) -> Response {
//!     lab_kit::websocket::accept(request, config, |socket| async move { /* serve it */ })
//! }
//! ```

use std::future::Future;

use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use hyper_util::rt::TokioIo;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};
use tokio_tungstenite::WebSocketStream;

/// The connection after the handshake.
pub type Socket = WebSocketStream<TokioIo<hyper::upgrade::Upgraded>>;

/// Answers a WebSocket handshake with 101 and runs `serve` on the connection once it is upgraded (on a task of its
/// own); anything that is not a handshake gets a 400 saying what the endpoint expects.
pub fn accept<F, Fut>(mut request: Request, config: WebSocketConfig, serve: F) -> Response
where
    F: FnOnce(Socket) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Some(key) = handshake_key(request.headers()) else {
        return (
            StatusCode::BAD_REQUEST,
            "this is a WebSocket endpoint: connect with a WebSocket client (Upgrade: websocket, \
             Sec-WebSocket-Version: 13)\n",
        )
            .into_response();
    };
    let accept = derive_accept_key(key.as_bytes());
    let Some(upgrade) = request.extensions_mut().remove::<hyper::upgrade::OnUpgrade>() else {
        return (StatusCode::BAD_REQUEST, "this connection cannot be upgraded\n").into_response();
    };
    tokio::spawn(async move {
        let Ok(upgraded) = upgrade.await else {
            return;
        };
        serve(WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, Some(config)).await).await;
    });
    let mut response = StatusCode::SWITCHING_PROTOCOLS.into_response();
    let headers = response.headers_mut();
    headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    headers.insert(
        header::SEC_WEBSOCKET_ACCEPT,
        HeaderValue::from_str(&accept).expect("an accept key is base64"),
    );
    response
}

/// Settings for many connections of small messages (a chat, a feed): a 4 KiB read buffer — tungstenite's default is
/// 128 KiB a connection, 1.2 GiB of heap at 10,000 connections before anyone says a word — no write buffering beyond
/// the socket's own, and `max_message` bytes at most in a message (a chat line, not a file).
pub fn small_messages(max_message: usize) -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0)
        .max_message_size(Some(max_message))
        .max_frame_size(Some(max_message))
}

/// Writes each frame `outbox` yields to `sink` as a text message, feeding them and flushing when the outbox is
/// empty, so a burst of frames costs one system call, not one each; `written` is called after each frame. Returns
/// when the outbox closes or the socket fails. (A frame that is not UTF-8 is skipped: text frames must be.)
pub async fn write_text_frames(
    sink: &mut futures_util::stream::SplitSink<Socket, Message>,
    outbox: &mut tokio::sync::mpsc::UnboundedReceiver<bytes::Bytes>,
    mut written: impl FnMut(),
) {
    use futures_util::SinkExt;
    while let Some(frame) = outbox.recv().await {
        let Ok(text) = Utf8Bytes::try_from(frame) else {
            continue;
        };
        if sink.feed(Message::Text(text)).await.is_err() {
            return;
        }
        written();
        if outbox.is_empty() && sink.flush().await.is_err() {
            return;
        }
    }
}

/// The client's key, when the request is a WebSocket handshake (RFC 6455 §4.2.1).
fn handshake_key(headers: &HeaderMap) -> Option<&HeaderValue> {
    let has = |name: header::HeaderName, token: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
    };
    let handshake = has(header::UPGRADE, "websocket")
        && has(header::CONNECTION, "upgrade")
        && has(header::SEC_WEBSOCKET_VERSION, "13");
    handshake.then(|| headers.get(header::SEC_WEBSOCKET_KEY)).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_version_13_upgrade_with_a_key_is_a_handshake() {
        let mut headers = HeaderMap::new();
        headers.insert(header::UPGRADE, HeaderValue::from_static("WebSocket"));
        headers.insert(header::CONNECTION, HeaderValue::from_static("keep-alive, Upgrade"));
        headers.insert(header::SEC_WEBSOCKET_VERSION, HeaderValue::from_static("13"));
        assert!(handshake_key(&headers).is_none(), "no key");
        headers.insert(
            header::SEC_WEBSOCKET_KEY,
            HeaderValue::from_static("dGhlIHNhbXBsZSBub25jZQ=="),
        );
        assert_eq!(handshake_key(&headers).unwrap(), "dGhlIHNhbXBsZSBub25jZQ==");
        // RFC 6455's own example: this key's accept value.
        assert_eq!(
            derive_accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
        headers.insert(header::SEC_WEBSOCKET_VERSION, HeaderValue::from_static("8"));
        assert!(handshake_key(&headers).is_none(), "an old draft's version");
    }
}
