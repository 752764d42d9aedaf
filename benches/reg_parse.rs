//! Parsing a generated 100 MB regedit 5 export (UTF-16LE with BOM, CRLF; `examples/gen`, the
//! file `cargo run --release --example gen -- reg 100 PATH` writes): svcscrub's whole path
//! from raw bytes (UTF-16 decoding, then the lossless parse) against regashii reading the
//! same bytes from a file, in the same run.
//!
//! Run: `cargo bench --bench reg_parse`

#[path = "../examples/gen/generate.rs"]
mod generate;

use std::hint::black_box;
use std::time::Instant;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use svcscrub::detect::RegVersion;
use svcscrub::source::SourceFile;
use svcscrub::syntax::reg;

/// File size to aim for, in bytes of UTF-16 (the text is half of it).
const TARGET_BYTES: usize = 100_000_000;

/// svcscrub's whole path from raw bytes to a tree: decode + parse.
fn svcscrub_parse(raw: Vec<u8>) -> usize {
    let source = SourceFile::new("bench.reg", raw).expect("valid UTF-16");
    let file = reg::parse(source.text(), RegVersion::Regedit5).expect("header");
    file.records.len()
}

fn mb_per_s(bytes: usize, seconds: f64) -> f64 {
    bytes as f64 / 1e6 / seconds
}

fn bench(c: &mut Criterion) {
    let raw = generate::reg_export(TARGET_BYTES / 2, 1);
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("bench.reg");
    std::fs::write(&path, &raw).expect("write temp file");

    // One timed run of each first, so the ratio is printed even when criterion's own report
    // is filtered; criterion's throughput lines below are the measured figures.
    let t = Instant::now();
    let records = svcscrub_parse(raw.clone());
    let ours = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let keys = regashii::Registry::deserialize_file(&path)
        .expect("regashii parses the export")
        .keys()
        .len();
    let theirs = t.elapsed().as_secs_f64();
    eprintln!(
        "input: {:.1} MB UTF-16, {records} records, {keys} keys; single run: svcscrub {:.0} MB/s, regashii {:.0} MB/s, {:.1}x",
        raw.len() as f64 / 1e6,
        mb_per_s(raw.len(), ours),
        mb_per_s(raw.len(), theirs),
        theirs / ours
    );

    let mut group = c.benchmark_group("reg_parse_100mb");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(raw.len() as u64));
    group.bench_function("svcscrub_decode_and_parse", |b| {
        b.iter_batched(
            || raw.clone(),
            |r| black_box(svcscrub_parse(r)),
            BatchSize::PerIteration,
        )
    });
    // The parse alone, from the decoded working text.
    let source = SourceFile::new("bench.reg", raw.clone()).expect("valid UTF-16");
    group.bench_function("svcscrub_parse_working_text", |b| {
        b.iter(|| {
            let file = reg::parse(black_box(source.text()), RegVersion::Regedit5).expect("header");
            black_box(file.records.len())
        })
    });
    group.bench_function("regashii_deserialize_file", |b| {
        b.iter(|| {
            let registry = regashii::Registry::deserialize_file(black_box(&path)).expect("parses");
            black_box(registry.keys().len())
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
