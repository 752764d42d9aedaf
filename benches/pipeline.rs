//! `check` and `fix --diff` in memory, as the CLI runs them on one file minus the file I/O:
//! load (decode, detect, parse), lower, rules, fix planning, and the output (the `full`
//! report for `check`; the fix passes and the unified diff for `fix`), written to a sink.
//! Inputs come from `examples/gen` at two sizes 4x apart, so the MB/s of the two sizes show
//! whether the cost stays linear, in the shapes of `BENCHMARKS.md`: a capture with ~1% service
//! state, a findings-dense one, a real capture's items repeated (the Norton example's), a
//! Create-Service-dense package (script and export checked together), regedit 5 exports with
//! ~2% and ~90% service state.
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

/// `svcscrub check FILE...` (the files of one package): findings rendered in the `full`
/// format.
fn check(files: Vec<(&str, Vec<u8>)>) -> usize {
    let files: Vec<_> = files
        .into_iter()
        .map(|(path, raw)| pipeline::load(path, raw).expect("loads"))
        .collect();
    let diagnostics = pipeline::check_package(&files, &[], &options());
    let mut out = std::io::sink();
    for (file, diagnostics) in files.iter().zip(&diagnostics) {
        full::render(
            &mut out,
            &file.source,
            diagnostics,
            &full::FullOptions::default(),
        )
        .expect("sink");
    }
    diagnostics.iter().map(Vec::len).sum()
}

/// `svcscrub fix --diff FILE...`: the fixed texts and their unified diffs.
fn fix(files: Vec<(&str, Vec<u8>)>) -> usize {
    let files: Vec<_> = files
        .into_iter()
        .map(|(path, raw)| pipeline::load(path, raw).expect("loads"))
        .collect();
    let mut out = std::io::sink();
    let mut fixed_count = 0;
    for fixed in pipeline::fix_package(files, &[], &options()) {
        let fixed = fixed.expect("fixes");
        diff::write_fixed_source_diff(
            &mut out,
            &fixed.file.source.path,
            &fixed.file.source,
            &fixed.spans,
            &fixed.old_bytes,
            false,
        )
        .expect("sink");
        fixed_count += fixed.fixed;
    }
    fixed_count
}

/// A package of one file.
fn one(path: &'static str, raw: Vec<u8>) -> Vec<(&'static str, Vec<u8>)> {
    vec![(path, raw)]
}

fn bench(c: &mut Criterion) {
    let norton: &[u8] = include_bytes!("../examples/norton-antivirus/setup.ipf");
    let items = |size| generate::repeated_items(size, &[norton.to_vec()]).expect("a Global item");
    let package = |size| {
        let (script, export) = generate::service_package(size, 1);
        vec![("setup.ipf", script), ("capture.reg", export)]
    };
    let inputs = [
        (
            "script_4mb",
            one("bench.ipf", generate::script(4_000_000, 1)),
        ),
        (
            "script_16mb",
            one("bench.ipf", generate::script(16_000_000, 1)),
        ),
        (
            "findings_4mb",
            one("bench.ipf", generate::findings_script(4_000_000, 1)),
        ),
        ("items_4mb", one("bench.ipf", items(4_000_000))),
        ("items_16mb", one("bench.ipf", items(16_000_000))),
        ("services_4mb", package(4_000_000)),
        ("services_16mb", package(16_000_000)),
        (
            "reg_4mb",
            one("bench.reg", generate::reg_export(2_000_000, 1)),
        ),
        (
            "reg_16mb",
            one("bench.reg", generate::reg_export(8_000_000, 1)),
        ),
        (
            "findings_reg_4mb",
            one("bench.reg", generate::findings_reg_export(2_000_000, 1)),
        ),
    ];
    for (command, run) in [
        ("check", check as fn(Vec<(&str, Vec<u8>)>) -> usize),
        ("fix_diff", fix),
    ] {
        let mut group = c.benchmark_group(command);
        group.sample_size(10);
        for (name, files) in &inputs {
            let bytes: usize = files.iter().map(|(_, raw)| raw.len()).sum();
            group.throughput(Throughput::Bytes(bytes as u64));
            // The inputs are copied outside the timing, as a file is read.
            group.bench_function(*name, |b| {
                b.iter_batched(
                    || files.clone(),
                    |files| black_box(run(files)),
                    BatchSize::PerIteration,
                )
            });
        }
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
