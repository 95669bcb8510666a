//! Artillery's `{{ … }}` templates and the JSON paths of `capture`, in the subset the seed's tests use.
//!
//! A template is literal text with placeholders: a variable a virtual user captured (`{{ authToken }}`), or one of
//! the functions `$randomNumber(min, max)` (inclusive), `$randomString(length)` and
//! `$randomElement([a, b, c])`. `$processEnvironment.NAME` (and `$env.NAME`) is read once, when the file is loaded,
//! so a missing variable is an error before the run rather than an empty header during it.

use std::collections::HashMap;

use rand::distr::{Alphanumeric, SampleString};
use rand::Rng;

/// Text with placeholders, parsed once.
#[derive(Debug, Clone, PartialEq)]
pub struct Text {
    pieces: Vec<Piece>,
}

#[derive(Debug, Clone, PartialEq)]
enum Piece {
    Literal(String),
    Variable(String),
    RandomNumber(i64, i64),
    RandomString(usize),
    RandomElement(Vec<String>),
}

impl Text {
    /// Parses `source`; `env` looks up environment variables (`std::env::var` outside tests).
    pub fn parse(source: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<Text, String> {
        let mut pieces = Vec::new();
        let mut rest = source;
        while let Some(open) = rest.find("{{") {
            if open > 0 {
                pieces.push(Piece::Literal(rest[..open].to_string()));
            }
            let after = &rest[open + 2..];
            let close = after
                .find("}}")
                .ok_or_else(|| format!("`{{{{` without a closing `}}}}` in {source:?}"))?;
            pieces.push(placeholder(after[..close].trim(), env)?);
            rest = &after[close + 2..];
        }
        if !rest.is_empty() {
            pieces.push(Piece::Literal(rest.to_string()));
        }
        Ok(Text { pieces })
    }

    /// Plain text, no placeholder.
    pub fn literal(text: &str) -> Text {
        Text {
            pieces: vec![Piece::Literal(text.to_string())],
        }
    }

    /// The variables it reads, so a file can be checked for a use before any capture.
    pub fn variables(&self) -> impl Iterator<Item = &str> {
        self.pieces.iter().filter_map(|p| match p {
            Piece::Variable(name) => Some(name.as_str()),
            _ => None,
        })
    }

    /// True when it is exactly one placeholder that yields a number (Artillery then sends a JSON number).
    pub fn is_number(&self) -> bool {
        matches!(self.pieces.as_slice(), [Piece::RandomNumber(..)])
    }

    /// Appends the text to `out`, with this virtual user's variables. A variable never captured renders empty, as
    /// in Artillery; the file check warns about it before the run.
    pub fn render(&self, vars: &HashMap<String, String>, rng: &mut impl Rng, out: &mut String) {
        for piece in &self.pieces {
            match piece {
                Piece::Literal(text) => out.push_str(text),
                Piece::Variable(name) => out.push_str(vars.get(name).map_or("", String::as_str)),
                Piece::RandomNumber(low, high) => out.push_str(&rng.random_range(*low..=*high).to_string()),
                Piece::RandomString(length) => out.push_str(&Alphanumeric.sample_string(rng, *length)),
                Piece::RandomElement(items) => out.push_str(&items[rng.random_range(0..items.len())]),
            }
        }
    }

    /// Renders into a new string.
    pub fn to_string(&self, vars: &HashMap<String, String>, rng: &mut impl Rng) -> String {
        let mut out = String::new();
        self.render(vars, rng, &mut out);
        out
    }
}

fn placeholder(inner: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<Piece, String> {
    if let Some(name) = inner
        .strip_prefix("$processEnvironment.")
        .or_else(|| inner.strip_prefix("$env."))
    {
        return env(name)
            .map(Piece::Literal)
            .ok_or_else(|| format!("environment variable {name} is not set (used as {{{{ {inner} }}}})"));
    }
    if let Some(call) = inner.strip_prefix('$') {
        let (function, args) = call
            .strip_suffix(')')
            .and_then(|c| c.split_once('('))
            .ok_or_else(|| format!("{{{{ {inner} }}}}: a function call looks like $randomNumber(1, 10)"))?;
        return match function {
            "randomNumber" => {
                let numbers: Vec<i64> = args
                    .split(',')
                    .map(|a| a.trim().parse::<i64>())
                    .collect::<Result<_, _>>()
                    .map_err(|_| format!("$randomNumber takes two integers, not ({args})"))?;
                match numbers.as_slice() {
                    [low, high] if low <= high => Ok(Piece::RandomNumber(*low, *high)),
                    _ => Err(format!("$randomNumber takes (min, max) with min ≤ max, not ({args})")),
                }
            }
            "randomString" => {
                let length = match args.trim() {
                    "" => 10,
                    n => n.parse().map_err(|_| format!("$randomString takes a length, not ({args})"))?,
                };
                Ok(Piece::RandomString(length))
            }
            "randomElement" => {
                let list = args
                    .trim()
                    .strip_prefix('[')
                    .and_then(|a| a.strip_suffix(']'))
                    .ok_or_else(|| format!("$randomElement takes a list such as ['a', 'b'], not ({args})"))?;
                let items: Vec<String> = list
                    .split(',')
                    .map(|item| item.trim().trim_matches(|c| c == '\'' || c == '"').to_string())
                    .filter(|item| !item.is_empty())
                    .collect();
                if items.is_empty() {
                    return Err("$randomElement needs at least one element".into());
                }
                Ok(Piece::RandomElement(items))
            }
            other => Err(format!(
                "${other} is not supported (supported: $randomNumber, $randomString, $randomElement, $processEnvironment)"
            )),
        };
    }
    if inner.is_empty() || !inner.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '-') {
        return Err(format!(
            "{{{{ {inner} }}}} is neither a variable name nor a supported function"
        ));
    }
    Ok(Piece::Variable(inner.to_string()))
}

/// A `capture: { json: "$.data.token" }` path: fields and array indices from the root.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonPath {
    source: String,
    steps: Vec<PathStep>,
}

