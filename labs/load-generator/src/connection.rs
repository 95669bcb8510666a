//! One keep-alive HTTP/1.1 connection of the generator: open, write a request, read the whole response.
//!
//! Everything the engine knows about HTTP is here: the engine's loops only decide *when* to send.
//!
//! # Why not hyper's client
//!
//! A load generator does one thing per response: find where it ends. hyper's client builds a `Response` with a
//! `HeaderMap`, hands the body over as frames through a connection task, and keeps a request channel per connection;
//! that is the right work for an application and wasted work for a generator, which throws the answer away. wrk
//! writes pre-serialised requests and parses responses with a small state machine; this does the same with
//! `httparse` (the parser hyper itself uses): the request is bytes written once per template expansion, the head is
//! parsed in place from one reused buffer, and the body is skipped by its `Content-Length` or its chunked framing
//! without being copied anywhere.
//!
//! Measured on 2 cores against the baseline lab's bare-hyper server, one generator thread, 50 connections: see
//! `labs/load-generator/README.md` ("against wrk") for the figures and the script that produces them.

use std::net::SocketAddr;
use std::time::Instant;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::body::{due_after, piece_at, Rates};

/// Most bytes a response head may take (status line and headers); a longer head is a protocol error here.
const MAX_HEAD: usize = 64 * 1024;
/// Most headers a response may carry.
const MAX_HEADERS: usize = 64;
/// Size of each read.
const READ_SIZE: usize = 16 * 1024;
/// The most of a response body [`Connection::send_keeping`] keeps.
pub const MAX_KEPT_BODY: usize = 4 << 20;

/// Why a request got no response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendError {
    /// The connection failed, or the response was malformed.
    Io,
    /// A kept-alive connection was closed by the server before any byte of the response arrived: the server timed
    /// the idle connection out as the request was being written. The request never reached the application, so an
    /// idempotent one may be sent again on a new connection (and is counted as retried).
    ClosedBeforeResponse,
}

/// A kept-alive HTTP/1.1 connection.
pub struct Connection {
    stream: TcpStream,
    /// Read buffer, reused for every response.
    buf: Vec<u8>,
    /// The server said `Connection: close`, or ended the stream: no further request may be sent.
    closed: bool,
    /// At least one response was read on it: an immediate close is then the keep-alive race, not a refusal.
    reused: bool,
    /// How fast it uploads and reads (a slow client), when limited.
    rates: Rates,
}

/// A response, read to its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Answer {
    /// Its status code.
    pub status: u16,
    /// When its first byte arrived: time to first byte is this minus the send.
    pub first_byte: Instant,
    /// Bytes of the request written (less than its length when the server answered before reading it all).
    pub sent: u64,
    /// Bytes of the response read: head and body, as they came over the wire.
    pub received: u64,
}

/// A request longer than this is written while the response is watched for, so an early answer (413, 422) is read
/// instead of dying with the upload: curl and browsers do the same.
const WRITE_WHILE_READING_ABOVE: usize = 64 * 1024;

impl Connection {
    /// Connects to `addr`.
    pub async fn open(addr: SocketAddr) -> Result<Connection, String> {
        let stream = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
        // Requests are small: send them now rather than waiting to fill a segment (Nagle).
        let _ = stream.set_nodelay(true);
        Ok(Connection {
            stream,
            buf: vec![0; READ_SIZE],
            closed: false,
            reused: false,
            rates: Rates::default(),
        })
    }

    /// Limits how fast this connection uploads and reads.
    pub fn with_rates(mut self, rates: Rates) -> Connection {
        self.rates = rates;
        self
    }

