//! Calibration: answers written for a question with the verdict a careful human reader gives them (good in other
//! words, partial, wrong, negated, keyword-stuffed), in `quiz/calibration/<topic>.toml`. Grading them measures how
//! often the rubric grader agrees with the reader — the number to watch when a rubric changes.

use std::path::Path;

use serde::Deserialize;

use crate::bank::Bank;
use crate::grade::{grade, Answer};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    vector: Vec<Vector>,
}

/// One calibration answer.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Vector {
    /// The question.
    pub id: String,
    /// `good`, `terse`, `partial`, `wrong`, `negated`, `stuffed`.
    pub style: String,
    /// The verdict it deserves.
    pub pass: bool,
    /// The answer.
    pub answer: String,
}

/// A vector the grader judged differently from the reader.
#[derive(Debug, Clone)]
pub struct Disagreement {
    /// The vector.
    pub vector: Vector,
    /// The grader's score.
    pub score: f64,
}

/// Agreement over every calibration file.
#[derive(Debug, Clone, Default)]
pub struct Calibration {
    /// Vectors graded.
    pub total: usize,
    /// Vectors where the grader's pass/fail matched the reader's.
    pub agreed: usize,
    /// The others.
    pub disagreements: Vec<Disagreement>,
    /// (agreed, total) by style: `good`, `terse`, `partial`, `wrong`, `negated`, `stuffed`. A grader can agree on
    /// 95% overall and still pass every fluent wrong answer; this is where that shows.
    pub by_style: std::collections::BTreeMap<String, (usize, usize)>,
}

impl Calibration {
    /// agreed / total (1.0 when there is nothing to grade).
    pub fn agreement(&self) -> f64 {
        if self.total == 0 {
            1.0
        } else {
            self.agreed as f64 / self.total as f64
        }
    }
}

/// Every vector in `dir/*.toml`, with the file it came from; a file that is not valid is an error naming it.
pub fn load_vectors(dir: &Path) -> Result<Vec<(std::path::PathBuf, Vector)>, String> {
    let mut out = Vec::new();
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    for path in paths {
        let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let file: File = toml::from_str(&text).map_err(|e| {
            let line = e.span().map_or(1, |s| text[..s.start].matches('\n').count() + 1);
            format!("{}:{line}: {}", path.display(), e.message())
        })?;
        out.extend(file.vector.into_iter().map(|v| (path.clone(), v)));
    }
    Ok(out)
}

/// Grades every vector in `dir/*.toml` against `banks`. A vector naming an unknown question, or a file that is not
/// valid, is an error naming the file.
pub fn calibrate(banks: &[Bank], dir: &Path) -> Result<Calibration, String> {
    let mut result = Calibration::default();
    for (path, vector) in load_vectors(dir)? {
        let question = banks
            .iter()
            .flat_map(|b| &b.questions)
            .find(|q| q.id == vector.id)
            .ok_or_else(|| format!("{}: no question {}", path.display(), vector.id))?;
        let g = grade(question, &Answer::Text(vector.answer.clone()));
        result.total += 1;
        let style = result.by_style.entry(vector.style.clone()).or_default();
        style.1 += 1;
        if g.passed == vector.pass {
            result.agreed += 1;
            style.0 += 1;
        } else {
            result.disagreements.push(Disagreement { vector, score: g.score });
        }
    }
    Ok(result)
}
