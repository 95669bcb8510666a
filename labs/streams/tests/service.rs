//! The service through `app()` with no socket (exports, imports, bad input, rollback), and one real socket for
//! the client that goes away mid-export. Counters and bytes are exact; nothing here times anything.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use bytes::Bytes;
use http_body_util::BodyExt;
use lab_kit::Counters;
use lab_streams::server::{app, AppState, Settings, Variant, COUNTERS};
use lab_streams::splitter::RecordSplitter;
use tower::ServiceExt;

const ROWS: u64 = 3000;
const HEADER: &str = "id,customer,email,amount_cents,created_at,note\n";

/// The seeded orders database every test shares (seeded once per test binary, in a temporary folder).
fn orders_db() -> std::path::PathBuf {
    static DIR: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    let dir = DIR.get_or_init(|| tempfile::tempdir().unwrap());
    let path = dir.path().join("orders.sqlite");
    static SEEDED: std::sync::Once = std::sync::Once::new();
    SEEDED.call_once(|| lab_streams::seed::open_or_seed(&path, ROWS).unwrap());
    path
}

fn server(variant: Variant, settings: impl FnOnce(&mut Settings)) -> (Router, Counters) {
    let imports_db = tempfile::Builder::new()
        .suffix(".sqlite")
        .tempfile()
        .unwrap()
        .into_temp_path();
    lab_streams::import::create_imports_db(&imports_db).unwrap();
    let mut s = Settings {
        rows: ROWS,
        chunk_rows: 100,
        channel_chunks: 2,
        max_upload_bytes: 1 << 20,
        batch_rows: 100,
        gzip_level: 2,
    };
    settings(&mut s);
    let counters = Counters::new(COUNTERS);
    let state = AppState {
        orders_db: orders_db(),
        imports_db,
        variant,
        settings: s,
        counters: counters.clone(),
    };
    (app(Arc::new(state)), counters)
}

async fn get(app: &Router, uri: &str, accept_gzip: bool) -> (StatusCode, axum::http::HeaderMap, Bytes) {
    let mut request = Request::get(uri);
    if accept_gzip {
        request = request.header("accept-encoding", "gzip");
    }
    let response = app.clone().oneshot(request.body(Body::empty()).unwrap()).await.unwrap();
    let (parts, body) = response.into_parts();
    (parts.status, parts.headers, body.collect().await.unwrap().to_bytes())
}

/// POSTs `pieces` as a streamed body (one frame each, as a network would cut it), with `content_type`.
async fn post(
    app: &Router,
    content_type: &str,
    length: Option<usize>,
    pieces: Vec<Vec<u8>>,
) -> (StatusCode, serde_json::Value) {
    let stream = futures_util::stream::iter(pieces.into_iter().map(|p| Ok::<_, std::io::Error>(Bytes::from(p))));
    let mut request = Request::post("/import").header("content-type", content_type);
    if let Some(n) = length {
        request = request.header("content-length", n);
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::from_stream(stream)).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null))
}

async fn imported(app: &Router) -> u64 {
    let (_, _, body) = get(app, "/imports/count", false).await;
    serde_json::from_slice::<serde_json::Value>(&body).unwrap()["rows"]
        .as_u64()
        .unwrap()
}

