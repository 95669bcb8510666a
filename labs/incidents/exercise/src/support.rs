//! The world the drills run in — not where their faults are. Each piece counts what the graders and the lab's
//! `/stats` need, so a fix is judged on numbers that do not depend on the machine's speed:
//!
//! - [`compile_regex`] compiles a pattern and counts compilations (`regex_compiled`);
//! - [`pricing_service`] stands for a call to another service over the network: it waits [`PRICING_LATENCY`]
//!   without using the CPU, and counts how many calls were in flight at once (`pricing_in_flight_max`);
//! - [`QuoteBook`] keeps the last quote of every product;
//! - [`Session::load`] builds a signed-in user's session: a token, and their profile and cart ([`SESSION_BYTES`]);
//! - [`exchange_rate`] stands for a vendor's synchronous SDK (a blocking HTTP client inside): it holds its thread
//!   for [`EXCHANGE_RATE_LATENCY`], and counts the calls made on the event loop's own thread
//!   (`exchange_rate_calls_on_event_loop`), the thread [`mark_event_loop`] named at start-up;
//! - [`check_order`] checks one row of an order import — honest CPU work, a few hundred nanoseconds — and counts
//!   the rows checked (`import_rows_checked`) and those checked on the event loop's thread
//!   (`import_rows_checked_on_event_loop`);
//! - [`call_service`] calls one of the five [`SERVICES`] behind the account page and counts the calls per service
//!   (`downstream_calls_<service>`), how many were in flight at once (`downstream_in_flight_max`) and how many the
//!   caller gave up on (`downstream_abandoned`). In the lab it is a real HTTP call (hyper's pooled client) to the
//!   five mock services the lab starts ([`use_downstream`]); in a grader's test, where no service is running, the
//!   same function simulates them on Tokio's clock ([`simulate`]), so a grader can pause time and judge the
//!   orchestration — what overlaps, what is cut off, what is not called — without timing anything;
//! - [`OrdersDb`] is the orders database (SQLite, in memory, seeded with [`SEEDED_ORDERS`] orders): it runs the
//!   order-history query a drill gives it and counts queries, full-scan steps and SQLite's virtual-machine steps
//!   (`db_queries`, `db_fullscan_steps`, `db_vm_steps`) — the work a query did, the same on any machine — and the
//!   queries slower than [`SLOW_QUERY`] (`db_slow_queries`, a slow-query log's count);
//! - [`build_product_page`] builds a product page from the catalogue database: [`PRODUCT_QUERY_TIME`] on one of
//!   [`CATALOGUE_CONNECTIONS`] connections, waiting for one when all are busy — at most the `acquire_timeout` its
//!   caller gives, as a real pool's (sqlx's `acquire_timeout`, 30 s by default: [`POOL_DEFAULT_ACQUIRE_TIMEOUT`]),
//!   after which the build is refused with [`CatalogueBusy`] and no query is sent. Counted: `catalogue_queries`
//!   (sent), `catalogue_duplicate_builds` (asked for a page another build was already making: a stampede's
//!   waste), `catalogue_waiting_max` (the most waiting for a connection at once), `catalogue_shed` (refused).
//!   Simulated on Tokio's clock, in the lab as in the graders: the drill is about how many queries are sent and
//!   how long they queue, not how a database runs them;
//! - [`stable_checkout`] and [`canary_checkout`] are the two builds of the checkout being rolled out: the stable one
//!   always works; the canary fails the carts its bug touches ([`set_canary_bug`]: 3 carts in 10 by default).
//!   Counted per build (`stable_requests`, `canary_requests`, `canary_errors`).
//!
//! - [`load_room_history`] loads a chat room's recent messages from the message store ([`ROOM_HISTORY`] of them,
//!   counted: `chat_history_loads`), and [`envelope`] wraps a message posted now in the JSON every member's client
//!   reads (`chat_envelopes`); a [`Frame`] is one on its way to a socket.
//!
//! The counters are process-wide, like the service's: a test that reads them takes [`counters_lock`] first.

