//! Request bodies and transfer rates: what an upload carries, and how fast bytes may go each way.
//!
//! A body is a file's bytes, or *generated*: a head, then one unit repeated until the body reaches a size — enough
//! to build a 32 MiB CSV upload whose third line is wrong (`head = "id,name\n1,a\nnot-a-row\n"`, `repeat =
//! "2,b\n"`), without committing 32 MiB to the repository. Whole units only, so a generated CSV never ends in half
//! a row.
//!
//! Rates model slow clients, not slow networks: an *upload rate* paces the request's bytes (a phone on a weak
//! uplink), a *read rate* paces how fast the response is read (a client that cannot keep up). A reader that reads
//! slowly lets the kernel's receive buffer fill; TCP then closes its window and the server's writes stall — which
//! is the backpressure a streaming server must respect.

use std::path::PathBuf;

use bytes::Bytes;

/// Where a request body comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodySpec {
    /// A file's bytes, read once when the run starts.
    File(PathBuf),
    /// `head`, then `repeat` as many whole times as it takes to reach `size` bytes.
    Generated {
        /// Bytes at the start (a CSV header, a bad row).
        head: String,
        /// The unit repeated after it; must not be empty.
        repeat: String,
        /// The least size of the body, in bytes.
        size: u64,
    },
}

impl BodySpec {
    /// The body's bytes; the error names the file or the problem.
    pub fn build(&self) -> Result<Bytes, String> {
        match self {
            BodySpec::File(path) => std::fs::read(path)
                .map(Bytes::from)
                .map_err(|e| format!("body file {}: {e}", path.display())),
            BodySpec::Generated { head, repeat, size } => {
                if repeat.is_empty() {
                    return Err("a generated body needs a non-empty unit to repeat".into());
                }
                let size = usize::try_from(*size).map_err(|_| format!("a body of {size} bytes is too large"))?;
                let units = size.saturating_sub(head.len()).div_ceil(repeat.len());
                let mut body = Vec::with_capacity(head.len() + units * repeat.len());
                body.extend_from_slice(head.as_bytes());
                for _ in 0..units {
                    body.extend_from_slice(repeat.as_bytes());
                }
                Ok(body.into())
            }
        }
    }
}

/// Parses a byte size as people type it: `512`, `64KiB`, `16MB`, `1.5GiB`. `K`, `M` and `G` are binary multiples
/// whether written `KB` or `KiB` (as memory sizes usually are), so `16MB` is 16 × 1024 × 1024 bytes.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let multiple: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        _ => return Err(format!("invalid size {text:?}: expected e.g. 512, 64KiB, 16MB")),
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("invalid size {text:?}: expected e.g. 512, 64KiB, 16MB"))?;
    if !value.is_finite() || value < 0.0 {
        return Err(format!("invalid size {text:?}"));
    }
    Ok((value * multiple as f64).round() as u64)
}

/// Parses a transfer rate, `SIZE/s` (`1MB/s`, `256KiB/s`), into bytes per second; zero is refused.
pub fn parse_rate(text: &str) -> Result<u64, String> {
    let size = text
        .trim()
        .strip_suffix("/s")
        .ok_or_else(|| format!("invalid rate {text:?}: expected a size per second, e.g. 1MB/s"))?;
    match parse_size(size)? {
        0 => Err(format!("rate {text:?} must be more than zero")),
        n => Ok(n),
    }
}

/// How fast a connection may move bytes; `None` is as fast as the network goes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rates {
    /// The request's bytes per second (a slow uploader).
    pub upload: Option<u64>,
    /// The response's bytes per second (a slow reader).
    pub read: Option<u64>,
}

/// How many bytes to move at once at `rate` bytes per second: about 5 ms' worth, so the pace is smooth on a timer
/// with millisecond resolution, and at most `most`.
pub(crate) fn piece_at(rate: u64, most: usize) -> usize {
    usize::try_from(rate / 200)
        .unwrap_or(most)
        .clamp(256, most.max(256))
        .min(most)
}

/// When `done` bytes may have moved, counting from `start`, at `rate` bytes per second.
pub(crate) fn due_after(start: std::time::Instant, done: u64, rate: u64) -> std::time::Instant {
    start + std::time::Duration::from_secs_f64(done as f64 / rate as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_rates_read_as_people_write_them() {
        assert_eq!(parse_size("512"), Ok(512));
        assert_eq!(parse_size("64KiB"), Ok(65_536));
        assert_eq!(parse_size("16MB"), Ok(16 << 20));
        assert_eq!(parse_size("1.5 GiB"), Ok(3 << 29));
        assert!(parse_size("12 parsecs").is_err());
        assert!(parse_size("-1MB").is_err());
        assert_eq!(parse_rate("1MB/s"), Ok(1 << 20));
        assert!(parse_rate("1MB").unwrap_err().contains("per second"));
        assert!(parse_rate("0/s").is_err());
    }

    #[test]
    fn a_generated_body_is_the_head_then_whole_units_up_to_the_size() {
        let spec = BodySpec::Generated {
            head: "id,name\n".into(),
            repeat: "1,a\n".into(),
            size: 17,
        };
        let body = spec.build().unwrap();
        // 8 bytes of head, then ceil(9 / 4) = 3 units: never half a row.
        assert_eq!(&body[..], b"id,name\n1,a\n1,a\n1,a\n");
        let empty = BodySpec::Generated {
            head: String::new(),
            repeat: String::new(),
            size: 10,
        };
        assert!(empty.build().is_err());
        let missing = BodySpec::File("/no/such/body.csv".into()).build().unwrap_err();
        assert!(missing.contains("/no/such/body.csv"), "{missing}");
    }

    #[test]
    fn pieces_are_about_five_milliseconds_of_the_rate() {
        assert_eq!(piece_at(1 << 20, 16 << 10), 5242);
        assert_eq!(piece_at(1_000, 16 << 10), 256, "never byte by byte");
        assert_eq!(piece_at(1 << 30, 16 << 10), 16 << 10, "never more than the buffer");
    }
}
