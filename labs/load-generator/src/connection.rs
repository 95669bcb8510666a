//! One keep-alive HTTP/1.1 connection of the generator: open, send a request, read the whole response.
//!
//! Everything the engine knows about HTTP is here, behind [`Connection::open`], [`Connection::is_ready`] and
//! [`Connection::send`]: the engine's loops only decide *when* to send.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::Request;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// A kept-alive HTTP/1.1 connection: hyper's request handle and the connection future that does the I/O.
///
/// Why the worker polls `driver` itself instead of spawning it as its own task (hyper's usual pattern): with a
/// separate task every request costs an extra task wake-up and a hand-off through a channel. Measured on 2 cores
/// against wrk -t1 -c50 (bare hyper server), this alone did not show above the run-to-run noise; writing each
/// request from one buffer (`writev(false)` in `connect`) did: from 0.69-0.88x to 0.85-0.98x of wrk's requests/s.
pub struct Connection {
    sender: SendRequest<Full<Bytes>>,
    driver: Driver,
    /// The driver finished: the server closed the connection or it failed.
    closed: bool,
}

impl Connection {
    /// Connects to `addr` and performs hyper's client handshake.
    pub async fn open(addr: SocketAddr) -> Result<Connection, String> {
        let stream = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
        // Requests are small: send them now rather than waiting to fill a segment (Nagle).
        let _ = stream.set_nodelay(true);
        // One small buffer written with write(2) is cheaper than writev(2) over header and body pieces.
        let (sender, driver) = http1::Builder::new()
            .writev(false)
            .handshake(TokioIo::new(stream))
            .await
            .map_err(|e| e.to_string())?;
        Ok(Connection {
            sender,
            driver: Box::pin(driver),
            closed: false,
        })
    }

    /// True when a request can be sent now (the server has not closed the connection).
    pub async fn is_ready(&mut self) -> bool {
        let Connection { sender, driver, closed } = self;
        !*closed && driving(driver, closed, sender.ready()).await.is_ok()
    }

    /// Writes the request and reads the response to its last byte, discarding the body.
    pub async fn send(&mut self, request: Request<Full<Bytes>>) -> Result<u16, ()> {
        let Connection { sender, driver, closed } = self;
        let response = driving(driver, closed, sender.send_request(request))
            .await
            .map_err(|_| ())?;
        let status = response.status().as_u16();
        let mut body = response.into_body();
        let read_body = async {
            while let Some(frame) = body.frame().await {
                frame.map_err(|_| ())?;
            }
            Ok(status)
        };
        driving(driver, closed, read_body).await
    }
}

type Driver = Pin<Box<http1::Connection<TokioIo<TcpStream>, Full<Bytes>>>>;

/// Polls `work` to completion while also polling the connection's I/O `driver`, on the current task.
async fn driving<T>(driver: &mut Driver, closed: &mut bool, work: impl Future<Output = T>) -> T {
    let mut work = std::pin::pin!(work);
    std::future::poll_fn(|cx| {
        if !*closed && driver.as_mut().poll(cx).is_ready() {
            *closed = true;
        }
        work.as_mut().poll(cx)
    })
    .await
}