use std::cell::Cell;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{LazyLock, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use regex::Regex;

/// What a sign-up form accepts as an e-mail address: letters and digits of any script, the punctuation RFC 5322
/// allows before the `@`, and dot-separated labels after it. Unicode classes make a large automaton: cheap to run
/// once built, costly to build.
pub const EMAIL_PATTERN: &str = r"^[\p{L}\p{N}.!#$%&'*+/=?^_`{|}~-]{1,64}@[\p{L}\p{N}](?:[\p{L}\p{N}-]*[\p{L}\p{N}])?(?:\.[\p{L}\p{N}](?:[\p{L}\p{N}-]*[\p{L}\p{N}])?)*$";

/// How long the pricing service takes to answer.
pub const PRICING_LATENCY: Duration = Duration::from_millis(20);

/// How long the vendor SDK holds its thread.
pub const EXCHANGE_RATE_LATENCY: Duration = Duration::from_millis(5);

static REGEX_COMPILED: AtomicU64 = AtomicU64::new(0);
static PRICING_CALLS: AtomicU64 = AtomicU64::new(0);
static PRICING_IN_FLIGHT: AtomicU64 = AtomicU64::new(0);
static PRICING_IN_FLIGHT_MAX: AtomicU64 = AtomicU64::new(0);
static EXCHANGE_RATE_CALLS: AtomicU64 = AtomicU64::new(0);
static EXCHANGE_RATE_ON_LOOP: AtomicU64 = AtomicU64::new(0);
static IMPORT_ROWS: AtomicU64 = AtomicU64::new(0);
static IMPORT_ROWS_ON_LOOP: AtomicU64 = AtomicU64::new(0);
thread_local! {
    /// Whether this thread runs an event loop (set by [`mark_event_loop`]).
    static IS_EVENT_LOOP: Cell<bool> = const { Cell::new(false) };
}

/// Compiles `pattern` (a constant of this crate: a failure is a bug, hence the panic) and counts it.
#[inline(never)]
pub fn compile_regex(pattern: &str) -> Regex {
    REGEX_COMPILED.fetch_add(1, Ordering::Relaxed);
    Regex::new(pattern).expect("the drills' patterns are valid")
}

/// The pricing service's discount for `sku`, in cents, after [`PRICING_LATENCY`] on the network.
pub async fn pricing_service(sku: u32) -> u64 {
    PRICING_CALLS.fetch_add(1, Ordering::Relaxed);
    let now = PRICING_IN_FLIGHT.fetch_add(1, Ordering::AcqRel) + 1;
    PRICING_IN_FLIGHT_MAX.fetch_max(now, Ordering::AcqRel);
    // Decrements even if the caller gives up on the call (its future is dropped mid-wait).
    struct Leaving;
    impl Drop for Leaving {
        fn drop(&mut self) {
            PRICING_IN_FLIGHT.fetch_sub(1, Ordering::AcqRel);
        }
    }
    let _leaving = Leaving;
    tokio::time::sleep(PRICING_LATENCY).await;
    u64::from(sku % 7) * 25
}

/// What a session holds besides its token: the user's profile and cart, loaded at sign-in.
pub const SESSION_BYTES: usize = 8 * 1024;

static SESSIONS_STARTED: AtomicU64 = AtomicU64::new(0);

/// A signed-in user's session.
#[derive(Debug)]
pub struct Session {
    /// Its token: unique for the process's life.
    pub token: String,
    /// Who signed in.
    pub user: String,
    /// Their profile and cart, as loaded at sign-in.
    pub state: Vec<u8>,
}

impl Session {
    /// Signs `user` in: a fresh token and their state, [`SESSION_BYTES`] of it.
    pub fn load(user: &str) -> Session {
        let n = SESSIONS_STARTED.fetch_add(1, Ordering::Relaxed);
        Session {
            token: format!("s{n:016x}"),
            user: user.to_string(),
            state: vec![(n % 251) as u8; SESSION_BYTES],
        }
    }
}

/// The quote book: every product's last quote, for the sales dashboard.
#[derive(Debug, Default)]
pub struct QuoteBook {
    last_quote: HashMap<u32, u64>,
}

impl QuoteBook {
    /// The list price of `sku`, in cents.
    pub fn base_price(&self, sku: u32) -> u64 {
        1_000 + u64::from(sku % 100) * 10
    }

    /// Keeps `price` as the last quote of `sku`.
    pub fn record(&mut self, sku: u32, price: u64) {
        self.last_quote.insert(sku, price);
    }

    /// The last quote of `sku`, if any.
    pub fn last_quote(&self, sku: u32) -> Option<u64> {
        self.last_quote.get(&sku).copied()
    }
}

/// Names the calling thread as an event loop: the lab's single-threaded runtime runs on it (and a grader's test).
pub fn mark_event_loop() {
    IS_EVENT_LOOP.with(|is| is.set(true));
}

/// The vendor SDK: how many `currency` one euro buys. Holds the calling thread for [`EXCHANGE_RATE_LATENCY`] —
/// `std::thread::sleep` standing for the blocking socket read inside the SDK. `None` for an unknown currency.
#[inline(never)]
pub fn exchange_rate(currency: &str) -> Option<f64> {
    EXCHANGE_RATE_CALLS.fetch_add(1, Ordering::Relaxed);
    if IS_EVENT_LOOP.with(Cell::get) {
        EXCHANGE_RATE_ON_LOOP.fetch_add(1, Ordering::Relaxed);
    }
    std::thread::sleep(EXCHANGE_RATE_LATENCY);
    match currency {
        "EUR" => Some(1.0),
        "USD" => Some(1.08),
        "GBP" => Some(0.86),
        "JPY" => Some(162.4),
        "CHF" => Some(0.95),
        _ => None,
    }
}

/// One order of an import file, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    /// The order number.
    pub id: u64,
    /// Its amount in cents.
    pub amount_cents: u64,
}

