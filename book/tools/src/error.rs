//! Why the book did not build or serve, each naming the file to look at.

use std::path::PathBuf;

/// A failed build, link check or serve.
#[derive(Debug, thiserror::Error)]
pub enum BookError {
    /// mdBook itself failed (a broken SUMMARY.md, a missing include, a renderer error); its message says where.
    #[error("{0}")]
    Mdbook(String),
    /// A quiz bank is broken: one line per problem, each with file and line.
    #[error("the quiz banks are not valid:\n{}", .0.join("\n"))]
    QuizBanks(Vec<String>),
    /// A `{{#quiz}}` or `{{#results}}` placeholder could not be rendered.
    #[error("book/src/{chapter}: {message}")]
    Placeholder {
        /// The chapter's path under book/src.
        chapter: PathBuf,
        /// What was wrong with the placeholder.
        message: String,
    },
    /// A file could not be read or a folder listed.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Serving failed (the port is taken, or the server stopped).
    #[error("serving the book: {0}")]
    Serve(std::io::Error),
}

impl BookError {
    /// mdBook's errors are `anyhow` errors: keep their whole chain, on one line each.
    pub(crate) fn mdbook(e: impl std::fmt::Display) -> BookError {
        BookError::Mdbook(format!("{e:#}"))
    }

    /// A read error on `path`.
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> BookError {
        let path = path.into();
        move |source| BookError::Io { path, source }
    }
}