fn records(csv: &[u8]) -> Vec<lab_streams::splitter::Record> {
    let mut splitter = RecordSplitter::new();
    let mut out = Vec::new();
    splitter.push(csv, &mut out).unwrap();
    splitter.finish(&mut out).unwrap();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_variant_exports_the_same_csv_with_quoted_fields_intact() {
    let mut bodies = Vec::new();
    for variant in [Variant::Buffered, Variant::Streamed, Variant::Unbounded] {
        let (app, counters) = server(variant, |_| {});
        let (status, headers, body) = get(&app, "/export.csv", false).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(headers["content-type"], "text/csv; charset=utf-8");
        assert_eq!(counters.get("export_rows"), ROWS, "{variant:?}");
        assert_eq!(counters.get("exports_completed"), 1, "{variant:?}");
        bodies.push(body);
    }
    assert_eq!(bodies[0], bodies[1]);
    assert_eq!(bodies[0], bodies[2]);
    let rows = records(&bodies[0]);
    assert_eq!(rows.len() as u64, ROWS + 1, "the header and every order");
    // Order 100's note has a newline, order 50's quotes and an é: read back exactly.
    assert_eq!(rows[100].fields[5], "two lines:\nring twice");
    assert_eq!(rows[50].fields[5], "Zoé said \"leave it at the door\"");
    assert_eq!(rows[10].fields[5], "rush, gift-wrap");
    // A streamed export is handed over in chunks of chunk_rows.
    let (app, counters) = server(Variant::Streamed, |_| {});
    get(&app, "/export.csv?rows=1000", false).await;
    assert_eq!((counters.get("export_rows"), counters.get("export_chunks")), (1000, 10));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gzip_is_negotiated_and_decompresses_to_the_plain_export() {
    let (app, _) = server(Variant::StreamedGzip, |_| {});
    let (_, plain_headers, plain) = get(&app, "/export.csv", false).await;
    assert!(
        plain_headers.get("content-encoding").is_none(),
        "no accept-encoding, no gzip"
    );
    let (status, headers, gz) = get(&app, "/export.csv", true).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-encoding"], "gzip");
    assert_eq!(headers["vary"], "accept-encoding");
    let mut unzipped = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz[..]), &mut unzipped).unwrap();
    assert_eq!(unzipped, plain);
    assert!(gz.len() * 4 < plain.len(), "{} -> {} bytes", plain.len(), gz.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ndjson_is_one_json_object_per_order() {
    let (app, _) = server(Variant::Streamed, |_| {});
    let (status, headers, body) = get(&app, "/export.ndjson?rows=200", false).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "application/x-ndjson");
    let lines: Vec<serde_json::Value> = body
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 200);
    assert_eq!(lines[99]["note"], "two lines:\nring twice");
    assert_eq!(lines[49]["id"], 50);
}

