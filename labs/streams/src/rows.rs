//! An order as a CSV line or a JSON line, written straight from SQLite's row into the chunk being built: the
//! text columns are borrowed from SQLite's buffer (`get_ref`), so exporting a row allocates nothing of its own.

use rusqlite::types::ValueRef;
use rusqlite::Row;

/// The CSV header, and the columns `SELECT_ORDERS` returns in this order.
pub const HEADER: &str = "id,customer,email,amount_cents,created_at,note";

/// The export's query: every order by id, at most `?1` of them.
pub const SELECT_ORDERS: &str =
    "SELECT id, customer, email, amount_cents, created_at, note FROM orders ORDER BY id LIMIT ?1";

/// Columns in a row.
const COLUMNS: usize = 6;

/// The two formats an export can take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// RFC 4180 CSV with a header line.
    Csv,
    /// One JSON object per line (NDJSON).
    Ndjson,
}

impl Format {
    /// The response's content type.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Ndjson => "application/x-ndjson",
        }
    }

    /// What comes before the first row.
    pub fn preamble(self) -> &'static str {
        match self {
            Format::Csv => "id,customer,email,amount_cents,created_at,note\n",
            Format::Ndjson => "",
        }
    }

    /// Appends `row` as one line.
    pub fn write(self, row: &Row, out: &mut Vec<u8>) -> rusqlite::Result<()> {
        match self {
            Format::Csv => write_csv(row, out),
            Format::Ndjson => write_ndjson(row, out),
        }
    }
}

/// Appends a row as a CSV line, quoting the fields that need it (a comma, a quote, a line break).
pub fn write_csv(row: &Row, out: &mut Vec<u8>) -> rusqlite::Result<()> {
    for i in 0..COLUMNS {
        if i > 0 {
            out.push(b',');
        }
        match row.get_ref(i)? {
            ValueRef::Integer(n) => write_integer(n, out),
            ValueRef::Text(text) => csv_field(text, out),
            ValueRef::Null => {}
            other => return Err(rusqlite::Error::InvalidColumnType(i, "order".into(), other.data_type())),
        }
    }
    out.push(b'\n');
    Ok(())
}

/// Appends an integer's digits, formatted straight into the chunk (a `to_string()` would allocate twice a row).
fn write_integer(n: i64, out: &mut Vec<u8>) {
    use std::io::Write;
    let _ = write!(out, "{n}");
}

/// Appends one CSV field: as it is, or in quotes with its quotes doubled.
pub fn csv_field(text: &[u8], out: &mut Vec<u8>) {
    if !text.iter().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r')) {
        out.extend_from_slice(text);
        return;
    }
    out.push(b'"');
    for &b in text {
        if b == b'"' {
            out.push(b'"');
        }
        out.push(b);
    }
    out.push(b'"');
}

/// Appends a row as one JSON object and a newline.
pub fn write_ndjson(row: &Row, out: &mut Vec<u8>) -> rusqlite::Result<()> {
    const NAMES: [&str; COLUMNS] = ["id", "customer", "email", "amount_cents", "created_at", "note"];
    out.push(b'{');
    for (i, name) in NAMES.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.push(b'"');
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b"\":");
        match row.get_ref(i)? {
            ValueRef::Integer(n) => write_integer(n, out),
            ValueRef::Text(text) => {
                let text = std::str::from_utf8(text).map_err(|e| rusqlite::Error::Utf8Error(i, e))?;
                // serde_json escapes exactly what JSON needs (quotes, backslashes, control characters).
                serde_json::to_writer(&mut *out, text).expect("writing to a Vec cannot fail");
            }
            ValueRef::Null => out.extend_from_slice(b"null"),
            other => return Err(rusqlite::Error::InvalidColumnType(i, "order".into(), other.data_type())),
        }
    }
    out.extend_from_slice(b"}\n");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_fields_that_need_quotes_get_them() {
        let field = |s: &str| {
            let mut out = Vec::new();
            csv_field(s.as_bytes(), &mut out);
            String::from_utf8(out).unwrap()
        };
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("rush, gift-wrap"), "\"rush, gift-wrap\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("two\nlines"), "\"two\nlines\"");
    }

    #[test]
    fn the_header_names_the_columns_in_query_order() {
        assert_eq!(Format::Csv.preamble().trim_end(), HEADER);
        assert!(SELECT_ORDERS.contains("id, customer, email, amount_cents, created_at, note"));
    }
}