    /// True when another request may be sent on it: the server has not said `Connection: close`, and has not
    /// closed it while it sat idle.
    ///
    /// The second check is what a good HTTP client does before reusing a pooled connection (hyper's pool watches
    /// for it, browsers too): a server that shuts down gracefully closes its idle connections, and a request sent
    /// on one of those afterwards would fail for no reason but the client's inattention. It costs no system call
    /// unless the socket was reported readable; what remains is the true race, a close and a send crossing on the
    /// wire, which the engine retries for idempotent requests.
    pub fn is_reusable(&self) -> bool {
        if self.closed {
            return false;
        }
        let mut probe = [0u8; 1];
        // Ok(0): the server closed it. Ok(n): bytes nobody asked for (an unsolicited 408, say): not safe to reuse.
        matches!(self.stream.try_read(&mut probe), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
    }

    /// True when a response has already been read on it.
    pub fn was_used(&self) -> bool {
        self.reused
    }

    /// Writes `request` (a whole serialised request) and reads the response to its last byte, discarding the body.
    /// `head` says the request was a HEAD, whose response has no body whatever its headers say.
    pub async fn send(&mut self, request: &[u8], head: bool) -> Result<Answer, SendError> {
        self.send_keeping(request, head, None).await
    }

    /// As [`Connection::send`], and when `body` is given, the response's body is copied into it (cleared first;
    /// chunked framing removed; at most [`MAX_KEPT_BODY`] bytes, the rest skipped). Only what needs the body — an
    /// Artillery `capture` — pays for the copy.
    pub async fn send_keeping(
        &mut self,
        request: &[u8],
        head: bool,
        mut body_out: Option<&mut Vec<u8>>,
    ) -> Result<Answer, SendError> {
        if let Some(kept) = body_out.as_deref_mut() {
            kept.clear();
        }
        let lost = if self.reused {
            SendError::ClosedBeforeResponse
        } else {
            SendError::Io
        };
        let rates = self.rates;
        let Connection { stream, buf, .. } = self;
        let (mut reader, mut writer) = stream.split();
        let mut read = HeadRead::default();
        let mut sent = 0u64;
        let written_whole = if request.len() <= WRITE_WHILE_READING_ABOVE && rates.upload.is_none() {
            if writer.write_all(request).await.is_err() {
                self.closed = true;
                return Err(lost);
            }
            sent = request.len() as u64;
            if read_head(&mut reader, buf, head, &mut read).await.is_err() {
                self.closed = true;
                return Err(read.error(lost));
            }
            true
        } else {
            // Write and watch for the answer at once: a server may refuse an upload after its first bytes.
            let (got, whole) = {
                let write = write_paced(&mut writer, request, rates.upload, &mut sent);
                let answer = read_head(&mut reader, buf, head, &mut read);
                tokio::pin!(write, answer);
                let mut whole = false;
                let mut writing = true;
                let got = loop {
                    tokio::select! {
                        written = &mut write, if writing => {
                            writing = false;
                            whole = written.is_ok();
                        }
                        got = &mut answer => break got,
                    }
                };
                (got, whole)
            };
            if got.is_err() {
                self.closed = true;
                return Err(read.error(lost));
            }
            whole
        };
        let Some(parsed) = read.head else {
            self.closed = true;
            return Err(read.error(lost));
        };
        // A request the server answered before reading all of it leaves the connection mid-request: never reuse it.
        if parsed.close || !written_whole {
            self.closed = true;
        }
        let first_byte = read.first_byte.unwrap_or_else(Instant::now);
        let mut received = read.filled as u64;
        // The body: skip it by its framing, reading into the same buffer (at the read rate, if there is one).
        let piece = rates.read.map_or(self.buf.len(), |r| piece_at(r, self.buf.len()));
        let mut body = Body::new(parsed.framing);
        let mut pending = parsed.len..read.filled;
        loop {
            let consumed = body
                .feed_keeping(&self.buf[pending.clone()], body_out.as_deref_mut())
                .map_err(|Malformed| self.closed = true);
            if consumed.is_err() {
                return Err(SendError::Io);
            }
            if body.is_done() {
                break;
            }
            if let Some(rate) = rates.read {
                tokio::time::sleep_until(due_after(first_byte, received, rate).into()).await;
            }
            let n = match self.stream.read(&mut self.buf[..piece]).await {
                Ok(n) => n,
                Err(_) => return self.fail(SendError::Io),
            };
            if n == 0 {
                if body.ends_at_close() {
                    self.closed = true;
                    break;
                }
                return self.fail(SendError::Io);
            }
            received += n as u64;
            pending = 0..n;
        }
        self.reused = true;
        Ok(Answer {
            status: parsed.status,
            first_byte,
            sent,
            received,
        })
    }

    fn fail<T>(&mut self, error: SendError) -> Result<T, SendError> {
        self.closed = true;
        Err(error)
    }
}

/// How far reading a response head got.
#[derive(Default)]
struct HeadRead {
    /// Bytes in the buffer.
    filled: usize,
    /// When the first of them arrived.
    first_byte: Option<Instant>,
    /// The head, once whole.
    head: Option<Head>,
}

impl HeadRead {
    /// The error of a head that never came whole: the keep-alive race when not one byte came.
    fn error(&self, lost: SendError) -> SendError {
        if self.filled == 0 {
            lost
        } else {
            SendError::Io
        }
    }
}

/// Reads until httparse sees a whole head, growing `buf` up to [`MAX_HEAD`].
async fn read_head<R: AsyncReadExt + Unpin>(
    reader: &mut R,
    buf: &mut Vec<u8>,
    head_request: bool,
    state: &mut HeadRead,
) -> Result<(), ()> {
    loop {
        if state.filled == buf.len() {
            if buf.len() >= MAX_HEAD {
                return Err(());
            }
            buf.resize(buf.len() * 2, 0);
        }
        let n = reader.read(&mut buf[state.filled..]).await.map_err(|_| ())?;
        if n == 0 {
            return Err(());
        }
        state.first_byte.get_or_insert_with(Instant::now);
        state.filled += n;
        match parse_head(&buf[..state.filled], head_request) {
            Ok(Some(parsed)) => {
                state.head = Some(parsed);
                return Ok(());
            }
            Ok(None) => continue,
            Err(Malformed) => return Err(()),
        }
    }
}

/// Writes `request` whole, at `rate` bytes per second when given; `sent` counts what left.
async fn write_paced<W: AsyncWriteExt + Unpin>(
    writer: &mut W,
    request: &[u8],
    rate: Option<u64>,
    sent: &mut u64,
) -> std::io::Result<()> {
    let Some(rate) = rate else {
        // Pieces of 64 KiB, so `sent` says how far an upload got when the server answered early.
        for piece in request.chunks(WRITE_WHILE_READING_ABOVE) {
            writer.write_all(piece).await?;
            *sent += piece.len() as u64;
        }
        return Ok(());
    };
    let start = Instant::now();
    for piece in request.chunks(piece_at(rate, WRITE_WHILE_READING_ABOVE)) {
        tokio::time::sleep_until(due_after(start, *sent, rate).into()).await;
        writer.write_all(piece).await?;
        *sent += piece.len() as u64;
    }
    Ok(())
}

/// The response is not HTTP/1.x as the generator reads it (a bad head, or broken chunked framing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("malformed HTTP response")]
pub struct Malformed;

/// A response head, parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    /// The status code.
    pub status: u16,
    /// How the body ends.
    pub framing: Framing,
    /// Bytes the head took; the body starts after them.
    pub len: usize,
    /// The server said `Connection: close`.
    pub close: bool,
}

