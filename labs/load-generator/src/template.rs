//! Request paths with placeholders, parsed once and rendered per request without re-parsing.
//!
//! - `{seq}` — the request's index in the run (0, 1, 2 …): every request a new key.
//! - `{uniform:N}` — a random integer in `0..N`: every key equally likely.
//! - `{zipf:N}` — a random integer in `1..=N` drawn from a Zipf distribution (s = 1): a few keys are very hot and
//!   most are cold, as real traffic to products, users or pages is. This is what makes caches work.

use rand::Rng;
use rand_distr::{Distribution, Zipf};

/// A parsed path template.
#[derive(Debug, Clone)]
pub struct Template {
    parts: Vec<Part>,
    source: String,
}

#[derive(Debug, Clone)]
enum Part {
    Literal(String),
    Seq,
    Uniform(u64),
    Zipf(Zipf<f64>),
}

/// A template that could not be parsed; the message names the bad part.
#[derive(Debug, thiserror::Error)]
#[error("bad path template {template:?}: {problem}")]
pub struct TemplateError {
    template: String,
    problem: String,
}

impl Template {
    /// Parses `text`, which must start with `/`.
    pub fn parse(text: &str) -> Result<Template, TemplateError> {
        let err = |problem: String| TemplateError {
            template: text.to_string(),
            problem,
        };
        if !text.starts_with('/') {
            return Err(err("a path starts with '/'".into()));
        }
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            if open > 0 {
                parts.push(Part::Literal(rest[..open].to_string()));
            }
            let close = rest[open..]
                .find('}')
                .ok_or_else(|| err("a '{' is never closed".into()))?
                + open;
            let inner = &rest[open + 1..close];
            parts.push(Self::placeholder(inner).map_err(err)?);
            rest = &rest[close + 1..];
        }
        if !rest.is_empty() {
            parts.push(Part::Literal(rest.to_string()));
        }
        Ok(Template {
            parts,
            source: text.to_string(),
        })
    }

    fn placeholder(inner: &str) -> Result<Part, String> {
        let (kind, arg) = inner.split_once(':').unwrap_or((inner, ""));
        let count = || -> Result<u64, String> {
            match arg.parse::<u64>() {
                Ok(n) if n > 0 => Ok(n),
                _ => Err(format!("{{{kind}:N}} needs a whole number N > 0, found {arg:?}")),
            }
        };
        match kind {
            "seq" if arg.is_empty() => Ok(Part::Seq),
            "uniform" => Ok(Part::Uniform(count()?)),
            "zipf" => Ok(Part::Zipf(Zipf::new(count()? as f64, 1.0).map_err(|e| e.to_string())?)),
            _ => Err(format!(
                "unknown placeholder {{{inner}}}; known: {{seq}}, {{uniform:N}}, {{zipf:N}}"
            )),
        }
    }

    /// True when the path has no placeholder (then it can be built once and reused).
    pub fn is_static(&self) -> bool {
        self.parts.iter().all(|p| matches!(p, Part::Literal(_)))
    }

    /// The text it was parsed from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Writes the path for request number `seq` into `out` (cleared first).
    pub fn render(&self, seq: u64, rng: &mut impl Rng, out: &mut String) {
        use std::fmt::Write;
        out.clear();
        for part in &self.parts {
            match part {
                Part::Literal(s) => out.push_str(s),
                Part::Seq => write!(out, "{seq}").unwrap(),
                Part::Uniform(n) => write!(out, "{}", rng.random_range(0..*n)).unwrap(),
                Part::Zipf(z) => write!(out, "{}", z.sample(rng) as u64).unwrap(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::SmallRng;
    use rand::SeedableRng;

    fn render(t: &str, seq: u64) -> String {
        let mut out = String::new();
        Template::parse(t)
            .unwrap()
            .render(seq, &mut SmallRng::seed_from_u64(1), &mut out);
        out
    }

    #[test]
    fn literal_and_seq() {
        assert_eq!(render("/hello", 3), "/hello");
        assert_eq!(render("/item/{seq}?x=1", 42), "/item/42?x=1");
        assert!(Template::parse("/a").unwrap().is_static());
    }

    #[test]
    fn uniform_stays_in_range_and_zipf_is_skewed() {
        let t = Template::parse("/{uniform:10}").unwrap();
        let z = Template::parse("/{zipf:1000}").unwrap();
        let mut rng = SmallRng::seed_from_u64(7);
        let mut out = String::new();
        let mut hits_on_1 = 0;
        for i in 0..10_000 {
            t.render(i, &mut rng, &mut out);
            let n: u64 = out[1..].parse().unwrap();
            assert!(n < 10);
            z.render(i, &mut rng, &mut out);
            let k: u64 = out[1..].parse().unwrap();
            assert!((1..=1000).contains(&k));
            hits_on_1 += (k == 1) as u32;
        }
        // Zipf(s=1) over 1000 keys gives the top key 1/H(1000) ≈ 13% of requests; uniform would give 0.1%.
        assert!((1000..1700).contains(&hits_on_1), "top key got {hits_on_1} of 10000");
    }

    #[test]
    fn bad_templates_say_what_is_wrong() {
        let e = |t| Template::parse(t).unwrap_err().to_string();
        assert!(e("/a/{zipf:x}").contains("needs a whole number"));
        assert!(e("/a/{nope}").contains("unknown placeholder {nope}"));
        assert!(e("/a/{seq").contains("never closed"));
        assert!(e("a").contains("starts with '/'"));
    }
}
