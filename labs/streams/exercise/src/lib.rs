//! Exercise: split CSV into records as its bytes arrive, in pieces cut anywhere.
//!
//! An upload reaches the server as a stream of chunks, and a chunk ends wherever the network cut it: in the middle
//! of a line, of a quoted field, of a two-byte `ë`. The seed guide's Node.js `Transform` split each chunk on `\n`
//! and so dropped or broke every line that straddled two chunks — a bug no test with one small file ever shows.
//!
//! Implement [`RecordSplitter`] so that, fed the bytes of a file in pieces of *any* sizes:
//!
//! 1. `push(piece, out)` appends to `out` every record the piece completes, and keeps the unfinished rest for the
//!    next piece; `finish(out)` appends the last record when the file has no final newline;
//! 2. fields are split on `,` and records on `\n` or `\r\n`; a blank line is no record;
//! 3. a field in double quotes may hold `,`, `\n` and `""` (a literal `"`): `"a, ""b""` + newline + `c"` is the one
//!    field `a, "b"` + newline + `c`;
//! 4. each [`Record`] carries the line it starts on (1-based, counting the newlines inside quoted fields);
//! 5. bytes become `String`s only when a field is whole, so a multi-byte character split across pieces survives;
//!    a field that is not UTF-8 is a [`SplitError`] naming the line;
//! 6. a quote inside an unquoted field, text after a closing quote, a file ending inside quotes, and a record
//!    longer than [`MAX_RECORD_BYTES`] are [`SplitError`]s naming the line;
//! 7. memory stays bounded by the longest record: never keep the file, only the record being read.
//!
//! The lab imports your splitter with `--variant exercise`; `cargo xtask check streams` runs the grader and then
//! measures peak heap and throughput of an import against the reference, in the same run. The tests alone:
//! `cargo test -p exercise-streams --test exercise_splitter`.

/// One CSV record: its fields, and the line it starts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The line of the record's first byte (1-based).
    pub line: u64,
    /// The fields, unquoted.
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

/// Splits CSV bytes into records, however the bytes are cut into pieces.
#[derive(Debug, Default)]
pub struct RecordSplitter {
    // TODO: where you are in the record, the bytes of the current field, the fields so far, the line.
}

impl RecordSplitter {
    /// A splitter at the start of a file.
    pub fn new() -> RecordSplitter {
        RecordSplitter {}
    }

    /// Reads the next piece of the file, appending every record it completes to `out`.
    pub fn push(&mut self, piece: &[u8], out: &mut Vec<Record>) -> Result<(), SplitError> {
        // TODO: walk the bytes; end fields on `,` and records on newlines outside quotes.
        let _ = (piece, out);
        todo!("split the piece into records, keeping what is unfinished for the next piece")
    }

    /// The file has ended: appends its last record if it had no final newline; an open quote is an error.
    pub fn finish(&mut self, out: &mut Vec<Record>) -> Result<(), SplitError> {
        // TODO: the record left without a final newline, unless the file ended inside quotes.
        let _ = out;
        todo!("emit the last record, or fail when the file ended inside quotes")
    }
}
