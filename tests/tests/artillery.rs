//! `cargo xtask load --artillery`: the seed's Artillery example (rewritten, `labs/load-generator/artillery/shop.yml`)
//! run against a small shop written for this test, which checks what a real service would: that each signed-in
//! user sends the token it was given, that the product it deletes is the one it created, that query strings and
//! JSON bodies arrive as the file says. Counts are asserted, never timings (those are the labs' business).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use lab_load_generator::artillery::{self, Options, Test};
use lab_load_generator::Target;
use serde_json::{json, Value};
use workbench_tests::{root, run_xtask, serve_on_loopback, texts};

/// What the shop saw.
#[derive(Default)]
struct Shop {
    tokens: HashSet<String>,
    products: HashMap<u64, String>,
    next_id: u64,
    /// Requests per route, and anything that was not as the file says.
    seen: BTreeMap<&'static str, u64>,
    wrong: Vec<String>,
}

type Shared = Arc<Mutex<Shop>>;

fn count(shop: &Shared, route: &'static str) {
    *shop.lock().unwrap().seen.entry(route).or_default() += 1;
}

fn wrong(shop: &Shared, what: String) {
    shop.lock().unwrap().wrong.push(what);
}

fn signed_in(shop: &Shared, headers: &HeaderMap) -> bool {
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    token.is_some_and(|t| shop.lock().unwrap().tokens.contains(t))
}

fn app(shop: Shared) -> Router {
    Router::new()
        .route(
            "/api/v1/auth/login",
            post(|State(shop): State<Shared>, Json(body): Json<Value>| async move {
                count(&shop, "login");
                let email = body["email"].as_str().unwrap_or_default();
                if !(email.starts_with("shopper") && email.ends_with("@example.test"))
                    || body["password"] != "correct horse"
                {
                    wrong(&shop, format!("login body {body}"));
                }
                let mut s = shop.lock().unwrap();
                let token = format!("token-{}", s.tokens.len());
                s.tokens.insert(token.clone());
                Json(json!({ "token": token }))
            }),
        )
        .route(
            "/api/v1/users/me",
            get(|State(shop): State<Shared>, headers: HeaderMap| async move {
                count(&shop, "me");
                if !signed_in(&shop, &headers) {
                    wrong(&shop, "GET /me without a token the shop issued".into());
                    return StatusCode::UNAUTHORIZED;
                }
                StatusCode::OK
            }),
        )
        .route(
            "/api/v1/products",
            post(
                |State(shop): State<Shared>, headers: HeaderMap, Json(body): Json<Value>| async move {
                    count(&shop, "create");
                    if !signed_in(&shop, &headers) {
                        wrong(&shop, "POST /products without a token".into());
                    }
                    if !body["price"].is_i64() {
                        wrong(&shop, format!("price is not a number: {body}"));
                    }
                    let mut s = shop.lock().unwrap();
                    s.next_id += 1;
                    let id = s.next_id;
                    s.products.insert(id, body["name"].to_string());
                    (StatusCode::CREATED, Json(json!({ "id": id })))
                },
            )
            .get(
                |State(shop): State<Shared>, Query(q): Query<HashMap<String, String>>| async move {
                    count(&shop, "list");
                    let page: u32 = q.get("page").and_then(|p| p.parse().ok()).unwrap_or(0);
                    if !(1..=10).contains(&page)
                        || q.get("limit").map(String::as_str) != Some("20")
                        || q.get("sort").map(String::as_str) != Some("-createdAt")
                    {
                        wrong(&shop, format!("list query {q:?}"));
                    }
                    Json(json!([]))
                },
            ),
        )
        .route(
            "/api/v1/products/search",
            get(
                |State(shop): State<Shared>, Query(q): Query<HashMap<String, String>>| async move {
                    count(&shop, "search");
                    let category = q.get("category").map(String::as_str).unwrap_or_default();
                    if q.get("q").map(String::as_str) != Some("lamp")
                        || !["kitchen", "garden", "books"].contains(&category)
                    {
                        wrong(&shop, format!("search query {q:?}"));
                    }
                    Json(json!([]))
                },
            ),
        )
        .route(
            "/api/v1/products/{id}",
            delete(
                |State(shop): State<Shared>, headers: HeaderMap, Path(id): Path<u64>| async move {
                    count(&shop, "delete");
                    if !signed_in(&shop, &headers) {
                        wrong(&shop, "DELETE without a token".into());
                    }
                    if shop.lock().unwrap().products.remove(&id).is_none() {
                        wrong(&shop, format!("DELETE of product {id}, which does not exist"));
                        return StatusCode::NOT_FOUND;
                    }
                    StatusCode::NO_CONTENT
                },
            ),
        )
        .with_state(shop)
}

