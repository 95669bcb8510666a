//! The generator's response path without the network: parse a head with `httparse` and skip the body by its
//! framing, for a hello-world answer, a 4 KiB fixed-length page and a chunked one. This is the per-response work the
//! closed model repeats ~220,000 times a second on one thread (`cargo bench -p lab-load-generator`).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use lab_load_generator::connection::{parse_head, Body};

fn respond(c: &mut Criterion, name: &str, response: &[u8]) {
    let mut group = c.benchmark_group("response");
    group.throughput(Throughput::Bytes(response.len() as u64));
    group.bench_function(name, |b| {
        b.iter(|| {
            let head = parse_head(std::hint::black_box(response), false).unwrap().unwrap();
            let mut body = Body::new(head.framing);
            body.feed(&response[head.len..]).unwrap();
            assert!(body.is_done());
            head.status
        })
    });
    group.finish();
}

fn responses(c: &mut Criterion) {
    let hello = b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 13\r\ndate: Wed, 02 Dec 2026 17:00:00 GMT\r\n\r\nhello, world\n";
    respond(c, "hello (13 B, content-length)", hello);

    let mut page = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 4096\r\n\r\n".to_vec();
    page.extend(std::iter::repeat_n(b'x', 4096));
    respond(c, "page (4 KiB, content-length)", &page);

    let mut chunked = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n".to_vec();
    for _ in 0..4 {
        chunked.extend_from_slice(b"400\r\n");
        chunked.extend(std::iter::repeat_n(b'x', 1024));
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    respond(c, "page (4 KiB, chunked)", &chunked);
}

criterion_group!(benches, responses);
criterion_main!(benches);
