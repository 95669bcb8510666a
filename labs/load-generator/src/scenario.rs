//! Weighted, *named* requests — so a run can report the p99 of a cheap endpoint apart from a heavy one.
//!
//! A scenario file (TOML) lists requests; each is drawn with probability proportional to its `weight`:
//!
//! ```toml
//! [[request]]
//! name = "ping"            # its own histogram in the report
//! weight = 9
//! path = "/ping"
//!
//! [[request]]
//! name = "hash"
//! weight = 1
//! method = "POST"
//! path = "/hash/{uniform:100}"
//! headers = { content-type = "application/json" }
//! body = '{"rounds": 3}'
//!
//! [[request]]
//! name = "import"          # an upload: a body from a file beside the scenario, or generated (see `body`)
//! method = "POST"
//! path = "/orders/import"
//! body = { head = "id,amount\n", repeat = "1,250\n", size = "2MB" }
//! ```
//!
//! A body is text, `{ file = "orders.csv" }` (relative to the scenario file), or `{ head, repeat, size }`: built
//! once when the scenario is read, then shared by every request that sends it.

use std::path::Path;

use bytes::Bytes;
pub use http::header::{HeaderName, HeaderValue};
use http::{HeaderMap, Method};
use serde::Deserialize;

use crate::body::BodySpec;
use crate::template::Template;

/// One kind of request the generator sends.
#[derive(Debug, Clone)]
pub struct RequestSpec {
    /// The name its statistics are reported under.
    pub name: String,
    /// Relative share of the traffic.
    pub weight: u32,
    /// HTTP method.
    pub method: Method,
    /// Path and query, with placeholders.
    pub path: Template,
    /// Extra headers (Host is always set by the generator).
    pub headers: HeaderMap,
    /// Request body, empty for none.
    pub body: Bytes,
}

impl RequestSpec {
    /// A GET of `path`, named after its template.
    pub fn get(path: &str) -> Result<RequestSpec, crate::template::TemplateError> {
        Ok(RequestSpec {
            name: path.to_string(),
            weight: 1,
            method: Method::GET,
            path: Template::parse(path)?,
            headers: HeaderMap::new(),
            body: Bytes::new(),
        })
    }
}

/// A list of weighted requests.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// The requests, in file order.
    pub requests: Vec<RequestSpec>,
}

/// A scenario file that cannot be used; the message names file and line.
pub type ScenarioError = crate::input_file::InputFileError;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    request: Vec<toml::Spanned<RawRequest>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRequest {
    name: String,
    #[serde(default = "one")]
    weight: u32,
    #[serde(default = "get")]
    method: String,
    path: String,
    #[serde(default)]
    headers: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    body: Option<RawBody>,
}

