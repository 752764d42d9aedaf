//! Reading a generated 100 MB regedit 5 export (UTF-16LE with BOM; `examples/gen`, the file
//! `cargo run --release --example gen -- reg 100 PATH` writes) into its working text: the
//! file read and decoded in pieces on a pool of two threads (what `check` does with a large
//! export), the same on one thread (read a chunk at a time and decoded as it comes), and the
//! decoding alone from bytes in memory.
//!
//! Run: `cargo bench --bench decode`

#[path = "../examples/gen/generate.rs"]
mod generate;

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use svcscrub::source;

/// File size to aim for, in bytes of UTF-16 (the text is half of it).
const TARGET_BYTES: usize = 100_000_000;

fn read(path: &std::path::Path, len: usize, limit: (u64, &'static str)) -> usize {
    let mut file = std::fs::File::open(path).expect("open");
    let source = source::read_file("bench.reg", &mut file, len, limit).expect("valid UTF-16");
    source.text().len()
}

fn bench(c: &mut Criterion) {
    let raw = generate::reg_export(TARGET_BYTES / 2, 1);
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("bench.reg");
    std::fs::write(&path, &raw).expect("write temp file");
    let limit = source::input_limit(&raw[..raw.len().min(32)]);
    let pool = |threads| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("pool")
    };
    let (two, one) = (pool(2), pool(1));

    let mut group = c.benchmark_group("decode_utf16_100mb");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(raw.len() as u64));
    group.bench_function("read_file_two_threads", |b| {
        b.iter(|| two.install(|| black_box(read(&path, raw.len(), limit))))
    });
    group.bench_function("read_file_one_thread", |b| {
        b.iter(|| one.install(|| black_box(read(&path, raw.len(), limit))))
    });
    group.bench_function("decode_utf16le_in_memory", |b| {
        b.iter(|| {
            let text = source::decode_utf16le(black_box(&raw[2..])).expect("valid UTF-16");
            black_box(text.len())
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
