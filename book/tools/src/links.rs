//! Every internal link in the built book points at a file that exists.
//!
//! mdBook rewrites `.md` links to `.html`, so a chapter that links to a renamed or missing page builds happily and
//! 404s in the browser. This walks the built HTML, resolves each relative `href` and `src` against its page, and
//! lists the ones whose file is not there — or that lead out of the book (a link to `../../../labs/…` may happen to
//! resolve in a checkout, and 404s once the book is served). External links (`http:`, `mailto:` …) are not
//! followed: the machine that builds the book may be offline.

use std::path::{Path, PathBuf};

use regex::Regex;

use crate::BookError;

/// `page: link` for every internal link under `built` that points at no file.
pub fn broken(built: &Path) -> Result<Vec<String>, BookError> {
    let attribute = Regex::new(r#"(?:href|src)="([^"]*)""#).expect("a valid pattern");
    let mut pages = Vec::new();
    html_files(built, &mut pages)?;
    let mut broken = Vec::new();
    for page in &pages {
        let html = std::fs::read_to_string(page).map_err(BookError::io(page))?;
        for c in attribute.captures_iter(&html) {
            let link = &c[1];
            if link.is_empty() || link.starts_with('#') || link.contains(':') || link.starts_with("//") {
                continue;
            }
            let path = link.split(['#', '?']).next().unwrap_or_default();
            if path.is_empty() {
                continue;
            }
            let target = if let Some(absolute) = path.strip_prefix('/') {
                built.join(absolute)
            } else {
                page.parent().unwrap_or(built).join(path)
            };
            let inside = normalize(&target).starts_with(normalize(built));
            let exists = target.is_file() || target.join("index.html").is_file();
            if !inside || !exists {
                broken.push(format!(
                    "{}: {link}",
                    page.strip_prefix(built).unwrap_or(page).display()
                ));
            }
        }
    }
    Ok(broken)
}

/// `a/b/../c` → `a/c`, without touching the file system.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

fn html_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), BookError> {
    for entry in std::fs::read_dir(dir).map_err(BookError::io(dir))? {
        let path = entry.map_err(BookError::io(dir))?.path();
        if path.is_dir() {
            html_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "html") {
            out.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_to_a_missing_page_or_out_of_the_book_is_reported_and_others_are_not() {
        let dir = tempfile::tempdir().unwrap();
        let built = dir.path().join("book");
        std::fs::create_dir_all(built.join("caching")).unwrap();
        std::fs::write(built.join("caching/index.html"), "").unwrap();
        // Exists, but outside the book: it would 404 once the book is served.
        std::fs::write(dir.path().join("outside.rs"), "").unwrap();
        std::fs::write(
            built.join("index.html"),
            r##"<a href="caching/index.html#x">ok</a> <a href="#top">ok</a> <a href="https://example.com">ok</a>
                <a href="gone.html">bad</a> <img src="caching/"> <a href="caching/../../outside.rs">bad</a>"##,
        )
        .unwrap();
        assert_eq!(
            broken(&built).unwrap(),
            vec![
                "index.html: gone.html".to_string(),
                "index.html: caching/../../outside.rs".to_string()
            ]
        );
    }
}