/// What an import accepted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Imported {
    /// Orders accepted.
    pub orders: u64,
    /// Their amounts, summed, in cents.
    pub total_cents: u64,
}

impl Imported {
    /// Counts `order` in.
    pub fn add(&mut self, order: &Order) {
        self.orders += 1;
        self.total_cents += order.amount_cents;
    }
}

/// Why an import was refused: the first bad row, by its line in the file (the header is line 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// 1-based line of the file.
    pub line: usize,
    /// What is wrong with it.
    pub reason: String,
}

/// The columns of an import file, in order.
pub const IMPORT_HEADER: &str = "id,customer,email,amount_cents,created_at";

/// Checks one row of an order import (`id,customer,email,amount_cents,created_at`, no quoted fields: the sales
/// tool exports none): a whole order number, a customer name of 1 to 64 characters, an address with one `@` and a
/// dotted domain, a whole amount in cents, a real calendar date. Counts the row, and counts it again when it is
/// checked on the event loop's thread.
#[inline(never)]
pub fn check_order(row: &str) -> Result<Order, String> {
    IMPORT_ROWS.fetch_add(1, Ordering::Relaxed);
    if IS_EVENT_LOOP.with(Cell::get) {
        IMPORT_ROWS_ON_LOOP.fetch_add(1, Ordering::Relaxed);
    }
    let fields: Vec<&str> = row.split(',').collect();
    let [id, customer, email, amount, date] = fields[..] else {
        return Err(format!("expected 5 fields ({IMPORT_HEADER}), found {}", fields.len()));
    };
    let id = id
        .trim()
        .parse::<u64>()
        .map_err(|_| format!("order number {id:?} is not a whole number"))?;
    let customer = customer.trim();
    if customer.is_empty() || customer.chars().count() > 64 || customer.chars().any(char::is_control) {
        return Err(format!(
            "customer name {customer:?} must be 1 to 64 printable characters"
        ));
    }
    check_email(email.trim())?;
    let amount_cents = amount
        .trim()
        .parse::<u64>()
        .map_err(|_| format!("amount {amount:?} is not a whole number of cents"))?;
    check_date(date.trim())?;
    Ok(Order { id, amount_cents })
}

fn check_email(email: &str) -> Result<(), String> {
    let bad = || Err(format!("{email:?} is not an e-mail address"));
    let Some((local, domain)) = email.split_once('@') else {
        return bad();
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && local
            .chars()
            .all(|c| c.is_alphanumeric() || ".!#$%&'*+/=?^_`{|}~-".contains(c));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
        });
    if local_ok && domain_ok {
        Ok(())
    } else {
        bad()
    }
}

fn check_date(date: &str) -> Result<(), String> {
    let bad = || format!("date {date:?} is not a calendar date (YYYY-MM-DD)");
    let mut parts = date.splitn(3, '-').map(|p| p.parse::<u32>().ok());
    let (Some(Some(year)), Some(Some(month)), Some(Some(day))) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad());
    };
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return Err(bad()),
    };
    if (2000..=2100).contains(&year) && (1..=days).contains(&day) {
        Ok(())
    } else {
        Err(bad())
    }
}

/// The services behind the account page, in the order the page shows them. Only the profile is essential.
pub const SERVICES: [&str; 5] = ["profile", "orders", "recommendations", "inventory", "reviews"];

/// Why a downstream call gave nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DownstreamError {
    /// It answered with an error status.
    Failed {
        /// Which service.
        service: &'static str,
        /// Its status code.
        status: u16,
    },
    /// It could not be reached.
    Unreachable {
        /// Which service.
        service: &'static str,
        /// What the transport said.
        reason: String,
    },
    /// The caller stopped waiting for it.
    TimedOut {
        /// Which service.
        service: &'static str,
    },
    /// The caller did not call it (its circuit breaker is open).
    Skipped {
        /// Which service.
        service: &'static str,
    },
}

impl std::fmt::Display for DownstreamError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DownstreamError::Failed { service, status } => write!(f, "{service} answered {status}"),
            DownstreamError::Unreachable { service, reason } => write!(f, "{service} is unreachable: {reason}"),
            DownstreamError::TimedOut { service } => write!(f, "{service} did not answer in time"),
            DownstreamError::Skipped { service } => write!(f, "{service} was not called: its breaker is open"),
        }
    }
}

