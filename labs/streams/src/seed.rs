//! The orders database: a million rows, seeded once and cached on disk.
//!
//! Seeding a million rows takes a second or two; every variant of every run would pay it again. So the database
//! is built once per row count into `target/lab-data/` (beside the binaries, never in the source tree) and
//! reused: built in a temporary file in the same folder, then renamed into place, so two servers starting at
//! once never see half a database. The rows are a function of their id: every machine seeds the same bytes.

use std::path::{Path, PathBuf};

use anyhow::Context;
use rusqlite::{params, Connection, OpenFlags};

/// Bump when the rows or the schema change, so an old cache is not reused.
const VERSION: u32 = 2;

/// Where the cached database for `rows` rows lives: `$CARGO_TARGET_DIR/lab-data`, else the `lab-data` folder
/// beside the folder of this binary (`target/release/lab-streams` → `target/lab-data`).
pub fn default_path(rows: u64) -> anyhow::Result<PathBuf> {
    let dir = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => PathBuf::from(dir).join("lab-data"),
        None => {
            let exe = std::env::current_exe().context("finding this binary")?;
            let profile_dir = exe.parent().context("the binary's folder")?;
            profile_dir.parent().unwrap_or(profile_dir).join("lab-data")
        }
    };
    Ok(dir.join(format!("streams-orders-{rows}-v{VERSION}.sqlite")))
}

/// The database at `path` with `rows` orders: opened if it is already complete, else seeded first.
pub fn open_or_seed(path: &Path, rows: u64) -> anyhow::Result<()> {
    if count(path).ok() == Some(rows) {
        return Ok(());
    }
    let dir = path.parent().context("the database's folder")?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let temp = tempfile::Builder::new()
        .prefix(".seeding-")
        .suffix(".sqlite")
        .tempfile_in(dir)
        .with_context(|| format!("creating a temporary database in {}", dir.display()))?;
    seed(temp.path(), rows).with_context(|| format!("seeding {rows} orders"))?;
    temp.persist(path)
        .with_context(|| format!("moving the seeded database to {}", path.display()))?;
    Ok(())
}

/// Rows in the `orders` table of the database at `path`.
fn count(path: &Path) -> rusqlite::Result<u64> {
    let db = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    db.query_row("SELECT count(*) FROM orders", [], |r| {
        r.get::<_, i64>(0).map(|n| n as u64)
    })
}

fn seed(path: &Path, rows: u64) -> rusqlite::Result<()> {
    let mut db = Connection::open(path)?;
    // A scratch file until it is renamed into place: no journal, no fsync.
    db.execute_batch(
        "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;
         CREATE TABLE orders (
             id INTEGER PRIMARY KEY,
             customer TEXT NOT NULL,
             email TEXT NOT NULL,
             amount_cents INTEGER NOT NULL,
             created_at TEXT NOT NULL,
             note TEXT NOT NULL
         );",
    )?;
    let tx = db.transaction()?;
    {
        let mut insert = tx.prepare("INSERT INTO orders VALUES (?1, ?2, ?3, ?4, ?5, ?6)")?;
        let mut customer = String::new();
        for id in 1..=rows {
            let o = order(id, &mut customer);
            insert.execute(params![
                id as i64,
                customer,
                o.email,
                o.amount_cents as i64,
                o.created_at,
                o.note
            ])?;
        }
    }
    tx.commit()
}

/// The parts of order `id` that are not its customer's name (written into `customer`).
struct Generated {
    email: String,
    amount_cents: u64,
    created_at: String,
    note: &'static str,
}

const PRICES: [u64; 12] = [499, 999, 1299, 1999, 2499, 2999, 3999, 4999, 7999, 9999, 14999, 24999];

const NAMES: [&str; 8] = ["alice", "bob", "chloé", "dmitri", "eun-ji", "farid", "grace", "hiro"];

/// Order `id`, deterministic. Every tenth has a note with a comma, every fiftieth quotes and an `é`, every
/// hundredth a newline: the cases a CSV writer must quote and a CSV reader must not split.
fn order(id: u64, customer: &mut String) -> Generated {
    use std::fmt::Write;
    customer.clear();
    let _ = write!(customer, "{}{}", NAMES[(id % 8) as usize], id % 1000);
    Generated {
        email: format!("{customer}@example.com"),
        // Prices from a small catalogue, one to three of an item: as a shop's orders repeat themselves.
        amount_cents: PRICES[((id * 7) % PRICES.len() as u64) as usize] * (1 + id % 3),
        created_at: format!("2026-{:02}-{:02}", 1 + (id / 28) % 12, 1 + id % 28),
        note: match id {
            _ if id.is_multiple_of(100) => "two lines:\nring twice",
            _ if id.is_multiple_of(50) => "Zoé said \"leave it at the door\"",
            _ if id.is_multiple_of(10) => "rush, gift-wrap",
            _ => "",
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seeded_database_has_every_row_and_is_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("orders.sqlite");
        open_or_seed(&path, 1000).unwrap();
        assert_eq!(count(&path).unwrap(), 1000);
        let modified = std::fs::metadata(&path).unwrap().modified().unwrap();
        open_or_seed(&path, 1000).unwrap();
        assert_eq!(
            std::fs::metadata(&path).unwrap().modified().unwrap(),
            modified,
            "not seeded twice"
        );
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .filter(|n| n != "orders.sqlite")
            .collect();
        assert!(leftovers.is_empty(), "no temporary file left behind: {leftovers:?}");
    }
}
