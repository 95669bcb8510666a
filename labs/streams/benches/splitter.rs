//! The lab's hand-built CSV splitter against csv-core, the state machine under the `csv` crate that production
//! Rust uses: 16 MiB of the lab's upload rows, fed in 64 KiB pieces as a request body arrives.
//!
//! The splitter makes a `String` per field (the import wants owned values to validate and insert); csv-core writes
//! fields into one reused buffer and allocates nothing. `cargo bench -p lab-streams --bench splitter`; the figures
//! are in the lab's README.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use csv_core::{ReadRecordResult, Reader};
use lab_streams::splitter::RecordSplitter;

const ROW: &[u8] = b"3,chlo\xc3\xa93,chloe3@example.com,2500,2026-12-03,\"rush, gift-wrap\"\n";

fn upload() -> Vec<u8> {
    ROW.repeat((16 << 20) / ROW.len())
}

/// Records in `data` by the lab's splitter.
fn split(data: &[u8]) -> usize {
    let mut splitter = RecordSplitter::new();
    let mut out = Vec::new();
    let mut records = 0;
    for piece in data.chunks(64 << 10) {
        splitter.push(piece, &mut out).unwrap();
        records += out.len();
        out.clear();
    }
    splitter.finish(&mut out).unwrap();
    records + out.len()
}

/// Records in `data` by csv-core, fields into one reused buffer.
fn csv_core(data: &[u8]) -> usize {
    let mut reader = Reader::new();
    let (mut fields, mut ends) = (vec![0u8; 64 << 10], [0usize; 16]);
    let mut records = 0;
    let mut pieces = data.chunks(64 << 10);
    let mut input: &[u8] = &[];
    let (mut out, mut end) = (0, 0);
    loop {
        // csv-core reads an empty input as the end of the data: hand it the next piece first, if there is one.
        if input.is_empty() {
            input = pieces.next().unwrap_or(&[]);
        }
        let (result, nin, nout, nend) = reader.read_record(input, &mut fields[out..], &mut ends[end..]);
        input = &input[nin..];
        out += nout;
        end += nend;
        match result {
            ReadRecordResult::InputEmpty => {}
            ReadRecordResult::Record => {
                records += 1;
                (out, end) = (0, 0);
            }
            ReadRecordResult::End => return records,
            ReadRecordResult::OutputFull | ReadRecordResult::OutputEndsFull => {
                panic!("a record longer than the buffers")
            }
        }
    }
}

fn splitters(c: &mut Criterion) {
    let data = upload();
    let rows = data.len() / ROW.len();
    assert_eq!(split(&data), rows, "lab splitter");
    assert_eq!(csv_core(&data), rows, "csv-core");
    let mut group = c.benchmark_group("split 16 MiB of CSV in 64 KiB pieces");
    group.throughput(Throughput::Bytes(data.len() as u64));
    group.sample_size(10);
    group.bench_function("lab splitter (a String per field)", |b| {
        b.iter_batched(|| (), |()| split(&data), BatchSize::SmallInput)
    });
    group.bench_function("csv-core (one reused buffer)", |b| {
        b.iter_batched(|| (), |()| csv_core(&data), BatchSize::SmallInput)
    });
    group.finish();
}

criterion_group!(benches, splitters);
criterion_main!(benches);
