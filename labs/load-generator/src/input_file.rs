//! The one error type of the generator's input files (TOML scenarios, Artillery YAML): `file:line: message`.

use std::path::Path;

/// Reads an input file: its name as messages show it, and its text.
pub fn read(path: &Path) -> Result<(String, String), InputFileError> {
    let file = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) => Ok((file, text)),
        Err(source) => Err(InputFileError::Read { file, source }),
    }
}

/// An input file (a scenario, an Artillery test) that cannot be used: it could not be read, or a line of it is
/// wrong — the message names the file and the line, as a compiler would.
#[derive(Debug, thiserror::Error)]
pub enum InputFileError {
    /// The file could not be read.
    #[error("{file}: {source}")]
    Read {
        /// The file.
        file: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid: its syntax, or a key or value the generator does not run.
    #[error("{file}:{line}: {message}")]
    Invalid {
        /// The file.
        file: String,
        /// 1-based line of the problem.
        line: usize,
        /// What is wrong.
        message: String,
    },
}