/// Serves the shop on loopback from its own thread for as long as the test runs.
fn start_shop() -> (SocketAddr, Shared) {
    let shop = Shared::default();
    let app = app(shop.clone());
    let addr = serve_on_loopback(|listener| async move { axum::serve(listener, app).await.unwrap() });
    (addr, shop)
}

fn shop_file() -> PathBuf {
    root().join("labs/load-generator/artillery/shop.yml")
}

#[test]
fn the_seed_example_runs_flows_with_captures_against_a_real_shop() {
    let (addr, shop) = start_shop();
    let test = Test::load(&shop_file()).unwrap();
    let options = Options {
        target: Target::parse(&format!("http://{addr}"), false).unwrap(),
        timeout: Duration::from_secs(5),
        max_users: 10_000,
        pacing: lab_load_generator::pacer::DEFAULT_PACING,
        progress: Arc::new(AtomicU64::new(0)),
    };
    let run = artillery::run(&test, &options).unwrap();

    // 2 s at 5 users/s, then 3 s ramping from 10 to 30 a second: 10 + 60 users, every one of them through its flow.
    let users = &run.users;
    assert_eq!(users.created, 70, "{users:?}");
    assert_eq!(
        (users.completed, users.failed, users.dropped, users.unfinished),
        (70, 0, 0, 0),
        "{users:?}"
    );

    let shop = shop.lock().unwrap();
    assert!(
        shop.wrong.is_empty(),
        "the shop saw requests that were not as the file says: {:?}",
        shop.wrong
    );
    let seen = |route| shop.seen.get(route).copied().unwrap_or(0);
    // Each signed-in user: login, me, create, delete — with its own token and its own product id.
    let (signed, browsing) = (seen("login"), seen("list"));
    assert!(signed > 0 && browsing > 0, "both scenarios drawn: {:?}", shop.seen);
    assert_eq!(signed + browsing, 70);
    for route in ["me", "create", "delete"] {
        assert_eq!(seen(route), signed, "{route}: {:?}", shop.seen);
    }
    assert_eq!(seen("search"), browsing);
    assert!(
        shop.products.is_empty(),
        "every product created was deleted by its creator"
    );

    // The report: one row per request step, every request answered, none retried.
    let report = &run.report;
    assert_eq!(report.load.mode, "virtual-users");
    assert_eq!(report.requests, 4 * signed + 2 * browsing);
    assert_eq!(report.errors, 0);
    assert_eq!(report.by_name.len(), 6, "{:?}", report.by_name.keys());
    assert_eq!(
        report.by_name["DELETE /api/v1/products/{{ productId }}"].requests,
        signed
    );
    assert_eq!(report.by_name["GET /api/v1/products/search"].requests, browsing);
    // One keep-alive connection per user.
    assert_eq!(report.connects, 70);
}

#[test]
fn the_command_runs_a_file_and_refuses_what_it_cannot_run_with_file_and_line() {
    let (addr, _shop) = start_shop();
    let dir = tempfile::tempdir().unwrap();
    let small = dir.path().join("small.yml");
    std::fs::write(
        &small,
        "config:\n  target: \"http://127.0.0.1:1\"\n  phases:\n    - duration: 1\n      arrivalRate: 4\nscenarios:\n  - flow:\n      - get:\n          url: \"/api/v1/products/search\"\n          qs: { q: lamp, category: books }\n",
    )
    .unwrap();
    // The URL replaces config.target (port 1 would refuse every connection).
    let output = run_xtask(&[
        "load",
        "--artillery",
        small.to_str().unwrap(),
        &format!("http://{addr}"),
        "--json",
    ]);
    let (stdout, stderr) = texts(&output);
    assert!(output.status.success(), "{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["users"]["created"], 4);
    assert_eq!(report["users"]["completed"], 4);
    assert_eq!(report["outcomes"]["200"], 4);

    // A key Artillery has and the workbench does not run: exit 2, the file and line, and what to do instead.
    let hooks = dir.path().join("hooks.yml");
    std::fs::write(
        &hooks,
        std::fs::read_to_string(&small)
            .unwrap()
            .replace("  phases:", "  processor: \"./hooks.js\"\n  phases:"),
    )
    .unwrap();
    let output = run_xtask(&["load", "--artillery", hooks.to_str().unwrap()]);
    let (_, stderr) = texts(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(&format!("{}:3:", hooks.display())), "{stderr}");
    assert!(stderr.contains("JavaScript hooks"), "{stderr}");
}
