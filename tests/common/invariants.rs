//! The properties every `check` and `fix` keeps, checked in one place for the invariant
//! harness (`tests/fix_invariants.rs`), the property tests (`tests/fix_proptest.rs`) and the
//! fuzz targets (`fuzz/fuzz_targets/pipeline.rs`, which includes this file by path).
//!
//! Every check panics with the file's path and what broke; nothing here touches the filesystem.

#![allow(dead_code)]

use svcscrub::diagnostic::Diagnostic;
use svcscrub::fix::invariants::total_keys_problems;
use svcscrub::fix::{Applicability, apply_edits};
use svcscrub::pipeline::{self, Fixed, Loaded, Options};
use svcscrub::syntax::Syntax;

/// A fix `fix` applies under `threshold` that would change something.
fn applicable(d: &Diagnostic, threshold: Applicability) -> bool {
    d.fix.as_ref().is_some_and(|f| {
        f.applicability >= threshold
            && f.applicability != Applicability::DisplayOnly
            && !f.edits.is_empty()
    })
}

fn total_keys_count(file: &Loaded) -> usize {
    match &file.syntax {
        Syntax::Script(doc) => total_keys_problems(doc, file.source.text()).len(),
        Syntax::Reg(_) | Syntax::Wix(_) | Syntax::Msi(_) => 0,
    }
}

/// Diagnostics lie inside the text; fix edits are sorted, disjoint and inside the text.
pub fn check_diagnostics(file: &Loaded, diagnostics: &[Diagnostic]) {
    let name = &file.source.path;
    let len = file.source.text().len();
    for d in diagnostics {
        assert!(
            d.range.start <= d.range.end && d.range.end <= len,
            "{name}: {} range {:?} outside the text ({len} bytes)",
            d.code,
            d.range
        );
        let Some(fix) = &d.fix else { continue };
        let mut pos = 0;
        for edit in &fix.edits {
            assert!(
                pos <= edit.range.start && edit.range.start <= edit.range.end,
                "{name}: {} edits overlap or are unsorted: {:?}",
                d.code,
                fix.edits
            );
            pos = edit.range.end;
        }
        assert!(pos <= len, "{name}: {} edit past the end", d.code);
    }
}

