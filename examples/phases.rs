//! Times each pipeline stage on one file, for finding where a check spends its time:
//!
//!     cargo run --release --example phases -- FILE
//!
//! Stages: read, load (decode + detect + parse), lower, package context, rules, and the whole
//! `check_package` (lower + rules + fix planning) once more for comparison, and the `full` report.

use std::time::Instant;

use anyhow::{Context, anyhow};
use svcscrub::pipeline::{self, Options};
use svcscrub::rules::context::PackageContext;

fn main() -> anyhow::Result<()> {
    let path = std::env::args().nth(1).context("usage: phases FILE")?;
    let start = Instant::now();
    let raw = std::fs::read(&path).with_context(|| format!("reading {path}"))?;
    let read = start.elapsed();
    let loaded = pipeline::load(&path, raw).map_err(|e| anyhow!("{e}"))?;
    let load = start.elapsed();
    let files = vec![pipeline::lower(&loaded)];
    let lower = start.elapsed();
    let package = PackageContext::new(&files, &[]);
    let context = start.elapsed();
    let findings = svcscrub::rules::check_file(&package, &files, 0);
    let rules = start.elapsed();
    drop(package);
    drop(files);
    let options = Options {
        declared_services: &[],
        unsafe_fixes: false,
        enabled: None,
        keep: None,
    };
    let again = Instant::now();
    let diagnostics = pipeline::check_package(std::slice::from_ref(&loaded), &[], &options);
    let whole = again.elapsed();
    let again = Instant::now();
    let mut report = Vec::new();
    for (file, diagnostics) in std::iter::once(&loaded).zip(&diagnostics) {
        let options = svcscrub::render::full::FullOptions::default();
        svcscrub::render::full::render(&mut report, &file.source, diagnostics, &options)?;
    }
    let render = again.elapsed();
    println!(
        "read {read:.1?} | load {:.1?} | lower {:.1?} | context {:.1?} | rules {:.1?} ({} findings) | check_package {whole:.1?} ({} diagnostics) | render full {render:.1?} ({} bytes)",
        load - read,
        lower - load,
        context - lower,
        rules - context,
        findings.len(),
        diagnostics.iter().map(Vec::len).sum::<usize>(),
        report.len(),
    );
    Ok(())
}
