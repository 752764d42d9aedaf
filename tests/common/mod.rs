//! Helpers shared by the integration tests: locating test data and running the pipeline.

#![allow(dead_code)]

pub mod invariants;
mod locate;

use std::path::{Path, PathBuf};

use svcscrub::pipeline::{self, Loaded, Options};

pub fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The shared corpus, or `None` (after saying so) when it is missing outside CI.
pub fn corpus() -> Option<PathBuf> {
    locate::corpus("this test")
}

/// The official SARIF 2.1.0 schema file, or `None` (after saying so) when it is missing
/// outside CI.
pub fn sarif_schema() -> Option<PathBuf> {
    locate::sarif_schema("this test")
}

/// Files under `dir` (recursively), sorted, with the input extensions or any extension.
pub fn files_under(dir: &Path, only_inputs: bool) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if !only_inputs
                || path.extension().and_then(|e| e.to_str()).is_some_and(|e| {
                    ["wse", "ipf", "reg"].contains(&e.to_ascii_lowercase().as_str())
                })
            {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// Loads `path`, naming it relative to the crate (stable snapshot text).
pub fn load(path: &Path) -> Result<Loaded, svcscrub::error::InputError> {
    let raw = std::fs::read(path).expect("test file is readable");
    let name = path
        .strip_prefix(manifest_dir())
        .unwrap_or(path)
        .display()
        .to_string();
    pipeline::load(&name, raw)
}

pub fn options(unsafe_fixes: bool) -> Options<'static> {
    Options {
        declared_services: &[],
        enabled: None,
        unsafe_fixes,
        keep: None,
    }
}