/// One fixed file against its original: it re-loads from its bytes in the same encoding and
/// format, the bytes outside the changed spans are identical, `Total Keys` problems do not
/// grow, and no fix that `fix` would apply is left in the result.
pub fn check_fixed(original: &Loaded, fixed: &Fixed, threshold: Applicability) {
    let name = &original.source.path;
    let old = original.source.text();
    let new = fixed.file.source.text();

    let reloaded = pipeline::load(name, fixed.file.source.raw().into_owned())
        .unwrap_or_else(|e| panic!("{name}: fixed output does not load: {e}"));
    assert_eq!(
        fixed.file.source.encoding, original.source.encoding,
        "{name}"
    );
    assert!(
        reloaded
            .source
            .encoding
            .writes_like(original.source.encoding),
        "{name}: written as {} but read as {}",
        original.source.encoding,
        reloaded.source.encoding
    );
    assert_eq!(reloaded.format, original.format, "{name}");
    assert_eq!(
        reloaded.source.text(),
        new,
        "{name}: re-loaded text differs"
    );
    assert_eq!(
        original.source.encode(new),
        *fixed.file.source.raw(),
        "{name}: raw bytes are not the encoded text"
    );

    // Bytes outside the spans are identical and the spans explain the whole change.
    let (mut o, mut n) = (0, 0);
    for span in &fixed.spans {
        assert!(
            span.old.start >= o && span.new.start >= n,
            "{name}: spans out of order: {:?}",
            fixed.spans
        );
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
    // The original, which the fix does not keep, comes back from the changes.
    assert!(
        fixed.original_text().as_deref() == Some(old),
        "{name}: the changes do not give back the original"
    );
    assert_eq!(
        fixed.original_raw().as_deref(),
        Some(&*original.source.raw()),
        "{name}"
    );
    let raw = original.source.raw();
    assert!(
        is_original_raw(fixed, &raw),
        "{name}: the original is not recognised"
    );
    for changed in [
        &raw[..raw.len().saturating_sub(1)],
        &[&raw[..], b"x"].concat()[..],
        &[b"x", &raw[..]].concat()[..],
    ] {
        assert!(
            !is_original_raw(fixed, changed),
            "{name}: other bytes taken for the original"
        );
    }
    if fixed.spans.is_empty() {
        assert_eq!(old, new, "{name}: changed without a span");
        assert_eq!(fixed.file.source.raw(), original.source.raw(), "{name}");
    }

    assert!(
        total_keys_count(&fixed.file) <= total_keys_count(original),
        "{name}: Total Keys inconsistent after fix"
    );

    check_diagnostics(&fixed.file, &fixed.remaining);
    for d in &fixed.remaining {
        assert!(
            !applicable(d, threshold),
            "{name}: {} left unapplied: {}",
            d.code,
            d.message
        );
    }
}

/// Whether `raw` are the bytes the write step takes for `fixed`'s original (what
/// [`Fixed::feed_original_raw`] feeds it).
fn is_original_raw(fixed: &Fixed, raw: &[u8]) -> bool {
    let mut rest = raw;
    let fed = fixed.feed_original_raw(&mut |piece| match rest.strip_prefix(piece) {
        Some(after) => {
            rest = after;
            Ok(())
        }
        None => Err(std::io::Error::other("differs")),
    });
    fed.is_ok() && rest.is_empty()
}

/// Each applicable fix that `check` reports (the first `limit` of them), applied on its own,
/// gives a file that loads in the same encoding and format without new `Total Keys` problems
/// (a reviewer may apply one fix from the JSON or SARIF report).
pub fn check_single_fixes(
    file: &Loaded,
    diagnostics: &[Diagnostic],
    threshold: Applicability,
    limit: usize,
) {
    let name = &file.source.path;
    for d in diagnostics
        .iter()
        .filter(|d| applicable(d, threshold))
        .take(limit)
    {
        let Some(fix) = &d.fix else { continue };
        let text = apply_edits(file.source.text(), &fix.edits)
            .unwrap_or_else(|e| panic!("{name}: {} edits do not apply: {e}", d.code));
        let raw = file.source.encode(&text);
        let loaded = pipeline::load(name, raw)
            .unwrap_or_else(|e| panic!("{name}: {} fix alone does not load: {e}", d.code));
        assert_eq!(loaded.format, file.format, "{name}: {}", d.code);
        assert!(
            loaded.source.encoding.writes_like(file.source.encoding),
            "{name}: {}",
            d.code
        );
        assert!(
            total_keys_count(&loaded) <= total_keys_count(file),
            "{name}: {} fix alone leaves Total Keys inconsistent",
            d.code
        );
    }
}

/// Checks and fixes one package, checks every property above, agreement between `check` and
/// `fix` (a file changes exactly when `check` reported an applicable fix for it), and that a
/// second fix changes nothing; `single_fixes` of each file's fixes are also applied alone
/// ([`check_single_fixes`]). Returns the fixed files.
pub fn check_package(files: &[Loaded], options: &Options<'_>, single_fixes: usize) -> Vec<Loaded> {
    let threshold = options.threshold();
    let checked = pipeline::check_package(files, &[], options);
    assert_eq!(checked.len(), files.len());
    for (file, diagnostics) in files.iter().zip(&checked) {
        check_diagnostics(file, diagnostics);
        check_single_fixes(file, diagnostics, threshold, single_fixes);
    }

    let package_fixable = checked.iter().flatten().any(|d| applicable(d, threshold));
    let results = pipeline::fix_package(files.to_vec(), &[], options);
    assert_eq!(results.len(), files.len());
    let mut fixed_files = Vec::with_capacity(files.len());
    for ((original, result), diagnostics) in files.iter().zip(results).zip(&checked) {
        let name = &original.source.path;
        let fixed = result.unwrap_or_else(|e| panic!("{name}: {e}"));
        check_fixed(original, &fixed, threshold);
        let fixable = diagnostics.iter().any(|d| applicable(d, threshold));
        let changed = !fixed.spans.is_empty();
        // A file with an applicable fix always changes. One without changes only when another
        // file of its package makes it fixable in a later pass (a Create Service item inserted
        // in a script turns the package's .reg writes of that service into SVC010 removals).
        let cascade = files.len() > 1 && package_fixable;
        assert!(
            fixable == changed || (changed && cascade),
            "{name}: check reported {} applicable fix, fix changed {} span(s)",
            if fixable { "an" } else { "no" },
            fixed.spans.len()
        );
        fixed_files.push(fixed.file);
    }

    for result in pipeline::fix_package(fixed_files.clone(), &[], options) {
        let again = result.unwrap_or_else(|e| panic!("second fix failed: {e}"));
        assert!(
            again.spans.is_empty(),
            "{}: a second fix changed {:?}",
            again.file.source.path,
            again.spans
        );
    }
    fixed_files
}
