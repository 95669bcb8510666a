//! The streams exercise's grader, written once and run against the learner's starter (`exercise_splitter.rs`)
//! and the reference (the lab's `tests/reference_passes_grader.rs`). `grade!(path::to::module)` expands to one
//! test per expectation.
//!
//! Every case is fed whole, byte by byte, and cut at random points (seeded, so a failure repeats): a splitter must
//! give the same records however its input was cut. These are the cases the seed guide's line-splitting
//! `Transform` gets wrong.

/// Cuts `bytes` into pieces at `cuts` random points chosen by `seed`.
pub fn random_pieces(bytes: &[u8], seed: u64, cuts: usize) -> Vec<&[u8]> {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::SmallRng::seed_from_u64(seed);
    let mut points: Vec<usize> = (0..cuts).map(|_| rng.random_range(0..=bytes.len())).collect();
    points.sort();
    let mut pieces = Vec::new();
    let mut start = 0;
    for p in points {
        pieces.push(&bytes[start..p]);
        start = p;
    }
    pieces.push(&bytes[start..]);
    pieces
}

#[macro_export]
macro_rules! grade {
    ($m:path) => {
        use $m as imp;

        use $crate::grader::random_pieces;

        /// Splits `pieces` in order, then finishes.
        fn split(pieces: &[&[u8]]) -> Result<Vec<imp::Record>, imp::SplitError> {
            let mut splitter = imp::RecordSplitter::new();
            let mut out = Vec::new();
            for piece in pieces {
                splitter.push(piece, &mut out)?;
            }
            splitter.finish(&mut out)?;
            Ok(out)
        }

        /// Every way this file is cut gives the same records: whole, byte by byte, at every single cut point (for
        /// short files), and at 200 sets of random cut points.
        fn split_every_way(text: &[u8]) -> Result<Vec<imp::Record>, imp::SplitError> {
            let whole = split(&[text]);
            let bytewise: Vec<&[u8]> = text.chunks(1).collect();
            assert_eq!(
                split(&bytewise),
                whole,
                "fed byte by byte, the result differs from fed whole"
            );
            if text.len() <= 400 {
                for at in 0..=text.len() {
                    let (a, b) = text.split_at(at);
                    assert_eq!(
                        split(&[a, b]),
                        whole,
                        "cut once at byte {at}, the result differs from fed whole"
                    );
                }
            }
            for seed in 0..200 {
                let pieces = random_pieces(text, seed, 1 + (seed as usize % 7));
                assert_eq!(
                    split(&pieces),
                    whole,
                    "cut at random points (seed {seed}), the result differs"
                );
            }
            whole
        }

        fn records(text: &str) -> Vec<(u64, Vec<String>)> {
            split_every_way(text.as_bytes())
                .unwrap_or_else(|e| panic!("{text:?} is valid CSV, but: {e:?}"))
                .into_iter()
                .map(|r| (r.line, r.fields))
                .collect()
        }

        fn rec(line: u64, fields: &[&str]) -> (u64, Vec<String>) {
            (line, fields.iter().map(|f| f.to_string()).collect())
        }

        #[test]
        fn a_line_cut_across_two_pieces_is_one_record() {
            assert_eq!(
                records("id,name\n1,alice\n2,bob\n"),
                vec![
                    rec(1, &["id", "name"]),
                    rec(2, &["1", "alice"]),
                    rec(3, &["2", "bob"])
                ]
            );
        }

        #[test]
        fn a_quoted_field_keeps_its_commas_newlines_and_doubled_quotes() {
            assert_eq!(
                records("id,note\n1,\"rush, gift\"\n2,\"line one\nline two\"\n3,\"she said \"\"hi\"\"\"\n4,after\n"),
                vec![
                    rec(1, &["id", "note"]),
                    rec(2, &["1", "rush, gift"]),
                    rec(3, &["2", "line one\nline two"]),
                    rec(5, &["3", "she said \"hi\""]),
                    rec(6, &["4", "after"]),
                ],
                "the record after a quoted newline starts a line later"
            );
        }

        #[test]
        fn a_character_cut_across_pieces_survives() {
            // ë is two bytes, 東 three, 🦀 four: every cut point falls inside one of them somewhere.
            assert_eq!(records("Zoë,東京,🦀\n"), vec![rec(1, &["Zoë", "東京", "🦀"])]);
        }

        #[test]
        fn the_last_record_needs_no_final_newline() {
            assert_eq!(
                records("a,b\n1,2"),
                vec![rec(1, &["a", "b"]), rec(2, &["1", "2"])]
            );
            assert_eq!(records("only"), vec![rec(1, &["only"])]);
            assert_eq!(records(""), vec![], "an empty file has no record");
        }

        #[test]
        fn crlf_ends_a_line_like_lf_and_blank_lines_are_no_records() {
            assert_eq!(
                records("a,b\r\n1,\"x\"\r\n\r\n2,3\r\n"),
                vec![rec(1, &["a", "b"]), rec(2, &["1", "x"]), rec(4, &["2", "3"])]
            );
            assert_eq!(
                records("a,,\n"),
                vec![rec(1, &["a", "", ""])],
                "empty fields are fields"
            );
            assert_eq!(
                records("\"\"\n"),
                vec![rec(1, &[""])],
                "a quoted empty field is a record"
            );
        }

        fn error(text: &[u8]) -> imp::SplitError {
            match split_every_way(text) {
                Ok(records) => panic!(
                    "{:?} is not valid CSV, yet it split into {records:?}",
                    String::from_utf8_lossy(text)
                ),
                Err(e) => e,
            }
        }

        #[test]
        fn broken_csv_is_an_error_naming_the_line() {
            let e = error(b"a,b\n1,2\nx\"y,3\n");
            assert_eq!(e.line, 3, "a quote inside an unquoted field: {e:?}");
            let e = error(b"a,b\n\"q\"x,3\n");
            assert_eq!(e.line, 2, "text after a closing quote: {e:?}");
            let e = error(b"a,b\n1,2\n3,\"never closed\n4,5\n");
            assert_eq!(
                e.line, 3,
                "the file ends inside quotes; the record started on line 3: {e:?}"
            );
            let e = error(b"a,b\n1,\xff\xfe\n");
            assert_eq!(e.line, 2, "a field that is not UTF-8: {e:?}");
            assert!(!e.reason.is_empty(), "the reason says what is wrong");
        }

        #[test]
        fn memory_is_bounded_by_the_longest_record() {
            // An unclosed quote must not make the splitter keep the rest of a large upload.
            let mut splitter = imp::RecordSplitter::new();
            let mut out = Vec::new();
            splitter.push(b"a,b\n1,\"", &mut out).unwrap();
            let piece = vec![b'x'; 64 * 1024];
            let mut failed = None;
            for i in 0..(2 * imp::MAX_RECORD_BYTES / piece.len() + 2) {
                if let Err(e) = splitter.push(&piece, &mut out) {
                    failed = Some((i, e));
                    break;
                }
            }
            let (i, e) = failed.expect("a record past MAX_RECORD_BYTES is an error");
            assert!(
                i * piece.len() <= imp::MAX_RECORD_BYTES + piece.len(),
                "failed only after {} bytes",
                i * piece.len()
            );
            assert_eq!(e.line, 2);
            // And records that end free what they held: a million short records through one splitter.
            let mut splitter = imp::RecordSplitter::new();
            let line = b"12345,alice,alice@example.com,1999,2026-12-03,\"a, b\"\n";
            let mut total = 0;
            for _ in 0..20_000 {
                let mut out = Vec::new();
                splitter.push(&line.repeat(50), &mut out).unwrap();
                total += out.len();
            }
            assert_eq!(total, 1_000_000);
        }
    };
}
