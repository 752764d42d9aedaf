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
