//! Helpers shared by the integration tests: locating test data and running the pipeline.

#![allow(dead_code)]

pub mod invariants;
mod locate;

use std::path::{Path, PathBuf};

use svcscrub::pipeline::{self, Loaded, Options};

/// The names of the entries of `dir`, sorted.
pub fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

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

/// Loads `path`, naming it relative to the crate, `/`-separated (stable snapshot text on
/// every platform).
pub fn load(path: &Path) -> Result<Loaded, svcscrub::error::InputError> {
    let raw = std::fs::read(path).expect("test file is readable");
    let relative = path.strip_prefix(manifest_dir()).unwrap_or(path);
    let name: Vec<String> = relative
        .iter()
        .map(|part| part.to_string_lossy().into_owned())
        .collect();
    pipeline::load(&name.join("/"), raw)
}

/// A `/`-separated relative path in the platform's form, as human-facing output shows it
/// (`pkg\\setup.wse` on Windows).
pub fn native(path: &str) -> String {
    if cfg!(windows) {
        path.replace('/', "\\")
    } else {
        path.to_string()
    }
}

/// `text` with the platform's form of every file path under `dir` (relative to the crate,
/// `/`-separated) written `/`-separated again: human-facing output compared with
/// expectations written once for every platform.
pub fn with_slashes(text: &str, dir: &str) -> String {
    let mut text = text.to_string();
    if cfg!(windows) {
        for file in files_under(&manifest_dir().join(dir), false) {
            let relative = file.strip_prefix(manifest_dir()).unwrap_or(&file);
            let parts: Vec<String> = relative
                .iter()
                .map(|part| part.to_string_lossy().into_owned())
                .collect();
            let slashed = parts.join("/");
            text = text.replace(&native(&slashed), &slashed);
        }
    }
    text
}

pub fn options(unsafe_fixes: bool) -> Options<'static> {
    Options {
        declared_services: &[],
        enabled: None,
        unsafe_fixes,
        keep: None,
    }
}

/// The columns of a `Registry` table, after its primary key `registry`.
pub fn registry_columns(registry: msi::Column) -> Vec<msi::Column> {
    vec![
        registry,
        msi::Column::build("Root").int16(),
        msi::Column::build("Key")
            .localizable()
            .formatted_string(255),
        msi::Column::build("Name")
            .nullable()
            .localizable()
            .formatted_string(255),
        msi::Column::build("Value")
            .nullable()
            .localizable()
            .formatted_string(0),
        msi::Column::build("Component_").id_string(72),
    ]
}