/// `body = "text"`, `body = { file = "…" }` or `body = { head = "…", repeat = "…", size = "2MB" }`.
#[derive(Deserialize)]
#[serde(untagged)]
enum RawBody {
    Text(String),
    File(FileBody),
    Generated(GeneratedBody),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileBody {
    file: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GeneratedBody {
    #[serde(default)]
    head: String,
    repeat: String,
    size: String,
}

impl RawBody {
    /// The bytes; a file is read relative to `dir`.
    fn build(self, dir: &Path) -> Result<Bytes, String> {
        let spec = match self {
            RawBody::Text(text) => return Ok(Bytes::from(text)),
            RawBody::File(FileBody { file }) => BodySpec::File(dir.join(file)),
            RawBody::Generated(GeneratedBody { head, repeat, size }) => BodySpec::Generated {
                head,
                repeat,
                size: crate::body::parse_size(&size)?,
            },
        };
        spec.build()
    }
}

fn one() -> u32 {
    1
}
fn get() -> String {
    "GET".into()
}

/// Request headers from (name, value) pairs; the error names the header that is not valid HTTP.
pub fn header_map<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<HeaderMap, String> {
    let mut headers = HeaderMap::new();
    for (k, v) in pairs {
        let name = HeaderName::from_bytes(k.trim().as_bytes()).map_err(|_| format!("bad header name {k:?}"))?;
        let value = HeaderValue::from_str(v.trim()).map_err(|_| format!("bad value for header {k:?}"))?;
        headers.append(name, value);
    }
    Ok(headers)
}

/// 1-based line number of a byte offset.
pub fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

impl Scenario {
    /// Reads and validates a scenario file.
    pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
        let (file, text) = crate::input_file::read(path)?;
        Scenario::parse(&text, &file)
    }

    /// Parses scenario text; `file` is used in messages.
    pub fn parse(text: &str, file: &str) -> Result<Scenario, ScenarioError> {
        let invalid = |line, message: String| ScenarioError::Invalid {
            file: file.to_string(),
            line,
            message,
        };
        let parsed: File = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| line_of(text, s.start)).unwrap_or(1);
            invalid(line, e.message().to_string())
        })?;
        if parsed.request.is_empty() {
            return Err(invalid(1, "a scenario needs at least one [[request]]".into()));
        }
        let mut requests = Vec::new();
        for spanned in parsed.request {
            let line = line_of(text, spanned.span().start);
            let raw = spanned.into_inner();
            if requests.iter().any(|r: &RequestSpec| r.name == raw.name) {
                return Err(invalid(line, format!("request name {:?} is used twice", raw.name)));
            }
            if raw.weight == 0 {
                return Err(invalid(
                    line,
                    format!("request {:?} has weight 0; use at least 1", raw.name),
                ));
            }
            let method = Method::from_bytes(raw.method.as_bytes())
                .map_err(|_| invalid(line, format!("{:?} is not an HTTP method", raw.method)))?;
            let path = Template::parse(&raw.path).map_err(|e| invalid(line, e.to_string()))?;
            let headers =
                header_map(raw.headers.iter().map(|(k, v)| (k.as_str(), v.as_str()))).map_err(|e| invalid(line, e))?;
            let dir = Path::new(file).parent().unwrap_or(Path::new("."));
            let body = match raw.body {
                None => Bytes::new(),
                Some(body) => body.build(dir).map_err(|e| invalid(line, e))?,
            };
            requests.push(RequestSpec {
                name: raw.name,
                weight: raw.weight,
                method,
                path,
                headers,
                body,
            });
        }
        Ok(Scenario { requests })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_weighted_named_requests() {
        let s = Scenario::parse(
            "[[request]]\nname = \"ping\"\nweight = 9\npath = \"/ping\"\n\n[[request]]\nname = \"hash\"\nmethod = \"POST\"\npath = \"/hash/{seq}\"\nheaders = { content-type = \"application/json\" }\nbody = '{}'\n",
            "s.toml",
        )
        .unwrap();
        assert_eq!(s.requests.len(), 2);
        assert_eq!(s.requests[0].weight, 9);
        assert_eq!(s.requests[1].method, Method::POST);
        assert_eq!(s.requests[1].headers["content-type"], "application/json");
        assert_eq!(&s.requests[1].body[..], b"{}");
    }

    #[test]
    fn a_body_may_be_generated_or_read_from_a_file_beside_the_scenario() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("orders.csv"), "id\n1\n").unwrap();
        let file = dir.path().join("s.toml");
        let text = "[[request]]\nname = \"gen\"\nmethod = \"POST\"\npath = \"/i\"\nbody = { head = \"id\\n\", repeat = \"7\\n\", size = \"1KiB\" }\n\n[[request]]\nname = \"file\"\nmethod = \"POST\"\npath = \"/i\"\nbody = { file = \"orders.csv\" }\n";
        let s = Scenario::parse(text, file.to_str().unwrap()).unwrap();
        assert_eq!(
            s.requests[0].body.len(),
            3 + 511 * 2,
            "the head, then whole units up to 1 KiB"
        );
        assert!(s.requests[0].body.starts_with(b"id\n7\n"));
        assert_eq!(&s.requests[1].body[..], b"id\n1\n");

        let missing = text.replace("orders.csv", "nope.csv");
        let e = Scenario::parse(&missing, file.to_str().unwrap())
            .unwrap_err()
            .to_string();
        assert!(e.contains(":7: ") && e.contains("nope.csv"), "{e}");
        let bad_size = text.replace("1KiB", "lots");
        let e = Scenario::parse(&bad_size, file.to_str().unwrap())
            .unwrap_err()
            .to_string();
        assert!(e.contains(":1: ") && e.contains("lots"), "{e}");
    }

    #[test]
    fn errors_name_file_and_line() {
        let bad_template =
            "[[request]]\nname = \"a\"\npath = \"/ok\"\n\n[[request]]\nname = \"b\"\npath = \"/x/{zipf:0}\"\n";
        let e = Scenario::parse(bad_template, "s.toml").unwrap_err().to_string();
        assert!(e.starts_with("s.toml:5: "), "{e}");
        assert!(e.contains("zipf"), "{e}");

        let syntax = "[[request]]\nname = \"a\"\npath = /oops\n";
        let e = Scenario::parse(syntax, "s.toml").unwrap_err().to_string();
        assert!(e.starts_with("s.toml:3: "), "{e}");

        let unknown = "[[request]]\nname = \"a\"\npath = \"/\"\nwieght = 2\n";
        let e = Scenario::parse(unknown, "s.toml").unwrap_err().to_string();
        assert!(e.contains("wieght"), "{e}");
    }
}
