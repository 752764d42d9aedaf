//! Where the shared test corpus is, for every integration test that reads it.
//!
//! The corpus sits in `../shared/corpus` next to the crate; a git worktree one directory
//! deeper finds it two levels up. Missing outside CI, the test says so and passes; under
//! `CI=true` a missing corpus fails the test (a checkout without it must not pass silently).

use std::path::{Path, PathBuf};

/// The corpus directory, or `None` after printing that `test` is skipped.
pub fn corpus(test: &str) -> Option<PathBuf> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let found = [
        manifest.join("../shared/corpus"),
        manifest.join("../../shared/corpus"),
    ]
    .into_iter()
    .find(|dir| dir.is_dir());
    if found.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{test}: the corpus is missing at {} under CI=true",
            manifest.join("../shared/corpus").display()
        );
        eprintln!("{test}: skipped, corpus not found at ../shared/corpus");
    }
    found
}

/// The official SARIF 2.1.0 schema (`../shared/schemas/sarif-schema-2.1.0.json`), or `None`
/// after printing that `test` is skipped (failing under `CI=true`, as for the corpus).
// Tests that include this file by path read only the corpus.
#[allow(dead_code)]
pub fn sarif_schema(test: &str) -> Option<PathBuf> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let found = [
        manifest.join("../shared/schemas/sarif-schema-2.1.0.json"),
        manifest.join("../../shared/schemas/sarif-schema-2.1.0.json"),
    ]
    .into_iter()
    .find(|path| path.is_file());
    if found.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{test}: the SARIF schema is missing at ../shared/schemas under CI=true"
        );
        eprintln!("{test}: skipped, SARIF schema not found at ../shared/schemas");
    }
    found
}
