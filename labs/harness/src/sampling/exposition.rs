//! Reading Prometheus's text exposition format: sample lines into name, labels and value.
//!
//! Written here rather than taken from a crate because the two on crates.io did not fit: `prometheus-parse` finds
//! labels with the regex `\{[^}]+\}`, so a label value holding a brace — every route template, `/users/{id}` —
//! silently drops the line; `openmetrics-parser` is LGPL. The format's sample line is small: a name, optional
//! `{label="value",…}` with `\\`, `\"` and `\n` escaped inside values, a value (`+Inf`, `-Inf` and `NaN`
//! included), an optional timestamp. Comments (`# HELP`, `# TYPE`) and blank lines carry no samples.

/// One sample line.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The metric name (with its `_bucket`, `_sum`, `_count` suffix for histogram lines).
    pub name: String,
    /// Label pairs, in the order written.
    pub labels: Vec<(String, String)>,
    /// The value.
    pub value: f64,
}

impl Sample {
    /// A label's value.
    pub fn label(&self, name: &str) -> Option<&str> {
        self.labels.iter().find(|(l, _)| l == name).map(|(_, v)| v.as_str())
    }
}

/// Every sample of `text`; an error names the line that is not Prometheus text.
pub fn parse(text: &str) -> Result<Vec<Sample>, String> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty() && !line.starts_with('#'))
        .map(|(i, line)| sample(line).map_err(|e| format!("line {}: {e}: {line:?}", i + 1)))
        .collect()
}

fn sample(line: &str) -> Result<Sample, String> {
    let name_end = line.find(['{', ' ', '\t']).ok_or("a sample needs a value")?;
    let name = &line[..name_end];
    if name.is_empty() {
        return Err("a sample starts with its metric name".into());
    }
    let mut rest = &line[name_end..];
    let mut labels = Vec::new();
    if let Some(inside) = rest.strip_prefix('{') {
        let mut chars = inside.char_indices();
        let mut label = String::new();
        loop {
            let (at, c) = chars.next().ok_or("labels end with }")?;
            match c {
                '}' if label.trim().is_empty() => {
                    rest = &inside[at + 1..];
                    break;
                }
                ',' if label.trim().is_empty() => {}
                '=' => {
                    if chars.next().map(|(_, c)| c) != Some('"') {
                        return Err(format!("label {:?}: its value goes in double quotes", label.trim()));
                    }
                    let mut value = String::new();
                    loop {
                        match chars.next().ok_or("a label value ends with \"")?.1 {
                            '"' => break,
                            '\\' => match chars.next().ok_or("a label value ends with \"")?.1 {
                                'n' => value.push('\n'),
                                other => value.push(other),
                            },
                            other => value.push(other),
                        }
                    }
                    labels.push((label.trim().to_string(), value));
                    label.clear();
                }
                c => label.push(c),
            }
        }
    }
    let value = rest.split_whitespace().next().ok_or("a sample needs a value")?;
    let value = match value {
        "+Inf" | "Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        v => v.parse().map_err(|_| format!("{v:?} is not a number"))?,
    };
    Ok(Sample {
        name: name.to_string(),
        labels,
        value,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_may_hold_braces_commas_and_escapes() {
        let text = "# HELP x y\n# TYPE x counter\n\
            http_requests_total{method=\"GET\",route=\"/users/{id}\",status=\"200\"} 42\n\
            odd{a=\"x,}\\\"y\\\\\",b=\"\"} 1.5e3 1700000000000\n\
            le_line_bucket{le=\"+Inf\"} +Inf\n\nplain 7\n";
        let samples = parse(text).unwrap();
        assert_eq!(samples.len(), 4);
        assert_eq!(samples[0].label("route"), Some("/users/{id}"));
        assert_eq!(samples[0].value, 42.0);
        assert_eq!(samples[1].label("a"), Some("x,}\"y\\"));
        assert_eq!(samples[1].label("b"), Some(""));
        assert_eq!(samples[1].value, 1500.0);
        assert_eq!(samples[2].value, f64::INFINITY);
        assert_eq!((samples[3].name.as_str(), samples[3].value), ("plain", 7.0));
    }

    #[test]
    fn a_broken_line_is_named() {
        let e = parse("ok 1\nbroken{a=\"x\" 2\n").unwrap_err();
        assert!(e.starts_with("line 2:"), "{e}");
        assert!(parse("x{a=b} 1").unwrap_err().contains("double quotes"));
        assert!(parse("x one").unwrap_err().contains("not a number"));
    }
}
