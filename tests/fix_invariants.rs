//! Every fixture, example and corpus package, fixed with and without unsafe fixes: the fix
//! converges, a second fix changes nothing, the output re-parses in the same encoding, bytes
//! outside the changed spans are identical, `Total Keys` stays consistent, and no applicable
//! fix is left unapplied.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use svcscrub::fix::Applicability;
use svcscrub::fix::invariants::total_keys_problems;
use svcscrub::pipeline::{self, Loaded};
use svcscrub::syntax::Syntax;

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

fn check_package(dir: &Path, files: &[Loaded], unsafe_fixes: bool) -> usize {
    let options = common::options(unsafe_fixes);
    let threshold = options.threshold();
    let results = pipeline::fix_package(files, &[], &options);
    let mut fixed_files = Vec::new();
    for (original, result) in files.iter().zip(results) {
        let name = &original.source.path;
        let fixed = result.unwrap_or_else(|e| panic!("{name}: {e}"));
        let old = original.source.text();
        let new = fixed.file.source.text();

        // Re-parses from its bytes, in the same encoding and format.
        let reloaded = pipeline::load(name, fixed.file.source.raw.clone())
            .unwrap_or_else(|e| panic!("{name}: fixed output does not parse: {e}"));
        assert_eq!(reloaded.source.encoding, original.source.encoding, "{name}");
        assert_eq!(reloaded.format, original.format, "{name}");
        assert_eq!(original.source.encode(new), fixed.file.source.raw, "{name}");

        // Bytes outside the changed spans are identical; the spans explain the whole change.
        let (mut o, mut n) = (0, 0);
        for span in &fixed.spans {
            assert_eq!(
                &old[o..span.old.start],
                &new[n..span.new.start],
                "{name}: bytes outside the edits changed"
            );
            o = span.old.end;
            n = span.new.end;
        }
        assert_eq!(
            &old[o..],
            &new[n..],
            "{name}: bytes after the last edit changed"
        );
        if fixed.spans.is_empty() {
            assert_eq!(old, new, "{name}");
        }

        // Total Keys never becomes inconsistent.
        if let (Syntax::Script(a), Syntax::Script(b)) = (&original.syntax, &fixed.file.syntax) {
            assert!(
                total_keys_problems(b, new).len() <= total_keys_problems(a, old).len(),
                "{name}: Total Keys inconsistent after fix"
            );
        }

        // Nothing that fix would apply is left behind.
        for d in &fixed.remaining {
            if let Some(f) = &d.fix {
                assert!(
                    f.applicability < threshold
                        || f.applicability == Applicability::DisplayOnly
                        || f.edits.is_empty(),
                    "{name}: {} left unapplied: {}",
                    d.code,
                    d.message
                );
            }
        }
        fixed_files.push(fixed.file);
    }

    // A second fix changes nothing.
    for result in pipeline::fix_package(&fixed_files, &[], &options) {
        let again = result.unwrap_or_else(|e| panic!("{}: second fix failed: {e}", dir.display()));
        assert!(
            again.spans.is_empty(),
            "{}: a second fix changed {}",
            dir.display(),
            again.file.source.path
        );
    }
    files.len()
}

fn run(roots: &[PathBuf]) -> usize {
    let mut count = 0;
    for (dir, files) in packages(roots) {
        for unsafe_fixes in [false, true] {
            count += check_package(&dir, &files, unsafe_fixes);
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
