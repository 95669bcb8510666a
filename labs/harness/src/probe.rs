//! The harness's own HTTP requests: probing `/healthz` until a server is ready, and reading `/stats`.
//!
//! Tests and labs probe readiness instead of sleeping: a fixed sleep is either too short on a slow machine (flaky)
//! or too long on a fast one (slow), and both hide what the server is really doing.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;

use crate::error::{BoxError, Context, RunError};

/// Sends `GET path` to `addr` and returns the status and body, giving up after `timeout`.
pub fn get(addr: SocketAddr, path: &str, timeout: Duration) -> Result<(u16, Bytes), RunError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting a runtime for a probe")?;
    runtime.block_on(async {
        tokio::time::timeout(timeout, async {
            let stream = tokio::net::TcpStream::connect(addr).await?;
            let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
            tokio::spawn(connection);
            let request = hyper::Request::get(path)
                .header(hyper::header::HOST, addr.to_string())
                .body(Empty::<Bytes>::new())?;
            let response = sender.send_request(request).await?;
            let status = response.status().as_u16();
            let body = response.into_body().collect().await?.to_bytes();
            Ok::<_, BoxError>((status, body))
        })
        .await
        .map_err(|_| RunError::environment(format!("GET {path} on {addr}: no answer within {timeout:?}")))?
        .with_context(|| format!("GET {path} on {addr}"))
    })
}

/// Polls `GET /healthz` until it answers 200, or fails after `within`.
pub fn wait_healthy(addr: SocketAddr, within: Duration) -> Result<(), RunError> {
    let deadline = Instant::now() + within;
    let mut last = String::from("no answer yet");
    while Instant::now() < deadline {
        match get(addr, "/healthz", Duration::from_secs(1)) {
            Ok((200, _)) => return Ok(()),
            Ok((status, _)) => last = format!("status {status}"),
            Err(e) => last = crate::error_chain(&e),
        }
        // A short pause between probes, not a sleep standing in for readiness.
        std::thread::sleep(Duration::from_millis(20));
    }
    Err(RunError::environment(format!(
        "{addr} did not become healthy within {within:?} (last: {last})"
    )))
}

/// What a lab server's `GET /stats` said.
#[derive(Debug, Default)]
pub struct Stats {
    /// Numbers (counters, ratios), by dotted name.
    pub counters: std::collections::BTreeMap<String, serde_json::Number>,
    /// Text the lab wants in the report (e.g. a query plan), by dotted name.
    pub notes: std::collections::BTreeMap<String, String>,
}

/// Reads `GET /stats` and flattens it into `name → number` and `name → text` (nested objects become dotted names).
pub fn stats(addr: SocketAddr) -> Result<Stats, RunError> {
    let (status, body) = get(addr, "/stats", Duration::from_secs(5))?;
    if status != 200 {
        return Err(RunError::environment(format!("GET /stats answered {status}")));
    }
    let value: serde_json::Value = serde_json::from_slice(&body).context("/stats is not JSON")?;
    let mut out = Stats::default();
    flatten("", &value, &mut out);
    Ok(out)
}

fn flatten(prefix: &str, value: &serde_json::Value, out: &mut Stats) {
    match value {
        serde_json::Value::Number(n) => {
            out.counters.insert(prefix.to_string(), n.clone());
        }
        serde_json::Value::String(s) => {
            out.notes.insert(prefix.to_string(), s.clone());
        }
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_stats_flatten_to_dotted_names() {
        let mut out = Stats::default();
        flatten(
            "",
            &serde_json::json!({"db_queries": 3, "lag": {"p99_us": 12.5}, "label": "x", "on": true}),
            &mut out,
        );
        assert_eq!(out.counters.len(), 2);
        assert_eq!(out.counters["db_queries"].as_u64(), Some(3));
        assert_eq!(out.counters["lag.p99_us"].as_f64(), Some(12.5));
        assert_eq!(out.notes.len(), 1);
        assert_eq!(out.notes["label"], "x");
    }
}
