//! WiseScript parse throughput on a generated 60 MB SMS Installer capture (`examples/gen`,
//! the same file `cargo run --release --example gen -- script 60 PATH` writes): the lossless
//! parse alone, and parse + lowering to the registry model.
//!
//! Run: `cargo bench --bench wise_parse`

#[path = "../examples/gen/generate.rs"]
mod generate;

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use svcscrub::detect::ScriptKind;
use svcscrub::model::wise::lower;
use svcscrub::syntax::wise;

const TARGET: usize = 60_000_000;

fn bench(c: &mut Criterion) {
    let text = generate::script(TARGET, 1);
    let mut group = c.benchmark_group("wise_parse_60mb");
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.sample_size(10);
    group.bench_function("parse", |b| {
        b.iter(|| wise::parse(black_box(&text), ScriptKind::Ipf).map(|d| d.items().len()))
    });
    group.bench_function("parse+lower", |b| {
        b.iter(|| {
            let doc = wise::parse(black_box(&text), ScriptKind::Ipf).ok()?;
            Some(
                lower(&doc, &text, svcscrub::model::Charset::Ansi)
                    .writes()
                    .count(),
            )
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
