//! Bulk order import, fixed: the rows are checked on tokio's blocking pool, and the event loop awaits the result
//! instead of spending the whole file's CPU time between two requests.
//!
//! An `async fn` runs on the event loop until its next `.await`, and a loop over forty thousand rows has none: for
//! its whole length (tens of milliseconds for a few megabytes) the loop serves nothing else. Node.js has the same
//! trap — `JSON.parse` or a CSV parser on a large body blocks every other request — and the same fix: move the
//! work to a thread made for it (`worker_threads` there, `spawn_blocking` or a rayon pool here). The CPU spent is
//! the same; what changes is who waits: the upload, not everyone.
//!
//! Streaming the body as it arrives (the streams lab) would also bound the memory an upload takes; it does not by
//! itself keep the loop free, since each chunk's rows are still checked somewhere — on the loop unless moved off it.

use super::support::{check_order, Imported, RowError};

// ANCHOR: fix
/// Checks every row of `csv` (a header line, then one order per line) and sums the orders; the first bad row
/// refuses the file.
pub async fn import(csv: String) -> Result<Imported, RowError> {
    tokio::task::spawn_blocking(move || check_rows(&csv))
        .await
        .unwrap_or_else(|stopped| {
            Err(RowError {
                line: 0,
                reason: format!("the import stopped: {stopped}"),
            })
        })
}
// ANCHOR_END: fix

fn check_rows(csv: &str) -> Result<Imported, RowError> {
    let mut imported = Imported::default();
    for (index, row) in csv.lines().enumerate().skip(1) {
        let order = check_order(row).map_err(|reason| RowError {
            line: index + 1,
            reason,
        })?;
        imported.add(&order);
    }
    Ok(imported)
}
