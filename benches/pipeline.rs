//! `check` and `fix --diff` in memory, as the CLI runs them on one file minus the file I/O:
//! load (decode, detect, parse), lower, rules, fix planning, and the output (the `full`
//! report for `check`; the fix passes and the unified diff for `fix`), written to a sink.
//! Inputs come from `examples/gen` at two sizes 4x apart, so the MB/s of the two sizes show
//! whether the cost stays linear.
//!
//! Run: `cargo bench --bench pipeline`

#[path = "../examples/gen/generate.rs"]
mod generate;

use std::hint::black_box;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use svcscrub::pipeline::{self, Options};
use svcscrub::render::{diff, full};

fn options() -> Options<'static> {
    Options {
        declared_services: &[],
        unsafe_fixes: false,
        enabled: None,
        keep: None,
    }
}

/// `svcscrub check FILE`: findings rendered in the `full` format.
fn check(path: &str, raw: Vec<u8>) -> usize {
    let loaded = pipeline::load(path, raw).expect("loads");
    let files = [loaded];
    let diagnostics = pipeline::check_package(&files, &[], &options());
    let mut out = std::io::sink();
    full::render(
        &mut out,
        &files[0].source,
        &diagnostics[0],
        &full::FullOptions::default(),
    )
    .expect("sink");
    diagnostics[0].len()
}

/// `svcscrub fix --diff FILE`: the fixed text and its unified diff.
fn fix(path: &str, raw: Vec<u8>) -> usize {
    let loaded = pipeline::load(path, raw).expect("loads");
    let fixed = pipeline::fix_package(vec![loaded], &[], &options());
    let fixed = fixed[0].as_ref().expect("fixes");
    let mut out = std::io::sink();
    diff::write_fixed_source_diff(
        &mut out,
        &fixed.file.source.path,
        &fixed.file.source,
        &fixed.spans,
        &fixed.old_bytes,
        false,
    )
    .expect("sink");
    fixed.fixed
}

fn bench(c: &mut Criterion) {
    let inputs = [
        ("script_4mb", "bench.ipf", generate::script(4_000_000, 1)),
        ("script_16mb", "bench.ipf", generate::script(16_000_000, 1)),
        (
            "findings_4mb",
            "bench.ipf",
            generate::findings_script(4_000_000, 1),
        ),
        ("reg_4mb", "bench.reg", generate::reg_export(2_000_000, 1)),
        ("reg_16mb", "bench.reg", generate::reg_export(8_000_000, 1)),
    ];
    for (command, run) in [
        ("check", check as fn(&str, Vec<u8>) -> usize),
        ("fix_diff", fix),
    ] {
        let mut group = c.benchmark_group(command);
        group.sample_size(10);
        for (name, path, raw) in &inputs {
            group.throughput(Throughput::Bytes(raw.len() as u64));
            group.bench_function(*name, |b| {
                b.iter_batched(
                    || raw.clone(),
                    |raw| black_box(run(path, raw)),
                    BatchSize::PerIteration,
                )
            });
        }
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
