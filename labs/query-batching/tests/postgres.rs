//! The same service on a real PostgreSQL server (`DATABASE_URL=postgres://…`; CI starts one). Skipped, with the
//! reason printed, when the variable is unset.
//!
//! Each test keeps its tables in its own schema (seeded once, reused by later runs), so tests that change the
//! listing's index never race the others.

mod common;

use common::*;
use lab_query_batching::db::{Backend, Postgres, Sqlite};
use lab_query_batching::server::Variant;

async fn postgres(schema: &str) -> Option<Backend> {
    let Ok(url) = std::env::var("DATABASE_URL") else {
        eprintln!("skipped: DATABASE_URL is not set (CI sets it; e.g. postgres://postgres@127.0.0.1:5432/postgres)");
        return None;
    };
    let db = Postgres::connect(&url, schema, 4)
        .await
        .unwrap_or_else(|e| panic!("DATABASE_URL is set but {url} is not usable: {e}"));
    Some(Backend::Postgres(db))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_each_variant_sends_its_exact_number_of_queries_and_the_pages_match_sqlite() {
    let Some(pg) = postgres("qb_test_pages").await else {
        return;
    };
    let (on_sqlite, _) = app_over(Backend::Sqlite(Sqlite::open(2).unwrap()), Variant::Join).await;
    let expected = get_json(&on_sqlite, "/orders?after=994&size=30").await;
    for variant in PAGE_VARIANTS {
        let (app, counters) = app_over(pg.clone(), variant).await;
        let page = get_json(&app, "/orders?after=994&size=30").await;
        assert_eq!(page, expected, "{variant:?} on PostgreSQL differs from SQLite");
        assert_eq!(counters.get("db_queries"), queries_for_page(variant, 30), "{variant:?}");
        assert_eq!(get_json(&app, "/stats").await["backend"], "postgres");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_the_index_turns_a_seq_scan_into_an_index_scan() {
    let Some(pg) = postgres("qb_test_index").await else {
        return;
    };
    let uri = "/customers/42/orders?min_total=20000";
    let (without, _) = app_over(pg.clone(), Variant::NoIndex).await;
    let plan_without = get_json(&without, "/stats").await["query_plan"]
        .as_str()
        .unwrap()
        .to_string();
    let rows_without = get_json(&without, uri).await;
    let (with, _) = app_over(pg, Variant::Index).await;
    let plan_with = get_json(&with, "/stats").await["query_plan"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(get_json(&with, uri).await, rows_without);
    assert!(plan_without.contains("Seq Scan on orders"), "{plan_without}");
    assert!(!plan_without.contains("orders_esr"), "{plan_without}");
    assert!(
        plan_with.contains("Index Scan") && plan_with.contains("orders_esr"),
        "{plan_with}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_a_dataloader_batch_is_one_any_query() {
    let Some(pg) = postgres("qb_test_pages").await else {
        return;
    };
    let (app, counters) = app_over(pg, Variant::Dataloader).await;
    // A page of 100 orders: 100 customers and 100 item lists, still 3 queries.
    let page = get_json(&app, "/orders?size=100").await;
    assert_eq!(page["orders"].as_array().unwrap().len(), 100);
    assert_eq!(counters.get("db_queries"), 3);
}
