//! `{{#results path/to/run.json}}` → the comparison table, lesson verdicts and machine of a committed run report.
//!
//! Result tables in the book are never typed by hand: they are rendered from the JSON that `cargo xtask lab X
//! --full` wrote (committed under `book/src/<topic>/results/`), by [`lab_harness::RunReport::markdown`]. A report
//! that is missing or not a run report fails the build, naming the chapter.

use std::path::Path;

use mdbook_preprocessor::book::Book;
use mdbook_preprocessor::{Preprocessor, PreprocessorContext};
use regex::Regex;

/// The preprocessor.
pub struct ResultsPreprocessor;

/// Reads the run report at `path` and renders it as Markdown; the error says which file and what is wrong.
pub fn render(path: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let report: lab_harness::RunReport =
        serde_json::from_str(&text).map_err(|e| format!("{}: not a run report: {e}", path.display()))?;
    Ok(report.markdown())
}

impl Preprocessor for ResultsPreprocessor {
    fn name(&self) -> &str {
        "workbench-results"
    }

    fn run(&self, ctx: &PreprocessorContext, mut book: Book) -> mdbook_preprocessor::errors::Result<Book> {
        let placeholder = Regex::new(r"\{\{#results ([^}\s]+)\}\}").expect("a valid pattern");
        let src = ctx.root.join(&ctx.config.book.src);
        crate::replace_placeholders(&mut book, &src, &placeholder, |dir, c| render(&dir.join(&c[1])))?;
        Ok(book)
    }
}