/// What the account page shows: the profile, and whatever else could be had (drill `five-services`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountPage {
    /// The user's profile (essential: without it there is no page).
    pub profile: String,
    /// Their recent orders.
    pub orders: Option<String>,
    /// Products picked for them.
    pub recommendations: Option<String>,
    /// Stock of what is in their cart.
    pub inventory: Option<String>,
    /// Reviews of what they bought.
    pub reviews: Option<String>,
}

static DOWNSTREAM_CALLS: [AtomicU64; 5] = [const { AtomicU64::new(0) }; 5];
static DOWNSTREAM_IN_FLIGHT: AtomicU64 = AtomicU64::new(0);
static DOWNSTREAM_IN_FLIGHT_MAX: AtomicU64 = AtomicU64::new(0);
static DOWNSTREAM_ABANDONED: AtomicU64 = AtomicU64::new(0);
static DOWNSTREAM: OnceLock<[SocketAddr; 5]> = OnceLock::new();

/// How a simulated service behaves: its latency, and whether it fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Behaviour {
    /// How long it takes to answer.
    pub latency: Duration,
    /// Every n-th call answers 500 (0: never; 1: always).
    pub fail_every: u64,
}

/// Healthy: 5 ms, no failures.
pub const HEALTHY: Behaviour = Behaviour {
    latency: Duration::from_millis(5),
    fail_every: 0,
};

static SIMULATED: Mutex<[Behaviour; 5]> = Mutex::new([HEALTHY; 5]);

/// Sends the calls to the five real services at `addrs` (in [`SERVICES`] order) from now on; the lab does this at
/// start-up. Later calls are ignored.
pub fn use_downstream(addrs: [SocketAddr; 5]) {
    let _ = DOWNSTREAM.set(addrs);
}

/// Makes the simulated `service` behave as `behaviour` (tests; reset to healthy by [`counters_lock`]).
pub fn simulate(service: &str, behaviour: Behaviour) {
    let index = service_index(service);
    SIMULATED.lock().unwrap_or_else(|p| p.into_inner())[index] = behaviour;
}

fn service_index(service: &str) -> usize {
    SERVICES
        .iter()
        .position(|s| *s == service)
        .unwrap_or_else(|| panic!("no service {service:?}: the services are {SERVICES:?}"))
}

/// The HTTP client of the real calls: hyper's pooled client, as reqwest uses inside — connections kept alive and
/// reused, so a call costs a request on an open connection, not a TCP handshake.
type HttpClient = hyper_util::client::legacy::Client<
    hyper_util::client::legacy::connect::HttpConnector,
    http_body_util::Empty<bytes::Bytes>,
>;

static CLIENT: LazyLock<HttpClient> =
    LazyLock::new(|| hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build_http());