/// Parses a response head from the start of `buf`: `Ok(None)` when more bytes are needed, `Err` when it is not
/// HTTP/1.x. `head_request` says the request was a HEAD (its response has no body, whatever its headers say).
pub fn parse_head(buf: &[u8], head_request: bool) -> Result<Option<Head>, Malformed> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut headers);
    match response.parse(buf) {
        Ok(httparse::Status::Complete(len)) => {
            let status = response.code.unwrap_or(0);
            Ok(Some(Head {
                status,
                framing: Framing::of(status, head_request, response.headers),
                len,
                close: response.headers.iter().any(|h| is_token(h, "connection", "close")),
            }))
        }
        Ok(httparse::Status::Partial) => Ok(None),
        Err(_) => Err(Malformed),
    }
}

/// True when header `h` is `name` and lists `token` (case-insensitive, comma-separated).
fn is_token(h: &httparse::Header, name: &str, token: &str) -> bool {
    h.name.eq_ignore_ascii_case(name)
        && std::str::from_utf8(h.value).is_ok_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
}

/// How a response's body ends (RFC 9112, section 6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// No body: HEAD, 1xx, 204, 304.
    None,
    /// Exactly this many bytes.
    Length(u64),
    /// Chunked transfer coding.
    Chunked,
    /// Until the server closes the connection.
    UntilClose,
}

impl Framing {
    fn of(status: u16, head: bool, headers: &[httparse::Header]) -> Framing {
        if head || (100..200).contains(&status) || status == 204 || status == 304 {
            return Framing::None;
        }
        if headers.iter().any(|h| is_token(h, "transfer-encoding", "chunked")) {
            return Framing::Chunked;
        }
        let length = headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case("content-length"))
            .and_then(|h| std::str::from_utf8(h.value).ok())
            .and_then(|v| v.trim().parse().ok());
        match length {
            Some(n) => Framing::Length(n),
            None => Framing::UntilClose,
        }
    }
}

