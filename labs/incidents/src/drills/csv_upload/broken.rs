//! Bulk order import: the sales team uploads a day's orders as one CSV file; every row is checked, and the first bad
//! one refuses the whole file, so a half-imported day never happens.
//!
//! Drill `csv-upload` — `cargo xtask incident start csv-upload` shows how this behaves under load.

use super::support::{check_order, Imported, RowError};

/// Checks every row of `csv` (a header line, then one order per line) and sums the orders; the first bad row
/// refuses the file.
pub async fn import(csv: String) -> Result<Imported, RowError> {
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