/// Calls `service` for `user`: its answer's body, or why there is none. Counted per service; a call the caller
/// stops waiting for (its future dropped, as a timeout does) is counted as abandoned.
pub async fn call_service(service: &'static str, user: u32) -> Result<String, DownstreamError> {
    let index = service_index(service);
    DOWNSTREAM_CALLS[index].fetch_add(1, Ordering::Relaxed);
    let now = DOWNSTREAM_IN_FLIGHT.fetch_add(1, Ordering::AcqRel) + 1;
    DOWNSTREAM_IN_FLIGHT_MAX.fetch_max(now, Ordering::AcqRel);
    struct Leaving {
        finished: bool,
    }
    impl Drop for Leaving {
        fn drop(&mut self) {
            DOWNSTREAM_IN_FLIGHT.fetch_sub(1, Ordering::AcqRel);
            if !self.finished {
                DOWNSTREAM_ABANDONED.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
    let mut leaving = Leaving { finished: false };
    let answer = match DOWNSTREAM.get() {
        Some(addrs) => call_over_http(service, addrs[index], user).await,
        None => call_simulated(service, index, user).await,
    };
    leaving.finished = true;
    answer
}

async fn call_over_http(service: &'static str, addr: SocketAddr, user: u32) -> Result<String, DownstreamError> {
    use http_body_util::BodyExt;
    let unreachable = |reason: String| DownstreamError::Unreachable { service, reason };
    let uri: hyper::Uri = format!("http://{addr}/{service}/{user}")
        .parse()
        .map_err(|e: hyper::http::uri::InvalidUri| unreachable(e.to_string()))?;
    let response = CLIENT.get(uri).await.map_err(|e| unreachable(e.to_string()))?;
    let status = response.status().as_u16();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| unreachable(e.to_string()))?;
    if status != 200 {
        return Err(DownstreamError::Failed { service, status });
    }
    Ok(String::from_utf8_lossy(&body.to_bytes()).into_owned())
}

async fn call_simulated(service: &'static str, index: usize, user: u32) -> Result<String, DownstreamError> {
    let behaviour = SIMULATED.lock().unwrap_or_else(|p| p.into_inner())[index];
    tokio::time::sleep(behaviour.latency).await;
    let n = DOWNSTREAM_CALLS[index].load(Ordering::Relaxed);
    if behaviour.fail_every > 0 && n.is_multiple_of(behaviour.fail_every) {
        return Err(DownstreamError::Failed { service, status: 500 });
    }
    Ok(format!("{{\"{service}\":\"for user {user}\"}}"))
}

/// How many orders the orders database holds when the service starts: two years of a shop's orders.
pub const SEEDED_ORDERS: u32 = 400_000;

/// Orders per customer in a seeded database: its customers are `orders / ORDERS_PER_CUSTOMER` (5,000 in the
/// service), so a bigger table has more customers, not longer histories — as a shop's table grows.
pub const ORDERS_PER_CUSTOMER: u32 = 80;

/// A query slower than this is counted as slow (`db_slow_queries`), as a slow-query log would list it.
pub const SLOW_QUERY: Duration = Duration::from_millis(5);

static DB_QUERIES: AtomicU64 = AtomicU64::new(0);
static DB_FULLSCAN_STEPS: AtomicU64 = AtomicU64::new(0);
static DB_VM_STEPS: AtomicU64 = AtomicU64::new(0);
static DB_SLOW_QUERIES: AtomicU64 = AtomicU64::new(0);

/// One order as the history page lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRow {
    /// The order number.
    pub id: i64,
    /// The customer's number.
    pub customer_id: i64,
    /// When it was placed, seconds since the epoch.
    pub created_at: i64,
    /// `paid`, `shipped`, `delivered` or `returned`.
    pub status: String,
    /// Its total, in cents.
    pub total_cents: i64,
}

/// The orders database: one SQLite connection (in memory) behind a std mutex, used from blocking threads.
pub struct OrdersDb {
    connection: Mutex<rusqlite::Connection>,
}

impl OrdersDb {
    /// Creates the tables with `schema` (a drill's DDL, indexes included) and seeds `orders` orders, one a minute,
    /// [`ORDERS_PER_CUSTOMER`] to each customer. Deterministic: the same rows every time.
    pub fn open(schema: &str, orders: u32) -> Result<OrdersDb, String> {
        let mut connection = rusqlite::Connection::open_in_memory().map_err(|e| e.to_string())?;
        connection
            .execute_batch(schema)
            .map_err(|e| format!("the schema: {e}"))?;
        let seed = connection.transaction().map_err(|e| e.to_string())?;
        {
            let mut insert = seed
                .prepare(
                    "INSERT INTO orders (id, customer_id, created_at, status, total_cents) VALUES (?1, ?2, ?3, ?4, ?5)",
                )
                .map_err(|e| format!("the schema has no orders table as the service needs it: {e}"))?;
            const STATUSES: [&str; 4] = ["paid", "shipped", "delivered", "returned"];
            let customers = (orders / ORDERS_PER_CUSTOMER).max(1);
            for i in 0..orders {
                let (i, customer) = (i64::from(i), i64::from(i % customers));
                insert
                    .execute(rusqlite::params![
                        i + 1,
                        customer,
                        1_700_000_000 + i * 60,
                        STATUSES[(i % 4) as usize],
                        (i * 37) % 50_000
                    ])
                    .map_err(|e| e.to_string())?;
            }
        }
        seed.commit().map_err(|e| e.to_string())?;
        Ok(OrdersDb {
            connection: Mutex::new(connection),
        })
    }

    /// Runs `sql` (a query with one parameter, the customer) and reads its rows; counts the work it did.
    /// Blocking: call it from a blocking thread (`spawn_blocking`), never on the event loop.
    pub fn query(&self, sql: &str, customer: i64) -> Result<Vec<OrderRow>, String> {
        let connection = self.connection.lock().unwrap_or_else(|p| p.into_inner());
        let started = std::time::Instant::now();
        let mut statement = connection.prepare_cached(sql).map_err(|e| e.to_string())?;
        let rows = statement
            .query_map([customer], |row| {
                Ok(OrderRow {
                    id: row.get(0)?,
                    customer_id: row.get(1)?,
                    created_at: row.get(2)?,
                    status: row.get(3)?,
                    total_cents: row.get(4)?,
                })
            })
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(|e| e.to_string())?;
        DB_QUERIES.fetch_add(1, Ordering::Relaxed);
        let steps = |status| u64::try_from(statement.get_status(status)).unwrap_or(0);
        DB_FULLSCAN_STEPS.fetch_add(steps(rusqlite::StatementStatus::FullscanStep), Ordering::Relaxed);
        DB_VM_STEPS.fetch_add(steps(rusqlite::StatementStatus::VmStep), Ordering::Relaxed);
        statement.reset_status(rusqlite::StatementStatus::FullscanStep);
        statement.reset_status(rusqlite::StatementStatus::VmStep);
        if started.elapsed() > SLOW_QUERY {
            DB_SLOW_QUERIES.fetch_add(1, Ordering::Relaxed);
        }
        Ok(rows)
    }

    /// SQLite's plan for `sql`, one step a line (`SCAN orders`, `SEARCH orders USING INDEX …`).
    pub fn plan(&self, sql: &str) -> Result<String, String> {
        let connection = self.connection.lock().unwrap_or_else(|p| p.into_inner());
        let mut statement = connection
            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .map_err(|e| e.to_string())?;
        let steps = statement
            .query_map([0], |row| row.get::<_, String>(3))
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(|e| e.to_string())?;
        Ok(steps.join("\n"))
    }
}

/// How long the catalogue database takes to build one product page (its query and the rendering).
pub const PRODUCT_QUERY_TIME: Duration = Duration::from_millis(50);

/// The catalogue database's connections: queries beyond these wait for one.
pub const CATALOGUE_CONNECTIONS: usize = 4;

/// How long a query waits for a free connection before the pool gives up, unless its caller says otherwise: sqlx's
/// default `acquire_timeout` (deadpool and bb8 default to as long or longer). Far beyond any page's objective.
pub const POOL_DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(30);

/// No catalogue connection came free within the caller's `acquire_timeout`: the page was not built, and no query
/// was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CatalogueBusy {
    /// How long the build waited before it was refused.
    pub waited: Duration,
}