/// Skips a body as its bytes arrive, without keeping them.
#[derive(Debug)]
pub struct Body {
    framing: Framing,
    /// Bytes of fixed-length body still to come.
    remaining: u64,
    chunked: Chunked,
}

/// Where a chunked body is: in a size line, in a chunk's data, in its CRLF, or in the trailers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chunked {
    /// Reading the hex size; `in_extension` after a `;` until the line ends.
    Size {
        value: u64,
        digits: bool,
        in_extension: bool,
    },
    /// The size line's CR was seen.
    SizeLf {
        value: u64,
    },
    /// Skipping this many data bytes.
    Data(u64),
    /// After the data: expecting CR, then LF.
    DataCr,
    DataLf,
    /// In the trailer section; `line_empty` while the current line has no byte yet.
    Trailer {
        line_empty: bool,
    },
    /// A trailer line's CR was seen.
    TrailerLf {
        line_empty: bool,
    },
    /// The last chunk and the trailers have been read.
    Done,
}

impl Body {
    /// A body framed as `framing`, none of it read yet.
    pub fn new(framing: Framing) -> Body {
        Body {
            framing,
            remaining: if let Framing::Length(n) = framing { n } else { 0 },
            chunked: Chunked::Size {
                value: 0,
                digits: false,
                in_extension: false,
            },
        }
    }

    /// True once the whole body has been read.
    pub fn is_done(&self) -> bool {
        match self.framing {
            Framing::None => true,
            Framing::Length(_) => self.remaining == 0,
            Framing::Chunked => self.chunked == Chunked::Done,
            Framing::UntilClose => false,
        }
    }

    fn ends_at_close(&self) -> bool {
        self.framing == Framing::UntilClose
    }

    /// Consumes the body's bytes in `bytes`; `Err` on a malformed chunked framing. Bytes past the body's end are
    /// ignored: the generator never pipelines, so a server that sends them is wrong, and the next read is fresh.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<(), Malformed> {
        self.feed_keeping(bytes, None)
    }

    /// As [`Body::feed`], also appending the body's own bytes (not its chunk framing) to `kept`, up to
    /// [`MAX_KEPT_BODY`].
    pub fn feed_keeping(&mut self, bytes: &[u8], mut kept: Option<&mut Vec<u8>>) -> Result<(), Malformed> {
        let mut keep = |data: &[u8]| {
            if let Some(kept) = kept.as_deref_mut() {
                let room = MAX_KEPT_BODY.saturating_sub(kept.len());
                kept.extend_from_slice(&data[..data.len().min(room)]);
            }
        };
        match self.framing {
            Framing::None => Ok(()),
            Framing::UntilClose => {
                keep(bytes);
                Ok(())
            }
            Framing::Length(_) => {
                let take = (bytes.len() as u64).min(self.remaining) as usize;
                keep(&bytes[..take]);
                self.remaining -= take as u64;
                Ok(())
            }
            Framing::Chunked => {
                let mut i = 0;
                while i < bytes.len() && self.chunked != Chunked::Done {
                    if let Chunked::Data(left) = self.chunked {
                        let take = left.min((bytes.len() - i) as u64);
                        keep(&bytes[i..i + take as usize]);
                        i += take as usize;
                        self.chunked = if take == left {
                            Chunked::DataCr
                        } else {
                            Chunked::Data(left - take)
                        };
                        continue;
                    }
                    self.chunked = step(self.chunked, bytes[i]).map_err(|()| Malformed)?;
                    i += 1;
                }
                Ok(())
            }
        }
    }
}

