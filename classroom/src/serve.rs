//! `cargo xtask class DIR --watch`: the dashboard served over HTTP and re-rendered while submissions arrive.
//!
//! The model is the book's `--serve`: the folder is polled every 500 ms (a fingerprint of each `*.json` file's
//! name, size and modification time — a network share or a synced folder often sends no inotify events, so
//! polling is the portable choice), the page is re-rendered when the fingerprint changes, and the page itself asks
//! `/__generation` once a second and reloads when it moved on.
//!
//! Loopback by default: a dashboard of names and grades is not for the whole network unless the instructor says so
//! with `--host`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use axum::response::Html;
use axum::routing::get;
use axum::Router;

/// What identifies the folder's contents: each submission's name, size and modification time.
pub fn fingerprint(folder: &Path) -> Vec<(PathBuf, u64, SystemTime)> {
    let mut files: Vec<(PathBuf, u64, SystemTime)> = std::fs::read_dir(folder)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
        .filter_map(|e| {
            let meta = e.metadata().ok()?;
            Some((e.path(), meta.len(), meta.modified().ok()?))
        })
        .collect();
    files.sort();
    files
}

/// The page and how many times it was rendered.
#[derive(Default)]
struct Page {
    generation: u64,
    html: String,
}

/// The routes: `/` the page, `/__generation` its render count.
fn app(page: Arc<RwLock<Page>>) -> Router {
    let for_generation = page.clone();
    Router::new()
        .route(
            "/",
            get(move || {
                let page = page.clone();
                async move { Html(page.read().expect("page lock").html.clone()) }
            }),
        )
        .route(
            "/__generation",
            get(move || {
                let page = for_generation.clone();
                async move { page.read().expect("page lock").generation.to_string() }
            }),
        )
}

/// Serves `render()`'s page on `addr` until the process is interrupted, re-rendering when `folder` changes;
/// `on_ready` gets the URL once it listens.
pub fn serve(
    folder: &Path,
    addr: SocketAddr,
    render: impl Fn() -> String + Send + 'static,
    on_ready: impl FnOnce(&str),
) -> std::io::Result<()> {
    let page = Arc::new(RwLock::new(Page {
        generation: 1,
        html: render(),
    }));
    let (folder, shared) = (folder.to_path_buf(), page.clone());
    std::thread::spawn(move || {
        let mut last = fingerprint(&folder);
        loop {
            std::thread::sleep(Duration::from_millis(500));
            let now = fingerprint(&folder);
            if now != last {
                last = now;
                let html = render();
                let mut page = shared.write().expect("page lock");
                page.html = html;
                page.generation += 1;
            }
        }
    });
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        on_ready(&format!("http://{}/", listener.local_addr()?));
        axum::serve(listener, app(page)).await
    })
}