impl std::fmt::Display for CatalogueBusy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "no catalogue connection came free in {:?}", self.waited)
    }
}

impl std::error::Error for CatalogueBusy {}

static CATALOGUE: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(CATALOGUE_CONNECTIONS);
static CATALOGUE_QUERIES: AtomicU64 = AtomicU64::new(0);
static CATALOGUE_DUPLICATES: AtomicU64 = AtomicU64::new(0);
static CATALOGUE_WAITING: AtomicU64 = AtomicU64::new(0);
static CATALOGUE_WAITING_MAX: AtomicU64 = AtomicU64::new(0);
static CATALOGUE_SHED: AtomicU64 = AtomicU64::new(0);
/// The builds asked for and not yet finished, by product: a second one for the same product is a duplicate.
static CATALOGUE_BUILDING: LazyLock<Mutex<HashMap<u32, u32>>> = LazyLock::new(Default::default);

/// Marks a build of one product as under way for as long as it lives (a cancelled build is unmarked too).
struct Building(u32);

impl Building {
    fn start(id: u32) -> Building {
        let mut building = CATALOGUE_BUILDING.lock().unwrap_or_else(|p| p.into_inner());
        let count = building.entry(id).or_insert(0);
        if *count > 0 {
            CATALOGUE_DUPLICATES.fetch_add(1, Ordering::Relaxed);
        }
        *count += 1;
        Building(id)
    }
}

impl Drop for Building {
    fn drop(&mut self) {
        let mut building = CATALOGUE_BUILDING.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(count) = building.get_mut(&self.0) {
            *count -= 1;
            if *count == 0 {
                building.remove(&self.0);
            }
        }
    }
}

/// Counts a build as waiting for a connection for as long as it lives: a view whose client gave up stops waiting.
struct Waiting;

impl Waiting {
    fn start() -> Waiting {
        let waiting = CATALOGUE_WAITING.fetch_add(1, Ordering::AcqRel) + 1;
        CATALOGUE_WAITING_MAX.fetch_max(waiting, Ordering::AcqRel);
        Waiting
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        CATALOGUE_WAITING.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Builds product `id`'s page from the catalogue database: waits for one of [`CATALOGUE_CONNECTIONS`]
/// connections — in the order the builds asked, for at most `acquire_timeout` — then [`PRODUCT_QUERY_TIME`].
///
/// A query once sent runs to its end, as a database's does when its client hangs up: a view abandoned by its
/// client (a timeout, a closed tab) stops waiting for a connection, but not a query it already started.
pub async fn build_product_page(id: u32, acquire_timeout: Duration) -> Result<String, CatalogueBusy> {
    let _building = Building::start(id);
    let waiting = Waiting::start();
    let asked = tokio::time::Instant::now();
    let connection = tokio::time::timeout(acquire_timeout, CATALOGUE.acquire()).await;
    drop(waiting);
    let Ok(Ok(connection)) = connection else {
        CATALOGUE_SHED.fetch_add(1, Ordering::Relaxed);
        return Err(CatalogueBusy {
            waited: asked.elapsed(),
        });
    };
    CATALOGUE_QUERIES.fetch_add(1, Ordering::Relaxed);
    let query = tokio::spawn(async move {
        tokio::time::sleep(PRODUCT_QUERY_TIME).await;
        drop(connection);
    });
    let _ = query.await;
    Ok(format!("<h1>Product {id}</h1><p>In stock: {}</p>", 100 + id % 50))
}

/// A completed checkout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// The cart checked out.
    pub cart: u32,
    /// Which build served it: `stable` or `canary`.
    pub build: &'static str,
}

/// Why a checkout failed (the canary's bug).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckoutError {
    /// The cart.
    pub cart: u32,
    /// What went wrong.
    pub reason: String,
}

