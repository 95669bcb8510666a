//! What can go wrong in a lab run, sorted by who can fix it: the person who typed the command (bad input), the
//! machine (a build, a port, a server that would not start), or the lesson itself (the run finished and a claim
//! did not hold). `cargo xtask` turns each kind into its own exit status.

use crate::manifest::ManifestError;

/// Any underlying error kept as a cause.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Why a lab run did not give a clean pass.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// A `lab.toml` is broken (the message names the file and line).
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// The command named a lab, variant or profile that does not exist, or a value out of range.
    #[error("{0}")]
    BadInput(String),
    /// The machine or a server failed: building, starting, probing, reading /proc, writing the report.
    #[error("{context}")]
    Environment {
        /// What was being done.
        context: String,
        /// Why it failed, when known.
        #[source]
        source: Option<BoxError>,
    },
    /// The run finished, and these lessons or gates did not hold.
    #[error("did not hold: {}", .0.join("; "))]
    LessonsDidNotHold(Vec<String>),
}

impl RunError {
    /// The exit status `cargo xtask` uses for this kind: 2 bad input, 3 a lesson did not hold, 1 the environment.
    pub fn exit_status(&self) -> u8 {
        match self {
            RunError::Manifest(_) | RunError::BadInput(_) => 2,
            RunError::LessonsDidNotHold(_) => 3,
            RunError::Environment { .. } => 1,
        }
    }

    /// An environment failure with no underlying error.
    pub fn environment(context: impl Into<String>) -> RunError {
        RunError::Environment {
            context: context.into(),
            source: None,
        }
    }
}

/// An error and its causes on one line, `outer: inner: innermost`, as a learner reads it on a terminal.
pub fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut line = error.to_string();
    let mut cause = error.source();
    while let Some(e) = cause {
        line.push_str(": ");
        line.push_str(&e.to_string());
        cause = e.source();
    }
    line
}

/// `.context(…)` for the harness: any error becomes an [`RunError::Environment`] that says what was being done.
pub trait Context<T> {
    /// Wraps the error with what was being done.
    fn context(self, context: impl Into<String>) -> Result<T, RunError>;
    /// Same, with the words computed only on failure.
    fn with_context(self, context: impl FnOnce() -> String) -> Result<T, RunError>;
}

impl<T, E: Into<BoxError>> Context<T> for Result<T, E> {
    fn context(self, context: impl Into<String>) -> Result<T, RunError> {
        self.map_err(|e| RunError::Environment {
            context: context.into(),
            source: Some(e.into()),
        })
    }

    fn with_context(self, context: impl FnOnce() -> String) -> Result<T, RunError> {
        self.map_err(|e| RunError::Environment {
            context: context(),
            source: Some(e.into()),
        })
    }
}

/// Wraps an error that already says everything under one more line of context, keeping its kind: a bad input
/// stays a bad input (exit 2) when it is reported as part of a variant.
pub(crate) fn within(context: impl FnOnce() -> String) -> impl FnOnce(RunError) -> RunError {
    move |e| match e {
        RunError::Environment { .. } => RunError::Environment {
            context: context(),
            source: Some(Box::new(e)),
        },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_has_its_exit_status_and_a_readable_chain() {
        assert_eq!(RunError::BadInput("no lab \"x\"".into()).exit_status(), 2);
        assert_eq!(RunError::LessonsDidNotHold(vec!["a".into()]).exit_status(), 3);
        let io: Result<(), std::io::Error> = Err(std::io::Error::other("port in use"));
        let e = io.context("starting lab-caching").unwrap_err();
        assert_eq!(e.exit_status(), 1);
        let e = within(|| "variant naive".into())(e);
        assert_eq!(e.to_string(), "variant naive");
        let cause = std::error::Error::source(&e).unwrap();
        assert_eq!(cause.to_string(), "starting lab-caching");
        assert_eq!(cause.source().unwrap().to_string(), "port in use");
    }
}
