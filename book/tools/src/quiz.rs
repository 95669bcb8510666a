//! `{{#quiz topic}}` → the in-page quiz over `quiz/banks/<topic>.toml`.
//!
//! The chapter gets a placeholder `<div class="wb-quiz">` and, beside it, the bank and the grader's rules as JSON in
//! a `<script type="application/json">`; `book/theme/quiz.js` draws the questions from it and grades them with
//! `quiz-grader.js`, the JavaScript mirror of the Rust grader. A topic without a bank fails the build, naming the
//! chapter.

use std::path::Path;

use mdbook_preprocessor::book::{Book, BookItem};
use mdbook_preprocessor::{Preprocessor, PreprocessorContext};
use regex::Regex;

/// The preprocessor, holding every bank.
pub struct QuizPreprocessor {
    banks: Vec<::quiz::Bank>,
}

impl QuizPreprocessor {
    /// Loads and validates every bank in `root/quiz/banks`.
    pub fn load(root: &Path) -> anyhow::Result<QuizPreprocessor> {
        let banks = ::quiz::load_banks(&root.join("quiz/banks")).map_err(|errors| {
            let lines: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
            anyhow::anyhow!("the quiz banks are not valid:\n{}", lines.join("\n"))
        })?;
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

    fn run(&self, _ctx: &PreprocessorContext, mut book: Book) -> anyhow::Result<Book> {
        let placeholder = Regex::new(r"\{\{#quiz ([a-z0-9-]+)\}\}").expect("a valid pattern");
        let mut error = None;
        book.for_each_mut(|item| {
            let BookItem::Chapter(chapter) = item else {
                return;
            };
            let mut missing = Vec::new();
            let content = placeholder.replace_all(&chapter.content, |c: &regex::Captures| {
                self.widget(&c[1]).unwrap_or_else(|| {
                    missing.push(c[1].to_string());
                    String::new()
                })
            });
            chapter.content = content.into_owned();
            if let Some(topic) = missing.first() {
                let at = chapter
                    .source_path
                    .as_deref()
                    .unwrap_or(Path::new("?"))
                    .display()
                    .to_string();
                error.get_or_insert(anyhow::anyhow!(
                    "book/src/{at}: {{{{#quiz {topic}}}}} names no bank in quiz/banks"
                ));
            }
        });
        match error {
            Some(e) => Err(e),
            None => Ok(book),
        }
    }
}
