//! The reference CSV record splitter: bytes in, in pieces of any size, whole records out.
//!
//! A state machine over bytes. It keeps only the record being read (its finished fields and the bytes of the
//! current one), so memory is bounded by the longest record, never by the upload. Bytes become text only when a
//! field ends: a character split across two pieces has both halves by then.

/// One CSV record: its fields, and the line it starts on (1-based; a quoted newline makes a record span lines).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The line of the record's first byte.
    pub line: u64,
    /// The fields, unquoted: `"a ""b"""` is `a "b"`.
    pub fields: Vec<String>,
}

/// Why the bytes are not CSV.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitError {
    /// The line the bad record starts on.
    pub line: u64,
    /// What is wrong, for a person.
    pub reason: String,
}

impl std::fmt::Display for SplitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

impl std::error::Error for SplitError {}

/// The longest record the splitter holds; a longer one is an error, so an unclosed quote cannot swallow an upload.
pub const MAX_RECORD_BYTES: usize = 1 << 20;

/// Where the splitter is inside a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// At the start of a field.
    FieldStart,
    /// In a field without quotes.
    Unquoted,
    /// In a quoted field.
    Quoted,
    /// In a quoted field, just after a `"`: either the closing quote or the first of a doubled one.
    QuoteInQuoted,
}

/// Splits CSV bytes into records, however the bytes are cut into pieces.
#[derive(Debug)]
pub struct RecordSplitter {
    state: State,
    /// The bytes of the field being read.
    field: Vec<u8>,
    /// The finished fields of the record being read.
    fields: Vec<String>,
    /// Bytes held for the record being read.
    record_bytes: usize,
    /// The line the splitter is on, and the line the current record started on.
    line: u64,
    record_line: u64,
    /// A `\r` seen outside quotes, not yet known to start a CRLF.
    pending_cr: bool,
}

impl Default for RecordSplitter {
    fn default() -> Self {
        Self::new()
    }
}

impl RecordSplitter {
    /// A splitter at the start of a file.
    pub fn new() -> RecordSplitter {
        RecordSplitter {
            state: State::FieldStart,
            field: Vec::new(),
            fields: Vec::new(),
            record_bytes: 0,
            line: 1,
            record_line: 1,
            pending_cr: false,
        }
    }

    // ANCHOR: push
    /// Reads the next piece of the file, appending every record it completes to `out`.
    pub fn push(&mut self, piece: &[u8], out: &mut Vec<Record>) -> Result<(), SplitError> {
        for &byte in piece {
            if self.pending_cr {
                self.pending_cr = false;
                if byte != b'\n' {
                    // A lone CR inside an unquoted field is kept as data.
                    self.field.push(b'\r');
                }
            }
            self.record_bytes += 1;
            if self.record_bytes > MAX_RECORD_BYTES {
                return Err(self.error(format!(
                    "a record longer than {MAX_RECORD_BYTES} bytes (an unclosed quote?)"
                )));
            }
            match (self.state, byte) {
                (State::Quoted, b'"') => self.state = State::QuoteInQuoted,
                (State::Quoted, _) => {
                    if byte == b'\n' {
                        self.line += 1;
                    }
                    self.field.push(byte);
                }
                (State::QuoteInQuoted, b'"') => {
                    self.field.push(b'"');
                    self.state = State::Quoted;
                }
                (State::FieldStart, b'"') => self.state = State::Quoted,
                (State::Unquoted, b'"') => {
                    return Err(self.error("a quote inside an unquoted field".into()));
                }
                (_, b',') => {
                    self.end_field()?;
                    self.state = State::FieldStart;
                }
                (_, b'\n') => {
                    self.end_record(out)?;
                    self.line += 1;
                    self.record_line = self.line;
                }
                // Outside quotes a CR may start a CRLF line end: decided by the next byte, which may be in the next
                // piece.
                (_, b'\r') => self.pending_cr = true,
                (State::QuoteInQuoted, _) => {
                    return Err(
                        self.error("text after a closing quote (a quote inside a quoted field is written \"\")".into())
                    );
                }
                (State::FieldStart | State::Unquoted, _) => {
                    self.field.push(byte);
                    self.state = State::Unquoted;
                }
            }
        }
        Ok(())
    }

    // ANCHOR_END: push

    /// The file has ended: appends its last record if it had no final newline; an open quote is an error.
    pub fn finish(&mut self, out: &mut Vec<Record>) -> Result<(), SplitError> {
        if self.state == State::Quoted {
            return Err(self.error("the file ends inside a quoted field".into()));
        }
        self.pending_cr = false;
        self.end_record(out)
    }

    fn end_field(&mut self) -> Result<(), SplitError> {
        let bytes = std::mem::take(&mut self.field);
        let text = String::from_utf8(bytes).map_err(|_| self.error("a field that is not valid UTF-8".into()))?;
        self.fields.push(text);
        Ok(())
    }

    fn end_record(&mut self, out: &mut Vec<Record>) -> Result<(), SplitError> {
        // A blank line is no record; `""` alone on a line is a record of one empty field.
        let blank = self.fields.is_empty() && self.field.is_empty() && self.state == State::FieldStart;
        if !blank {
            self.end_field()?;
            out.push(Record {
                line: self.record_line,
                fields: std::mem::take(&mut self.fields),
            });
        }
        self.state = State::FieldStart;
        self.record_bytes = 0;
        Ok(())
    }

    fn error(&self, reason: String) -> SplitError {
        SplitError {
            line: self.record_line,
            reason,
        }
    }
}