static STABLE_REQUESTS: AtomicU64 = AtomicU64::new(0);
static CANARY_REQUESTS: AtomicU64 = AtomicU64::new(0);
static CANARY_ERRORS: AtomicU64 = AtomicU64::new(0);
/// Carts in ten the canary's bug fails (those whose number ends in 0, 1, 2 for 3).
static CANARY_BUG: AtomicU64 = AtomicU64::new(3);

/// Makes the canary fail `in_ten` carts in ten (tests; reset to 3 by [`counters_lock`]).
pub fn set_canary_bug(in_ten: u64) {
    CANARY_BUG.store(in_ten, Ordering::Relaxed);
}

/// The checkout as it runs in production today.
pub async fn stable_checkout(cart: u32) -> Result<Receipt, CheckoutError> {
    STABLE_REQUESTS.fetch_add(1, Ordering::Relaxed);
    Ok(Receipt { cart, build: "stable" })
}

/// The new build of the checkout: faster tax rules, and a bug that fails some carts with a discount.
pub async fn canary_checkout(cart: u32) -> Result<Receipt, CheckoutError> {
    CANARY_REQUESTS.fetch_add(1, Ordering::Relaxed);
    if u64::from(cart % 10) < CANARY_BUG.load(Ordering::Relaxed) {
        CANARY_ERRORS.fetch_add(1, Ordering::Relaxed);
        return Err(CheckoutError {
            cart,
            reason: "tax rule v2: discount applied twice, total below zero".into(),
        });
    }
    Ok(Receipt { cart, build: "canary" })
}

/// What a chat room remembers: its last this many messages (the scrollback a member can load).
pub const ROOM_HISTORY: usize = 200;

/// What a member is sent when it joins: the room's last this many messages.
pub const JOIN_BACKLOG: usize = 10;

/// A frame on its way to a member's socket: a text message in the room's envelope. `Bytes` is reference counted —
/// cloning one copies a pointer, not the text.
pub type Frame = bytes::Bytes;

static CHAT_HISTORY_LOADS: AtomicU64 = AtomicU64::new(0);
static CHAT_ENVELOPES: AtomicU64 = AtomicU64::new(0);
static CHAT_POSTS: AtomicU64 = AtomicU64::new(0);

/// Loads room `room`'s last [`ROOM_HISTORY`] messages from the message store, oldest first, each already in its
/// envelope (counted: `chat_history_loads`).
pub fn load_room_history(room: u32) -> Vec<String> {
    CHAT_HISTORY_LOADS.fetch_add(1, Ordering::Relaxed);
    (0..ROOM_HISTORY)
        .map(|i| {
            let text = format!(
                "message {i} of the room's history: plans for the release, a link to the dashboard, someone asking \
                 who is on call this week and whether the latency alert from last night was real or a blip ({room})"
            );
            wrap(room, 0, &text)
        })
        .collect()
}

/// `text` posted by `from` in `room`, in the envelope every member's client reads:
/// `{"room":7,"from":123,"text":"…"}` (the text JSON-escaped). Counted: `chat_envelopes`.
pub fn envelope(room: u32, from: u64, text: &str) -> String {
    CHAT_ENVELOPES.fetch_add(1, Ordering::Relaxed);
    wrap(room, from, text)
}

/// The envelope, uncounted (the history the store loads was wrapped when it was first posted).
fn wrap(room: u32, from: u64, text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 48);
    out.push_str(&format!("{{\"room\":{room},\"from\":{from},\"text\":\""));
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push_str("\"}");
    out
}

/// Counts a message posted to a room (the lab's socket code calls it once per message received: `chat_posts`).
pub fn count_post() {
    CHAT_POSTS.fetch_add(1, Ordering::Relaxed);
}