/// A good file with every awkward case: quoted commas, newlines and quotes, multi-byte characters, CRLF, no final
/// newline — cut into pieces at every 7th byte, so pieces end inside all of them.
fn awkward_file() -> Vec<u8> {
    let mut csv = String::from(HEADER);
    for id in 1..=250 {
        csv.push_str(&format!(
            "{id},Zoë{id},z{id}@example.com,{},2026-12-03,\"東京, \"\"rush\"\"\nring twice\"\r\n",
            id * 3
        ));
    }
    csv.push_str("251,last,l@example.com,1,2026-12-03,no final newline");
    csv.into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_cut_anywhere_imports_every_row_in_both_variants() {
    for variant in [Variant::Buffered, Variant::Streamed] {
        let (app, counters) = server(variant, |_| {});
        let pieces: Vec<Vec<u8>> = awkward_file().chunks(7).map(<[u8]>::to_vec).collect();
        let (status, body) = post(&app, "text/csv; charset=utf-8", None, pieces).await;
        assert_eq!(status, StatusCode::OK, "{variant:?}: {body}");
        assert_eq!(body["rows"], 251, "{variant:?}");
        assert_eq!(imported(&app).await, 251);
        assert_eq!(
            counters.get("import_batches"),
            3,
            "{variant:?}: 251 rows in batches of 100"
        );
    }
}

/// A file of `rows` good rows with a bad one at line `bad_line`.
fn file_with_bad_line(rows: u64, bad_line: u64) -> Vec<u8> {
    let mut csv = String::from(HEADER);
    for line in 2..=rows + 1 {
        if line == bad_line {
            csv.push_str(&format!("{line},bob,bob@example.com,twelve,2026-12-03,\n"));
        } else {
            csv.push_str(&format!("{line},ann,ann@example.com,100,2026-12-03,\n"));
        }
    }
    csv.into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_row_after_batches_were_written_rolls_the_whole_import_back() {
    for variant in [Variant::Streamed, Variant::Buffered] {
        let (app, counters) = server(variant, |_| {});
        let file = file_with_bad_line(20_000, 5000);
        let size = file.len();
        let pieces: Vec<Vec<u8>> = file.chunks(4096).map(<[u8]>::to_vec).collect();
        let (status, body) = post(&app, "text/csv", Some(size), pieces).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{variant:?}");
        assert_eq!(body["line"], 5000, "{variant:?}: {body}");
        assert!(body["reason"].as_str().unwrap().starts_with("amount_cents"), "{body}");
        assert_eq!(
            imported(&app).await,
            0,
            "{variant:?}: nothing of a failed file is visible"
        );
        let read = counters.get("upload_bytes_read") as usize;
        if variant == Variant::Streamed {
            // 49 batches went to the database before line 5000 — and were rolled back.
            assert!(
                counters.get("import_batches") >= 40,
                "{}",
                counters.get("import_batches")
            );
            assert_eq!(counters.get("import_rollbacks"), 1);
            assert!(
                read < size / 3,
                "the streamed import stopped early: {read} of {size} bytes"
            );
        } else {
            assert_eq!(read, size, "the buffered import read it all first");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_type_and_oversized_uploads_are_refused_without_reading_them() {
    let (app, counters) = server(Variant::Streamed, |s| s.max_upload_bytes = 10_000);
    let (status, body) = post(&app, "application/json", None, vec![b"{}".to_vec()]).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(body["error"].as_str().unwrap().contains("text/csv"));
    // A Content-Length over the limit: 413 before any byte of the body is read.
    let (status, _) = post(&app, "text/csv", Some(50_000), vec![vec![b'1'; 50_000]]).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(counters.get("upload_bytes_read"), 0);
    // No length, growing past the limit: 413 as soon as it does, the rest never read.
    let mut file = file_with_bad_line(2000, 0);
    file.truncate(40_000);
    let pieces: Vec<Vec<u8>> = file.chunks(4000).map(<[u8]>::to_vec).collect();
    let (status, body) = post(&app, "text/csv", None, pieces).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_eq!(
        counters.get("upload_bytes_read"),
        12_000,
        "three pieces of 4000 read: the third crossed 10,000"
    );
    assert_eq!(imported(&app).await, 0);
    // Not CSV at all (a quote inside a field, bytes that are not UTF-8): 422 with the line.
    let (status, body) = post(
        &app,
        "text/csv",
        None,
        vec![format!("{HEADER}1,a\"b,x@y,1,2026-12-03,\n").into_bytes()],
    )
    .await;
    assert_eq!(
        (status, body["line"].as_u64()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some(2))
    );
    let (status, body) = post(&app, "text/csv", None, vec![b"id,name\n".to_vec()]).await;
    assert_eq!(
        (status, body["line"].as_u64()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some(1)),
        "the header is checked"
    );
}

#[test]
fn a_client_that_goes_away_mid_export_stops_the_query() {
    use std::io::{Read, Write};
    let dir = tempfile::tempdir().unwrap();
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_lab-streams"));
    command
        .args(["--variant", "streamed", "--port", "0", "--rows", "400000", "--db"])
        .arg(dir.path().join("orders.sqlite"))
        // Its imports database goes in this test's folder too: a killed server cannot remove its temporary file.
        .env("TMPDIR", dir.path());
    let server = lab_kit::testing::ServerProcess::start(command);
    let mut export = std::net::TcpStream::connect(server.addr).unwrap();
    export
        .write_all(b"GET /export.csv HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut first = vec![0u8; 64 * 1024];
    export.read_exact(&mut first).unwrap();
    drop(export);
    // The producer notices at its next send, which fails.
    lab_kit::testing::eventually("the export to be cancelled", || {
        server.stats()["exports_cancelled"] == 1
    });
    let stats = server.stats();
    assert_eq!(stats["exports_completed"], 0, "{stats}");
    let rows = stats["export_rows"].as_u64().unwrap();
    assert!(rows < 400_000, "the query stopped: {rows} of 400000 rows read");
}
