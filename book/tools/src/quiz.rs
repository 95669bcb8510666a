//! `{{#quiz topic}}` → the in-page quiz over `quiz/banks/<topic>.toml`.
//!
//! The chapter gets a placeholder `<div class="wb-quiz">` and, beside it, the bank and the grader's rules as JSON in
//! a `<script type="application/json">`; `book/theme/quiz.js` draws the questions from it and grades them with
//! `quiz-grader.js`, the JavaScript mirror of the Rust grader. A topic without a bank fails the build, naming the
//! chapter.

use std::path::Path;

use mdbook_preprocessor::book::Book;
use mdbook_preprocessor::{Preprocessor, PreprocessorContext};
use regex::Regex;

/// The preprocessor, holding every bank.
pub struct QuizPreprocessor {
    banks: Vec<::quiz::Bank>,
}

impl QuizPreprocessor {
    /// Loads and validates every bank in `root/quiz/banks`.
    pub fn load(root: &Path) -> Result<QuizPreprocessor, crate::BookError> {
        let banks = ::quiz::load_banks(&root.join("quiz/banks"))
            .map_err(|errors| crate::BookError::QuizBanks(errors.iter().map(|e| e.to_string()).collect()))?;
        Ok(QuizPreprocessor { banks })
    }

    /// The HTML that replaces `{{#quiz topic}}`, or `None` when there is no such bank.
    pub fn widget(&self, topic: &str) -> Option<String> {
        let bank = self.banks.iter().find(|b| b.topic == topic)?;
        let payload = serde_json::json!({
            "bank": ::quiz::web::bank_json(bank),
            "rules": ::quiz::web::rules_json(),
        });
        // Inside <script>, "</" could close the element early: JSON allows "<\/" for it.
        let json = payload.to_string().replace("</", "<\\/").replace("<!--", "<\\!--");
        let id = format!("wb-bank-{topic}");
        Some(format!(
            "<div class=\"wb-quiz\" data-bank=\"{id}\"></div>\n\n<script type=\"application/json\" id=\"{id}\">{json}</script>\n"
        ))
    }
}

impl Preprocessor for QuizPreprocessor {
    fn name(&self) -> &str {
        "workbench-quiz"
    }

    fn run(&self, ctx: &PreprocessorContext, mut book: Book) -> mdbook_preprocessor::errors::Result<Book> {
        let placeholder = Regex::new(r"\{\{#quiz ([a-z0-9-]+)\}\}").expect("a valid pattern");
        let src = ctx.root.join(&ctx.config.book.src);
        crate::replace_placeholders(&mut book, &src, &placeholder, |_, c| {
            self.widget(&c[1])
                .ok_or_else(|| format!("{{{{#quiz {}}}}} names no bank in quiz/banks", &c[1]))
        })?;
        Ok(book)
    }
}
