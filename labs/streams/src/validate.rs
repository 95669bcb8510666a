//! What makes a CSV record an order, and the reason when it is not — the reason goes back to the client in the
//! 422, with the line, so a person can fix the file.

use crate::rows::HEADER;

/// An order read from an upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    pub id: i64,
    pub customer: String,
    pub email: String,
    pub amount_cents: i64,
    pub created_at: String,
    pub note: String,
}

/// The first record must be the header, exactly.
pub fn header(fields: &[String]) -> Result<(), String> {
    if fields.join(",") == HEADER {
        Ok(())
    } else {
        Err(format!("the first line must be the header `{HEADER}`"))
    }
}

/// An order from a record's fields, or why not.
pub fn order(fields: Vec<String>) -> Result<Order, String> {
    let Ok::<[String; 6], _>([id, customer, email, amount, created_at, note]) = fields.try_into() else {
        return Err(format!("expected 6 fields ({HEADER})"));
    };
    let whole = |name: &str, text: &str| -> Result<i64, String> {
        text.parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .ok_or_else(|| format!("{name}: {text:?} is not a whole number ≥ 0"))
    };
    let id = whole("id", &id)?;
    let amount_cents = whole("amount_cents", &amount)?;
    if customer.trim().is_empty() {
        return Err("customer: empty".into());
    }
    if !email.contains('@') {
        return Err(format!("email: {email:?} has no @"));
    }
    if !is_date(&created_at) {
        return Err(format!("created_at: {created_at:?} is not a date (YYYY-MM-DD)"));
    }
    Ok(Order {
        id,
        customer,
        email,
        amount_cents,
        created_at,
        note,
    })
}

/// `YYYY-MM-DD`, month 01–12, day 01–31.
fn is_date(text: &str) -> bool {
    let b = text.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' || !digits(0..4) || !digits(5..7) || !digits(8..10) {
        return false;
    }
    let (month, day): (u8, u8) = (text[5..7].parse().unwrap_or(0), text[8..10].parse().unwrap_or(0));
    (1..=12).contains(&month) && (1..=31).contains(&day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(line: &str) -> Vec<String> {
        line.split(',').map(String::from).collect()
    }

    #[test]
    fn a_good_record_is_an_order_and_each_bad_field_says_why() {
        let o = order(fields("7,alice,a@example.com,1999,2026-12-03,")).unwrap();
        assert_eq!((o.id, o.amount_cents, o.note.as_str()), (7, 1999, ""));
        let reason = |line: &str| order(fields(line)).unwrap_err();
        assert!(reason("x,alice,a@e,1,2026-12-03,").starts_with("id:"));
        assert!(reason("1,alice,a@e,-5,2026-12-03,").starts_with("amount_cents:"));
        assert!(reason("1,,a@e,1,2026-12-03,").starts_with("customer:"));
        assert!(reason("1,alice,nope,1,2026-12-03,").starts_with("email:"));
        assert!(reason("1,alice,a@e,1,2026-13-03,").starts_with("created_at:"));
        assert!(reason("1,alice").starts_with("expected 6 fields"));
        assert!(header(&fields(HEADER)).is_ok());
        assert!(header(&fields("id,name")).is_err());
    }
}
