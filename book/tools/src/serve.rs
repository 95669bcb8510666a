//! `cargo xtask book --serve`: build, serve the book on loopback, rebuild when a source changes, and reload open
//! pages.
//!
//! Sources are polled (every 500 ms, their newest modification time) rather than watched with inotify: the
//! chapters include code from the labs, so a change anywhere under `book/`, `labs/` or `quiz/banks/` may change a
//! page, and polling a few hundred files costs nothing. Pages learn about a rebuild by asking `/__build` for the
//! build number once a second (`book/theme/livereload.js`, added to the pages only when serving).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::routing::get;
use axum::Router;
use tower_http::services::ServeDir;

use crate::BookError;

/// Builds the book with the live-reload script; returns the output folder.
fn build_for_serve(root: &Path) -> Result<PathBuf, BookError> {
    let mut book = crate::load(root)?;
    let mut scripts: Vec<String> = book
        .config
        .get("output.html.additional-js")
        .map_err(BookError::mdbook)?
        .unwrap_or_default();
    scripts.push("theme/livereload.js".into());
    book.config
        .set("output.html.additional-js", scripts)
        .map_err(BookError::mdbook)?;
    book.build()
        .map_err(|e| BookError::mdbook(format!("building the book: {e:#}")))?;
    Ok(book.build_dir_for("html"))
}

/// The newest modification time of any file under `dirs` (skipping `target` and hidden folders).
fn newest(dirs: &[PathBuf]) -> SystemTime {
    fn walk(dir: &Path, newest: &mut SystemTime) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            if path.is_dir() {
                if name != "target" && !name.to_string_lossy().starts_with('.') {
                    walk(&path, newest);
                }
            } else if let Ok(modified) = entry.metadata().and_then(|m| m.modified()) {
                *newest = (*newest).max(modified);
            }
        }
    }
    let mut t = SystemTime::UNIX_EPOCH;
    for dir in dirs {
        walk(dir, &mut t);
    }
    t
}

/// Serves the book at `127.0.0.1:port` until the process is interrupted; `on_ready` gets the URL once it listens.
pub fn serve(root: &Path, port: u16, on_ready: impl FnOnce(&str)) -> Result<(), BookError> {
    let built = build_for_serve(root)?;
    let generation = Arc::new(AtomicU64::new(1));

    let watched = vec![root.join("book"), root.join("labs"), root.join("quiz/banks")];
    let (root_owned, counter) = (root.to_path_buf(), generation.clone());
    std::thread::spawn(move || {
        let mut last = newest(&watched);
        loop {
            std::thread::sleep(Duration::from_millis(500));
            let now = newest(&watched);
            if now > last {
                last = now;
                match build_for_serve(&root_owned) {
                    Ok(_) => {
                        counter.fetch_add(1, Ordering::SeqCst);
                        eprintln!("rebuilt");
                    }
                    Err(e) => eprintln!("rebuild failed: {e}"),
                }
            }
        }
    });

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(BookError::Serve)?;
    runtime.block_on(async move {
        let app = Router::new()
            .route(
                "/__build",
                get(move || async move { generation.load(Ordering::SeqCst).to_string() }),
            )
            .fallback_service(ServeDir::new(built));
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let listener = tokio::net::TcpListener::bind(addr).await.map_err(BookError::Serve)?;
        on_ready(&format!("http://{}/", listener.local_addr().map_err(BookError::Serve)?));
        axum::serve(listener, app).await.map_err(BookError::Serve)
    })
}