#[derive(Debug, Clone, PartialEq)]
enum PathStep {
    Field(String),
    Index(usize),
}

impl JsonPath {
    /// Parses `$.a.b[0].c` (the subset of JSONPath a capture needs: no wildcards, filters or recursion).
    pub fn parse(source: &str) -> Result<JsonPath, String> {
        let unsupported =
            || format!("JSON path {source:?} is not supported: use fields and indices, e.g. $.items[0].id");
        let mut rest = source.strip_prefix('$').ok_or_else(unsupported)?;
        let mut steps = Vec::new();
        while !rest.is_empty() {
            if let Some(after) = rest.strip_prefix('.') {
                let end = after.find(['.', '[']).unwrap_or(after.len());
                let field = &after[..end];
                if field.is_empty() || field == "*" {
                    return Err(unsupported());
                }
                steps.push(PathStep::Field(field.to_string()));
                rest = &after[end..];
            } else if let Some(after) = rest.strip_prefix('[') {
                let end = after.find(']').ok_or_else(unsupported)?;
                let index = after[..end].trim().parse().map_err(|_| unsupported())?;
                steps.push(PathStep::Index(index));
                rest = &after[end + 1..];
            } else {
                return Err(unsupported());
            }
        }
        Ok(JsonPath {
            source: source.to_string(),
            steps,
        })
    }

    /// The value at this path in `body` as text (a string without its quotes), or `None` when the body is not JSON
    /// or has nothing there.
    pub fn find(&self, body: &[u8]) -> Option<String> {
        let root: serde_json::Value = serde_json::from_slice(body).ok()?;
        let mut node = &root;
        for step in &self.steps {
            node = match step {
                PathStep::Field(name) => node.get(name)?,
                PathStep::Index(i) => node.get(*i)?,
            };
        }
        Some(match node {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::SmallRng;
    use rand::SeedableRng;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn placeholders_render_variables_functions_and_the_environment() {
        let env = |name: &str| (name == "API_TOKEN").then(|| "t0k3n".to_string());
        let text = Text::parse("Bearer {{ $processEnvironment.API_TOKEN }} {{ authToken }}!", &env).unwrap();
        let vars = HashMap::from([("authToken".to_string(), "abc".to_string())]);
        let mut rng = SmallRng::seed_from_u64(1);
        assert_eq!(text.to_string(&vars, &mut rng), "Bearer t0k3n abc!");
        assert_eq!(text.variables().collect::<Vec<_>>(), ["authToken"]);

        let number = Text::parse("{{ $randomNumber(10, 12) }}", &no_env).unwrap();
        assert!(number.is_number());
        for _ in 0..50 {
            let n: i64 = number.to_string(&vars, &mut rng).parse().unwrap();
            assert!((10..=12).contains(&n));
        }
        let pick = Text::parse("{{ $randomElement(['books', 'games']) }}", &no_env).unwrap();
        assert!(["books", "games"].contains(&pick.to_string(&vars, &mut rng).as_str()));
        assert_eq!(
            Text::parse("{{ $randomString(8) }}", &no_env)
                .unwrap()
                .to_string(&vars, &mut rng)
                .len(),
            8
        );
    }

    #[test]
    fn bad_placeholders_are_errors_that_say_why() {
        for (source, says) in [
            ("{{ $processEnvironment.NOPE }}", "NOPE is not set"),
            ("{{ $randomNumber(5, 1) }}", "min ≤ max"),
            ("{{ $uuid() }}", "$uuid is not supported"),
            ("{{ a b }}", "neither a variable"),
            ("{{ open", "without a closing"),
        ] {
            let error = Text::parse(source, &no_env).unwrap_err();
            assert!(error.contains(says), "{source}: {error}");
        }
    }

    #[test]
    fn json_paths_find_fields_and_indices() {
        let body = br#"{"token":"xyz","items":[{"id":7},{"id":8}],"ok":true}"#;
        assert_eq!(JsonPath::parse("$.token").unwrap().find(body).as_deref(), Some("xyz"));
        assert_eq!(
            JsonPath::parse("$.items[1].id").unwrap().find(body).as_deref(),
            Some("8")
        );
        assert_eq!(JsonPath::parse("$.ok").unwrap().find(body).as_deref(), Some("true"));
        assert_eq!(JsonPath::parse("$.missing").unwrap().find(body), None);
        assert_eq!(JsonPath::parse("$.token").unwrap().find(b"not json"), None);
        assert!(JsonPath::parse("$..id").is_err());
        assert!(JsonPath::parse("$.items[*]").is_err());
        assert!(JsonPath::parse("token").is_err());
    }
}