/// One byte of chunked framing outside a chunk's data.
fn step(state: Chunked, byte: u8) -> Result<Chunked, ()> {
    let after_size = |value: u64| {
        if value == 0 {
            Chunked::Trailer { line_empty: true }
        } else {
            Chunked::Data(value)
        }
    };
    Ok(match state {
        Chunked::Size {
            value,
            digits,
            in_extension,
        } => match byte {
            b'\r' if digits => Chunked::SizeLf { value },
            b'\n' if digits => after_size(value),
            _ if in_extension => state,
            b';' if digits => Chunked::Size {
                value,
                digits,
                in_extension: true,
            },
            b' ' | b'\t' if digits => state,
            _ => {
                let digit = (byte as char).to_digit(16).ok_or(())? as u64;
                Chunked::Size {
                    value: value.checked_mul(16).and_then(|v| v.checked_add(digit)).ok_or(())?,
                    digits: true,
                    in_extension,
                }
            }
        },
        Chunked::SizeLf { value } if byte == b'\n' => after_size(value),
        Chunked::DataCr if byte == b'\r' => Chunked::DataLf,
        Chunked::DataLf if byte == b'\n' => Chunked::Size {
            value: 0,
            digits: false,
            in_extension: false,
        },
        Chunked::Trailer { line_empty } => match byte {
            b'\r' => Chunked::TrailerLf { line_empty },
            b'\n' if line_empty => Chunked::Done,
            b'\n' => Chunked::Trailer { line_empty: true },
            _ => Chunked::Trailer { line_empty: false },
        },
        Chunked::TrailerLf { line_empty } if byte == b'\n' => {
            if line_empty {
                Chunked::Done
            } else {
                Chunked::Trailer { line_empty: true }
            }
        }
        _ => return Err(()),
    })
}

