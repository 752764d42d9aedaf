//! Every fixture, example and corpus package, fixed with and without unsafe fixes: the fix
//! converges, a second fix changes nothing, the output re-parses in the same encoding, bytes
//! outside the changed spans are identical, `Total Keys` stays consistent, no applicable
//! fix is left unapplied, a file changes exactly when `check` reported an applicable fix, and
//! each of those fixes applied alone gives a file that loads (see `common/invariants.rs`).

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use svcscrub::pipeline::Loaded;

/// Input files grouped by directory (a package each); files that are refused are skipped.
fn packages(roots: &[PathBuf]) -> BTreeMap<PathBuf, Vec<Loaded>> {
    let mut out: BTreeMap<PathBuf, Vec<Loaded>> = BTreeMap::new();
    for root in roots {
        for path in common::files_under(root, false) {
            if path.extension().is_some_and(|e| e == "md" || e == "rs") {
                continue;
            }
            if let Ok(file) = common::load(&path) {
                let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
                out.entry(dir).or_default().push(file);
            }
        }
    }
    out
}

fn check_package(files: &[Loaded], unsafe_fixes: bool) -> usize {
    common::invariants::check_package(files, &common::options(unsafe_fixes), usize::MAX);
    files.len()
}

fn run(roots: &[PathBuf]) -> usize {
    let mut count = 0;
    for files in packages(roots).values() {
        for unsafe_fixes in [false, true] {
            count += check_package(files, unsafe_fixes);
        }
    }
    count
}

#[test]
fn fixtures_and_examples_keep_the_invariants() {
    let root = common::manifest_dir();
    let checked = run(&[root.join("tests/fixtures"), root.join("examples")]);
    assert!(checked >= 20, "only {checked} files were checked");
}

#[test]
fn corpus_keeps_the_invariants() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let checked = run(&[corpus]);
    // 11 text scripts and 20 accepted .reg files, twice (safe, unsafe).
    assert!(
        checked >= 2 * 29,
        "only {checked} corpus files were checked"
    );
}
