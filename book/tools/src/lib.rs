//! The guide's build: mdBook used as a library, so `cargo xtask book` needs nothing installed.
//!
//! | module | what it does |
//! |---|---|
//! | [`quiz`] | `{{#quiz topic}}` → the in-page quiz: the bank as JSON, graded in the browser by `book/theme/quiz-grader.js` |
//! | [`results`] | `{{#results path.json}}` → the table and verdicts of a committed `cargo xtask lab` run report |
//! | [`links`] | every internal link of the built HTML points at a file that exists |
//! | [`serve`] | `--serve`: a local server that rebuilds on change and reloads the page |
//!
//! The preprocessors run after mdBook's own (`{{#include}}` is resolved first).

pub mod error;
pub mod links;
pub mod quiz;
pub mod results;
pub mod serve;

use std::path::{Path, PathBuf};

use mdbook_driver::MDBook;

pub use error::BookError;

/// Replaces every match of `placeholder` in every chapter by `render(chapter folder, captures)`; the first
/// failure fails the build, named with its chapter. Both preprocessors are this loop with their own `render`.
pub(crate) fn replace_placeholders(
    book: &mut mdbook_preprocessor::book::Book,
    src: &Path,
    placeholder: &regex::Regex,
    mut render: impl FnMut(&Path, &regex::Captures) -> Result<String, String>,
) -> Result<(), BookError> {
    let mut error = None;
    book.for_each_chapter_mut(|chapter| {
        let source = chapter.source_path.clone().unwrap_or_default();
        let dir = src.join(source.parent().unwrap_or(Path::new("")));
        let content = placeholder.replace_all(&chapter.content, |c: &regex::Captures| {
            render(&dir, c).unwrap_or_else(|message| {
                error.get_or_insert(BookError::Placeholder {
                    chapter: source.clone(),
                    message,
                });
                String::new()
            })
        });
        chapter.content = content.into_owned();
    });
    error.map_or(Ok(()), Err)
}

/// The book as `cargo xtask book` builds it: `root/book`, with the workbench's preprocessors.
pub fn load(root: &Path) -> Result<MDBook, BookError> {
    let mut book = MDBook::load(root.join("book")).map_err(|e| BookError::mdbook(format!("loading book/: {e:#}")))?;
    book.with_preprocessor(quiz::QuizPreprocessor::load(root)?);
    book.with_preprocessor(results::ResultsPreprocessor);
    Ok(book)
}

/// Builds the book; returns the folder holding `index.html`.
pub fn build(root: &Path) -> Result<PathBuf, BookError> {
    let book = load(root)?;
    book.build()
        .map_err(|e| BookError::mdbook(format!("building the book: {e:#}")))?;
    Ok(links::normalize(&book.build_dir_for("html")))
}