/// Serialises a request into `out` (cleared first): the request line, `Host`, the extra headers, `Connection:
/// close` when asked, `Content-Length` when there is a body, then the body.
pub fn serialize(
    method: &http::Method,
    path: &str,
    host: &[u8],
    headers: &http::HeaderMap,
    body: &[u8],
    close: bool,
    out: &mut Vec<u8>,
) {
    out.clear();
    out.extend_from_slice(method.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(path.as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\nHost: ");
    out.extend_from_slice(host);
    out.extend_from_slice(b"\r\n");
    for (name, value) in headers {
        if name == http::header::HOST || name == http::header::CONTENT_LENGTH {
            continue;
        }
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if close {
        out.extend_from_slice(b"Connection: close\r\n");
    }
    let needs_length =
        !body.is_empty() || matches!(*method, http::Method::POST | http::Method::PUT | http::Method::PATCH);
    if needs_length {
        out.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn skip(framing: Framing, pieces: &[&[u8]]) -> Result<bool, ()> {
        let mut body = Body::new(framing);
        for piece in pieces {
            body.feed(piece).map_err(|Malformed| ())?;
        }
        Ok(body.is_done())
    }

    #[test]
    fn a_chunked_body_ends_after_its_last_chunk_and_trailers_however_it_is_split() {
        let whole: &[u8] = b"5\r\nhello\r\n1a;ext=1\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nX-Trailer: yes\r\n\r\n";
        assert_eq!(skip(Framing::Chunked, &[whole]), Ok(true));
        // Every split point, byte by byte: the state machine must not care where reads end.
        for at in 0..whole.len() {
            let (a, b) = whole.split_at(at);
            assert_eq!(skip(Framing::Chunked, &[a, b]), Ok(true), "split at {at}");
            assert_eq!(skip(Framing::Chunked, &[a]), Ok(false), "incomplete at {at}");
        }
        assert_eq!(skip(Framing::Chunked, &[b"0\r\n\r\n"]), Ok(true));
    }

    #[test]
    fn a_kept_body_is_the_payload_without_its_chunk_framing() {
        let mut body = Body::new(Framing::Chunked);
        let mut kept = Vec::new();
        for piece in [&b"5\r\nhel"[..], b"lo\r\n6;x=1\r\n worl", b"d\r\n0\r\n\r\n"] {
            body.feed_keeping(piece, Some(&mut kept)).unwrap();
        }
        assert!(body.is_done());
        assert_eq!(kept, b"hello world");

        let mut body = Body::new(Framing::Length(4));
        let mut kept = Vec::new();
        body.feed_keeping(b"{\"a\"}and-the-next-response", Some(&mut kept))
            .unwrap();
        assert_eq!(kept, b"{\"a\"");
    }

    #[test]
    fn malformed_chunk_framing_is_an_error_not_a_hang() {
        assert_eq!(skip(Framing::Chunked, &[b"zz\r\n"]), Err(()));
        assert_eq!(skip(Framing::Chunked, &[b"2\r\nabX\r\n"]), Err(()));
        assert_eq!(skip(Framing::Chunked, &[b"ffffffffffffffffff\r\n"]), Err(()));
    }

    #[test]
    fn a_fixed_length_body_ends_at_its_length() {
        assert_eq!(skip(Framing::Length(10), &[b"01234", b"56789"]), Ok(true));
        assert_eq!(skip(Framing::Length(10), &[b"01234"]), Ok(false));
        assert_eq!(skip(Framing::None, &[]), Ok(true));
    }

    #[test]
    fn framing_follows_the_rfc() {
        let h = |name, value| httparse::Header { name, value };
        assert_eq!(
            Framing::of(200, false, &[h("Content-Length", b"12")]),
            Framing::Length(12)
        );
        assert_eq!(
            Framing::of(
                200,
                false,
                &[h("Transfer-Encoding", b"gzip, chunked"), h("Content-Length", b"3")]
            ),
            Framing::Chunked
        );
        assert_eq!(Framing::of(204, false, &[h("Content-Length", b"12")]), Framing::None);
        assert_eq!(Framing::of(200, true, &[h("Content-Length", b"12")]), Framing::None);
        assert_eq!(Framing::of(200, false, &[]), Framing::UntilClose);
    }

    #[test]
    fn a_request_is_serialised_once_with_host_and_length() {
        let mut headers = http::HeaderMap::new();
        headers.insert("x-request-id", http::header::HeaderValue::from_static("7"));
        let mut out = Vec::new();
        serialize(
            &http::Method::POST,
            "/orders?x=1",
            b"127.0.0.1:80",
            &headers,
            b"{}",
            true,
            &mut out,
        );
        assert_eq!(
            out,
            b"POST /orders?x=1 HTTP/1.1\r\nHost: 127.0.0.1:80\r\nx-request-id: 7\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}"
        );
        serialize(
            &http::Method::GET,
            "/",
            b"h",
            &http::HeaderMap::new(),
            b"",
            false,
            &mut out,
        );
        assert_eq!(out, b"GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    }

    /// A server that answers each request on a connection with the next of `responses`, then closes.
    async fn server(responses: Vec<&'static [u8]>) -> SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 4096];
            for response in responses {
                // One read is one request here: the client writes each request in one call.
                if stream.read(&mut buf).await.unwrap_or(0) == 0 {
                    return;
                }
                stream.write_all(response).await.unwrap();
            }
        });
        addr
    }

    #[tokio::test]
    async fn responses_are_read_to_their_end_and_the_connection_is_reused() {
        let addr = server(vec![
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
            b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
            b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
        ])
        .await;
        let mut c = Connection::open(addr).await.unwrap();
        let get = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
        assert_eq!(c.send(get, false).await.map(|a| a.status), Ok(200));
        assert!(c.is_reusable() && c.was_used());
        assert_eq!(c.send(get, false).await.map(|a| a.status), Ok(201));
        assert_eq!(c.send(get, false).await.map(|a| a.status), Ok(503));
        assert!(!c.is_reusable(), "the server said Connection: close");
    }

    #[tokio::test]
    async fn an_idle_connection_the_server_closed_is_not_reused() {
        let addr = server(vec![b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"]).await;
        let mut c = Connection::open(addr).await.unwrap();
        assert_eq!(
            c.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", false)
                .await
                .map(|a| a.status),
            Ok(200)
        );
        // The server closes it after its one response, as a draining server closes its idle connections. Once the
        // close has arrived, the client sees it before sending (up to 1 s for the FIN to be delivered).
        let mut closed_seen = false;
        for _ in 0..100 {
            if !c.is_reusable() {
                closed_seen = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert!(closed_seen, "a connection closed by the server must not look reusable");
    }

    #[tokio::test]
    async fn a_kept_alive_connection_closed_before_any_response_byte_is_the_retryable_race() {
        let addr = server(vec![b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"]).await;
        let mut c = Connection::open(addr).await.unwrap();
        let get = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
        assert_eq!(c.send(get, false).await.map(|a| a.status), Ok(200));
        // The server has closed the connection after its one response: the next request meets the close.
        assert_eq!(
            c.send(get, false).await.map(|a| a.status),
            Err(SendError::ClosedBeforeResponse)
        );
        // On a fresh connection the same close is a plain failure: nothing says the server ever answers.
        let addr = server(vec![]).await;
        let mut fresh = Connection::open(addr).await.unwrap();
        assert_eq!(fresh.send(get, false).await.map(|a| a.status), Err(SendError::Io));
    }

    #[tokio::test]
    async fn a_truncated_response_is_an_error() {
        let addr = server(vec![b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"]).await;
        let mut c = Connection::open(addr).await.unwrap();
        assert_eq!(
            c.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", false).await,
            Err(SendError::Io)
        );
    }

    /// A server that reads a request's head and `read_first` bytes of its body, answers `response`, and closes
    /// with the rest unread (the kernel then resets the connection, as a real server refusing an upload does).
    async fn refusing_server(read_first: usize, response: &'static [u8]) -> SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut seen = Vec::new();
            let mut buf = [0u8; 4096];
            while let Ok(n @ 1..) = stream.read(&mut buf).await {
                seen.extend_from_slice(&buf[..n]);
                let head_end = seen.windows(4).position(|w| w == b"\r\n\r\n");
                if head_end.is_some_and(|end| seen.len() >= end + 4 + read_first) {
                    break;
                }
            }
            stream.write_all(response).await.unwrap();
        });
        addr
    }

    fn upload(size: usize) -> Vec<u8> {
        let mut request = format!("POST /import HTTP/1.1\r\nHost: x\r\nContent-Length: {size}\r\n\r\n").into_bytes();
        request.resize(request.len() + size, b'a');
        request
    }

    #[tokio::test]
    async fn an_answer_that_comes_before_the_upload_ends_is_read_not_lost() {
        // 32 MiB is more than loopback's socket buffers hold: the write cannot finish before the server answers.
        let request = upload(32 << 20);
        for _ in 0..5 {
            let addr = refusing_server(
                1000,
                b"HTTP/1.1 422 Unprocessable Content\r\nContent-Length: 7\r\n\r\nline 3\n",
            )
            .await;
            let mut c = Connection::open(addr).await.unwrap();
            let answer = c.send(&request, false).await.expect("the early answer is read");
            assert_eq!(answer.status, 422);
            assert!(
                answer.sent < request.len() as u64,
                "the upload stopped early: {} bytes sent",
                answer.sent
            );
            assert!(!c.is_reusable(), "a connection left mid-request is never reused");
        }
    }

    #[tokio::test]
    async fn bytes_received_are_the_whole_response_as_it_came_over_the_wire() {
        let response: &[u8] = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
        let addr = server(vec![response]).await;
        let mut c = Connection::open(addr).await.unwrap();
        let sent = Instant::now();
        let answer = c.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", false).await.unwrap();
        assert_eq!(answer.received, response.len() as u64);
        assert_eq!(answer.sent, 27);
        assert!(answer.first_byte >= sent);
    }

    #[tokio::test]
    async fn a_slow_reader_takes_at_least_its_size_over_its_rate() {
        // 256 KiB read at 1 MiB/s cannot take less than 250 ms, however fast the server writes (a lower bound:
        // a busy machine only makes it longer).
        static BODY: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
        let body = BODY.get_or_init(|| {
            let mut r = b"HTTP/1.1 200 OK\r\nContent-Length: 262144\r\n\r\n".to_vec();
            r.resize(r.len() + 262_144, b'x');
            r
        });
        let addr = server(vec![body.as_slice()]).await;
        let rates = Rates {
            upload: None,
            read: Some(1 << 20),
        };
        let mut c = Connection::open(addr).await.unwrap().with_rates(rates);
        let began = Instant::now();
        let answer = c.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", false).await.unwrap();
        assert_eq!(answer.received, body.len() as u64);
        let took = began.elapsed();
        assert!(
            took >= std::time::Duration::from_millis(245),
            "read 256 KiB at 1 MiB/s in {took:?}"
        );
    }

    #[tokio::test]
    async fn a_slow_uploader_takes_at_least_its_size_over_its_rate() {
        let addr = refusing_server(100_000, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n").await;
        let rates = Rates {
            upload: Some(1 << 20),
            read: None,
        };
        let mut c = Connection::open(addr).await.unwrap().with_rates(rates);
        let request = upload(100_000);
        let began = Instant::now();
        let answer = c.send(&request, false).await.unwrap();
        assert_eq!((answer.status, answer.sent), (200, request.len() as u64));
        let took = began.elapsed();
        assert!(
            took >= std::time::Duration::from_millis(90),
            "uploaded 100 kB at 1 MiB/s in {took:?}"
        );
    }
}
