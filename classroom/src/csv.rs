//! `cargo xtask class DIR --csv`: the room as one long ("tidy") table, one row per learner per thing measured, so a
//! spreadsheet's pivot table or a few lines of pandas can slice it any way:
//!
//! | kind | learner | item | passed | value | detail |
//! |---|---|---|---|---|---|
//! | `machine` | Ada | cores | | 8 | `8 cores, <CPU model>, linux` |
//! | `quiz` | Ada | caching-3 | true | 0.85 (score) | what the answer missed, `; `-separated |
//! | `exercise` | Ada | caching/single-flight | true (solved) | 1.08 (first gate's ratio) | the metric, against which variant |
//! | `lesson` | Ada | `caching: <claim>` | true (held) | 61.2 (observed ratio) | the machine, the profile |
//! | `drill` | Ada | incidents/regex-per-request | true (fixed) | hints shown | started / diagnosed |
//!
//! Quoting is RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled.

use std::fmt::Write;

use crate::room::Room;
use crate::submission::describe;

/// The header row.
pub const HEADER: [&str; 6] = ["kind", "learner", "item", "passed", "value", "detail"];

fn field(f: &str) -> String {
    if f.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", f.replace('"', "\"\""))
    } else {
        f.to_string()
    }
}

fn number(x: f64) -> String {
    let rounded = (x * 1000.0).round() / 1000.0;
    format!("{rounded}")
}

/// The whole room as CSV text (header first).
pub fn render(room: &Room) -> String {
    let mut out = String::new();
    let mut row = |cells: [&str; 6]| {
        let line: Vec<String> = cells.iter().map(|c| field(c)).collect();
        let _ = writeln!(out, "{}", line.join(","));
    };
    row(HEADER);
    for learner in &room.learners {
        let s = &learner.submission;
        let who = learner.shown_as.as_str();
        row([
            "machine",
            who,
            "cores",
            "",
            &s.machine.cpus.to_string(),
            &describe(&s.machine),
        ]);
        for (id, q) in &s.progress.quiz {
            row([
                "quiz",
                who,
                id,
                &q.passed.to_string(),
                &number(q.score),
                &q.missed.join("; "),
            ]);
        }
        for (key, e) in &s.progress.exercises {
            let gates = e.ranked_gates();
            let (value, detail) = gates.first().map_or((String::new(), String::new()), |g| {
                (
                    g.observed_ratio.map(number).unwrap_or_default(),
                    format!(
                        "{} relative to {} (at most {})",
                        g.metric,
                        g.relative_to,
                        number(g.at_most)
                    ),
                )
            });
            row(["exercise", who, key, &e.solved.to_string(), &value, &detail]);
        }
        for report in &s.reports {
            for lesson in &report.lessons {
                row([
                    "lesson",
                    who,
                    &format!("{}: {}", report.lab, lesson.claim),
                    &lesson.holds.to_string(),
                    &lesson.observed_ratio.map(number).unwrap_or_default(),
                    &format!("{}; {} profile", describe(&report.machine), report.profile),
                ]);
            }
        }
        for (key, d) in &s.progress.incidents {
            let steps: Vec<&str> = [(d.started, "started"), (d.diagnosed, "diagnosed")]
                .into_iter()
                .filter_map(|(done, step)| done.then_some(step))
                .collect();
            row([
                "drill",
                who,
                key,
                &d.fixed.to_string(),
                &d.hints_shown.to_string(),
                &steps.join(" / "),
            ]);
        }
    }
    out
}

/// Splits CSV text into records (RFC 4180 quoting): what a spreadsheet does on import, and what the tests use to
/// prove the output parses back.
pub fn parse(text: &str) -> Result<Vec<Vec<String>>, String> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    let mut line = 1;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => {
                line += usize::from(c == '\n');
                field.push(c);
            }
            (false, '"') if field.is_empty() => quoted = true,
            (false, '"') => return Err(format!("line {line}: a quote inside an unquoted field")),
            (false, ',') => record.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
                line += 1;
            }
            (false, c) => field.push(c),
        }
    }
    if quoted {
        return Err(format!("line {line}: a quoted field is not closed"));
    }
    if !field.is_empty() || !record.is_empty() {
        record.push(field);
        records.push(record);
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_has_six_fields_and_parses_back() {
        let mut room = crate::summary::tests::room();
        room.learners[0].submission.progress.quiz.insert(
            "q-odd".into(),
            crate::summary::tests::quiz("t", false, &["a, \"quoted\"\nthing"]),
        );
        let text = render(&room);
        let records = parse(&text).unwrap();
        assert_eq!(records[0], HEADER);
        assert!(records.iter().all(|r| r.len() == 6), "{records:?}");
        let odd = records.iter().find(|r| r[2] == "q-odd").unwrap();
        assert_eq!(odd[5], "a, \"quoted\"\nthing");
        let exercises: Vec<_> = records.iter().filter(|r| r[0] == "exercise").collect();
        assert_eq!(exercises.len(), 3);
        assert_eq!(exercises[0][4], "1.1", "Ada's best solving ratio");
        assert!(parse("a,\"b\nc").is_err());
    }
}