/// The counters, by the names `/stats` gives them.
pub fn counters() -> [(&'static str, u64); 30] {
    [
        ("regex_compiled", REGEX_COMPILED.load(Ordering::Relaxed)),
        ("pricing_calls", PRICING_CALLS.load(Ordering::Relaxed)),
        ("pricing_in_flight_max", PRICING_IN_FLIGHT_MAX.load(Ordering::Relaxed)),
        ("exchange_rate_calls", EXCHANGE_RATE_CALLS.load(Ordering::Relaxed)),
        (
            "exchange_rate_calls_on_event_loop",
            EXCHANGE_RATE_ON_LOOP.load(Ordering::Relaxed),
        ),
        ("import_rows_checked", IMPORT_ROWS.load(Ordering::Relaxed)),
        (
            "import_rows_checked_on_event_loop",
            IMPORT_ROWS_ON_LOOP.load(Ordering::Relaxed),
        ),
        ("downstream_calls_profile", DOWNSTREAM_CALLS[0].load(Ordering::Relaxed)),
        ("downstream_calls_orders", DOWNSTREAM_CALLS[1].load(Ordering::Relaxed)),
        (
            "downstream_calls_recommendations",
            DOWNSTREAM_CALLS[2].load(Ordering::Relaxed),
        ),
        (
            "downstream_calls_inventory",
            DOWNSTREAM_CALLS[3].load(Ordering::Relaxed),
        ),
        ("downstream_calls_reviews", DOWNSTREAM_CALLS[4].load(Ordering::Relaxed)),
        (
            "downstream_in_flight_max",
            DOWNSTREAM_IN_FLIGHT_MAX.load(Ordering::Relaxed),
        ),
        ("downstream_abandoned", DOWNSTREAM_ABANDONED.load(Ordering::Relaxed)),
        (
            "downstream_calls",
            DOWNSTREAM_CALLS.iter().map(|c| c.load(Ordering::Relaxed)).sum(),
        ),
        ("db_queries", DB_QUERIES.load(Ordering::Relaxed)),
        ("db_fullscan_steps", DB_FULLSCAN_STEPS.load(Ordering::Relaxed)),
        ("db_vm_steps", DB_VM_STEPS.load(Ordering::Relaxed)),
        (
            "db_vm_steps_per_query",
            DB_VM_STEPS.load(Ordering::Relaxed) / DB_QUERIES.load(Ordering::Relaxed).max(1),
        ),
        ("db_slow_queries", DB_SLOW_QUERIES.load(Ordering::Relaxed)),
        ("catalogue_queries", CATALOGUE_QUERIES.load(Ordering::Relaxed)),
        (
            "catalogue_duplicate_builds",
            CATALOGUE_DUPLICATES.load(Ordering::Relaxed),
        ),
        ("catalogue_waiting_max", CATALOGUE_WAITING_MAX.load(Ordering::Relaxed)),
        ("catalogue_shed", CATALOGUE_SHED.load(Ordering::Relaxed)),
        ("stable_requests", STABLE_REQUESTS.load(Ordering::Relaxed)),
        ("canary_requests", CANARY_REQUESTS.load(Ordering::Relaxed)),
        ("canary_errors", CANARY_ERRORS.load(Ordering::Relaxed)),
        ("chat_history_loads", CHAT_HISTORY_LOADS.load(Ordering::Relaxed)),
        ("chat_envelopes", CHAT_ENVELOPES.load(Ordering::Relaxed)),
        ("chat_posts", CHAT_POSTS.load(Ordering::Relaxed)),
    ]
}

/// One counter by name (0 for an unknown name).
pub fn counter(name: &str) -> u64 {
    counters().into_iter().find(|(n, _)| *n == name).map_or(0, |(_, v)| v)
}

/// Serialises tests that read the process-wide counters, and zeroes them for the holder.
pub fn counters_lock() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    let guard = LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    for counter in [
        &REGEX_COMPILED,
        &PRICING_CALLS,
        &PRICING_IN_FLIGHT_MAX,
        &EXCHANGE_RATE_CALLS,
        &EXCHANGE_RATE_ON_LOOP,
        &IMPORT_ROWS,
        &IMPORT_ROWS_ON_LOOP,
        &DOWNSTREAM_IN_FLIGHT_MAX,
        &DOWNSTREAM_ABANDONED,
        &DB_QUERIES,
        &DB_FULLSCAN_STEPS,
        &DB_VM_STEPS,
        &DB_SLOW_QUERIES,
        &CATALOGUE_QUERIES,
        &CATALOGUE_DUPLICATES,
        &CATALOGUE_WAITING_MAX,
        &CATALOGUE_SHED,
        &STABLE_REQUESTS,
        &CANARY_REQUESTS,
        &CANARY_ERRORS,
        &CHAT_HISTORY_LOADS,
        &CHAT_ENVELOPES,
        &CHAT_POSTS,
    ]
    .into_iter()
    .chain(&DOWNSTREAM_CALLS)
    {
        counter.store(0, Ordering::Relaxed);
    }
    *SIMULATED.lock().unwrap_or_else(|p| p.into_inner()) = [HEALTHY; 5];
    CANARY_BUG.store(3, Ordering::Relaxed);
    guard
}
