//! The URL under load: parsed by hand (paths may hold `{zipf:N}`, which no URL parser accepts), resolved, and
//! refused when it is not on this machine unless `--allow-remote` is given — a learner must never load-test
//! production by accident.

use std::net::{SocketAddr, ToSocketAddrs};

use http::header::HeaderValue;

/// Where requests go.
#[derive(Debug, Clone)]
pub struct Target {
    /// Resolved address connections are made to.
    pub addr: SocketAddr,
    /// The `Host` header value (`host:port` as written).
    pub host: HeaderValue,
    /// The path (with placeholders) of the URL, `/` when it had none.
    pub path: String,
}

/// Why a URL cannot be a target.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// Not of the form `http://host[:port][/path]`.
    #[error("{url:?} is not a URL the generator can load: {why}")]
    Malformed {
        /// The URL.
        url: String,
        /// Why.
        why: String,
    },
    /// The host did not resolve.
    #[error("cannot resolve {host}: {why}")]
    Unresolved {
        /// The host.
        host: String,
        /// Why.
        why: String,
    },
    /// The host is not loopback and `--allow-remote` was not given.
    #[error("{host} ({addr}) is not on this machine; load tests target loopback only. Pass --allow-remote if you really mean to load a remote host you own")]
    Remote {
        /// The host.
        host: String,
        /// What it resolved to.
        addr: SocketAddr,
    },
}

impl Target {
    /// Parses and resolves `url`; refuses a non-loopback address unless `allow_remote`.
    pub fn parse(url: &str, allow_remote: bool) -> Result<Target, TargetError> {
        let malformed = |why: &str| TargetError::Malformed {
            url: url.to_string(),
            why: why.to_string(),
        };
        let rest = if let Some(rest) = url.strip_prefix("http://") {
            rest
        } else if url.starts_with("https://") {
            return Err(malformed(
                "https is not supported: lab servers speak plain HTTP/1.1 on loopback",
            ));
        } else {
            return Err(malformed("expected http://host:port/path"));
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        if authority.is_empty() {
            return Err(malformed("no host"));
        }
        let with_port = if authority
            .rsplit_once(':')
            .is_some_and(|(_, p)| p.chars().all(|c| c.is_ascii_digit()))
            && !authority.ends_with(']')
        {
            authority.to_string()
        } else {
            format!("{authority}:80")
        };
        let host = authority
            .rsplit_once(':')
            .map_or(authority, |(h, _)| h)
            .trim_matches(['[', ']'])
            .to_string();
        let addrs: Vec<SocketAddr> = with_port
            .to_socket_addrs()
            .map_err(|e| TargetError::Unresolved {
                host: host.clone(),
                why: e.to_string(),
            })?
            .collect();
        let addr = *addrs.first().ok_or_else(|| TargetError::Unresolved {
            host: host.clone(),
            why: "no address".into(),
        })?;
        if !allow_remote {
            if let Some(remote) = addrs.iter().find(|a| !a.ip().is_loopback()) {
                return Err(TargetError::Remote { host, addr: *remote });
            }
        }
        let host =
            HeaderValue::from_str(authority).map_err(|_| malformed("host has characters not allowed in a header"))?;
        Ok(Target {
            addr,
            host,
            path: path.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_loopback_urls() {
        let t = Target::parse("http://127.0.0.1:8080/product/{zipf:1000}", false).unwrap();
        assert_eq!(t.addr, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(t.host, "127.0.0.1:8080");
        assert_eq!(t.path, "/product/{zipf:1000}");
        let t = Target::parse("http://localhost:9", false).unwrap();
        assert!(t.addr.ip().is_loopback());
        assert_eq!(t.path, "/");
        let t = Target::parse("http://[::1]:7/x", false).unwrap();
        assert_eq!(t.addr, "[::1]:7".parse().unwrap());
    }

    #[test]
    fn refuses_remote_hosts_unless_allowed() {
        let e = Target::parse("http://10.1.2.3:80/", false).unwrap_err();
        assert!(e.to_string().contains("--allow-remote"), "{e}");
        // Allowed: parsing only, nothing is sent by this test.
        assert!(Target::parse("http://10.1.2.3:80/", true).is_ok());
    }

    #[test]
    fn rejects_what_it_cannot_load() {
        assert!(Target::parse("https://127.0.0.1/", false)
            .unwrap_err()
            .to_string()
            .contains("https"));
        assert!(Target::parse("127.0.0.1:80", false)
            .unwrap_err()
            .to_string()
            .contains("expected http://"));
        assert!(Target::parse("http:///x", false)
            .unwrap_err()
            .to_string()
            .contains("no host"));
    }
}
