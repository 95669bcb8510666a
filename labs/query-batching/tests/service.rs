//! The service on embedded SQLite, through `app()` with no socket: exact query counts per page, the same page
//! from every variant, the index and its plan, and bad input.

mod common;

use axum::http::StatusCode;
use common::*;
use lab_query_batching::db::{Backend, Postgres, Sqlite};
use lab_query_batching::schema;
use lab_query_batching::server::Variant;

fn sqlite() -> Backend {
    Backend::Sqlite(Sqlite::open(4).expect("the embedded database opens"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_variant_sends_its_exact_number_of_queries_per_page() {
    for variant in PAGE_VARIANTS {
        let (app, counters) = app_over(sqlite(), variant).await;
        let page = get_json(&app, "/orders?after=100&size=20").await;
        assert_eq!(page["orders"].as_array().unwrap().len(), 20);
        assert_eq!(
            counters.get("db_queries"),
            queries_for_page(variant, 20),
            "{variant:?}: queries for one page of 20"
        );
        let stats = get_json(&app, "/stats").await;
        assert_eq!(
            stats["queries_per_page"].as_f64(),
            Some(queries_for_page(variant, 20) as f64)
        );
        assert_eq!(stats["backend"], "sqlite");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_variant_returns_the_same_page_including_deleted_customers_and_empty_orders() {
    let mut pages = Vec::new();
    for variant in PAGE_VARIANTS {
        let (app, _) = app_over(sqlite(), variant).await;
        pages.push(get_json(&app, "/orders?after=994&size=12").await);
    }
    assert_eq!(pages[0], pages[1], "n-plus-one and dataloader differ");
    assert_eq!(pages[0], pages[2], "n-plus-one and join differ");
    let orders = pages[0]["orders"].as_array().unwrap();
    let ids: Vec<i64> = orders.iter().map(|o| o["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, (995..=1006).collect::<Vec<_>>());
    // Order 1000's customer was deleted: the page shows no customer rather than failing or dropping the order.
    assert_eq!(1000 % schema::DELETED_CUSTOMER_EVERY, 0);
    let order_1000 = &orders[5];
    assert_eq!(order_1000["id"], 1000);
    assert!(order_1000["customer"].is_null(), "{order_1000}");
    // Order i has i mod 6 items: 996 has none, 995 has five, in id order.
    for order in orders {
        let id = order["id"].as_i64().unwrap();
        assert_eq!(
            order["items"].as_array().unwrap().len() as i64,
            schema::items_of(id),
            "order {id}"
        );
    }
    let items: Vec<i64> = orders[0]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_i64().unwrap())
        .collect();
    assert_eq!(items, vec![9951, 9952, 9953, 9954, 9955]);
    assert_eq!(pages[0]["next_after"], 1006);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_last_page_is_short_and_says_so() {
    let (app, _) = app_over(sqlite(), Variant::Join).await;
    let page = get_json(&app, &format!("/orders?after={}&size=50", schema::ORDERS - 10)).await;
    assert_eq!(page["orders"].as_array().unwrap().len(), 10);
    assert!(page["next_after"].is_null());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_pages_share_dataloader_batches() {
    let (app, counters) = app_over(sqlite(), Variant::Dataloader).await;
    let pages = (0..8).map(|k| {
        let app = app.clone();
        async move { get_json(&app, &format!("/orders?after={}&size=25", k * 1000)).await }
    });
    let pages = futures_util::future::join_all(pages).await;
    for (k, page) in pages.iter().enumerate() {
        assert_eq!(page["orders"][0]["id"], k as i64 * 1000 + 1);
    }
    // 8 order queries, and at most one customer batch and one item batch per page (fewer when pages share one).
    let queries = counters.get("db_queries");
    assert!(
        (10..=24).contains(&queries),
        "8 concurrent pages sent {queries} queries"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_index_changes_the_plan_not_the_answer() {
    let (without, _) = app_over(sqlite(), Variant::NoIndex).await;
    let (with, _) = app_over(sqlite(), Variant::Index).await;
    let uri = "/customers/42/orders?min_total=20000";
    let (a, b) = (get_json(&without, uri).await, get_json(&with, uri).await);
    assert_eq!(a, b);
    let rows = a.as_array().unwrap();
    assert!(!rows.is_empty() && rows.len() <= 20);
    let dates: Vec<i64> = rows.iter().map(|r| r["created_at"].as_i64().unwrap()).collect();
    assert!(dates.windows(2).all(|w| w[0] > w[1]), "newest first: {dates:?}");
    assert!(rows
        .iter()
        .all(|r| r["customer_id"] == 42 && r["total_cents"].as_i64().unwrap() >= 20000));

    let plan_without = get_json(&without, "/stats").await["query_plan"]
        .as_str()
        .unwrap()
        .to_string();
    let plan_with = get_json(&with, "/stats").await["query_plan"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(plan_without.contains("SCAN orders"), "{plan_without}");
    assert!(plan_with.contains("USING INDEX orders_esr"), "{plan_with}");
    let (status, explained) = get(&with, "/explain").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        explained.contains("SEARCH orders USING INDEX orders_esr"),
        "{explained}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_a_400_that_names_the_problem() {
    let (app, counters) = app_over(sqlite(), Variant::Join).await;
    for (uri, says) in [
        ("/orders?size=101", "100"),
        ("/orders?size=0", "between 1 and 100"),
        ("/orders?size=ten", "size"),
        ("/orders?after=-5", "after"),
        ("/orders?page=2", "page"),
        ("/customers/abc/orders", "whole number"),
        ("/customers/1/orders?min_total=lots", "min_total"),
    ] {
        let (status, body) = get(&app, uri).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {body}");
        assert!(body.contains(says), "{uri}: {body:?} should mention {says:?}");
    }
    assert_eq!(counters.get("db_queries"), 0, "bad input never reaches the database");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_database_gets_a_503_not_a_panic() {
    // Nothing listens on port 9 of loopback: every connection attempt is refused.
    let unreachable = Postgres::connect_lazy("postgres://nobody@127.0.0.1:9/none", "query_batching", 2).unwrap();
    for variant in PAGE_VARIANTS {
        let (app, _) = app_over(Backend::Postgres(unreachable.clone()), variant).await;
        let (status, body) = get(&app, "/orders?size=5").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{variant:?}: {body}");
        assert!(body.starts_with("database unavailable"), "{body}");
        let (status, _) = get(&app, "/healthz").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    }
}

#[test]
fn a_schema_name_that_could_inject_sql_is_refused() {
    let refused = Postgres::connect_lazy("postgres://x@127.0.0.1:9/none", "x; DROP TABLE orders", 1);
    assert!(refused.is_err_and(|e| e.0.contains("lower-case letters")));
}
