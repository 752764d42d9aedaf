//! The in-memory pipeline: bytes → source → format → syntax → model → rules → fix.
//! No filesystem here: the CLI reads and writes, tests and benchmarks call these directly.

use crate::detect::{self, Format};
use crate::diagnostic::Diagnostic;
use crate::error::InputError;
use crate::fix::changes::{ChangeMap, Span};
use crate::fix::{self, Applicability, Change, Edit, Fix};
use crate::model;
use crate::model::suppress;
use crate::rules::context::{PackageContext, PackageFile};
use crate::rules::svc900_unused_suppression as unused;
use crate::rules::{self, Finding};
use crate::source::{DecodeError, Encoding, SourceFile, UTF8_BOM, UTF16LE_BOM};
use crate::syntax::{self, Syntax};
use crate::text::LineCol;

/// Fixing stops after this many passes even if something still changes (a safety net: every
/// fix removes or rewrites toward `CurrentControlSet`, so two or three passes suffice).
pub const MAX_FIX_PASSES: usize = 10;

/// A file that was decoded, recognised and parsed.
#[derive(Clone, Debug)]
pub struct Loaded {
    pub source: SourceFile,
    pub format: Format,
    pub syntax: Syntax,
}

/// Runs the `source`, `detect` and `syntax` stages on one file's bytes.
pub fn load(path: &str, raw: Vec<u8>) -> Result<Loaded, InputError> {
    let source = SourceFile::new(path, raw).map_err(|e| InputError::new(path, e.to_string()))?;
    load_source(source)
}

/// Runs the `detect` and `syntax` stages on a decoded file.
pub fn load_source(source: SourceFile) -> Result<Loaded, InputError> {
    let path = source.path.as_str();
    let text = source.text();
    let format = detect::detect(text, source.encoding)
        .map_err(|e| InputError::at(path, source.line_col(e.offset), e.message))?;
    let syntax = syntax::parse(text, format)
        .map_err(|e| InputError::at(path, source.line_col(e.offset), e.message))?;
    Ok(Loaded {
        source,
        format,
        syntax,
    })
}

/// [`load_source`] for a text made by `replacements` from the text `previous` was read from.
///
/// Detecting the format scans the whole text (for NUL bytes), so it runs on the pool while the
/// text is re-parsed as the format it had; only a text whose format changed is parsed again.
fn load_edited(
    source: SourceFile,
    previous: &Loaded,
    replacements: &[syntax::Replacement],
) -> Result<Loaded, InputError> {
    let text = source.text();
    let failed = |offset, message| {
        InputError::at(
            source.path.as_str(),
            line_col_as_read(&source, offset),
            message,
        )
    };
    let reparse = |format| syntax::reparse(&previous.syntax, text, format, replacements);
    let (format, as_before) = rayon::join(
        || detect::detect(text, source.encoding),
        || reparse(previous.format),
    );
    let format = format.map_err(|e| failed(e.offset, e.message))?;
    let syntax = if format == previous.format {
        as_before
    } else {
        reparse(format)
    };
    let syntax = syntax.map_err(|e| failed(e.offset, e.message))?;
    Ok(Loaded {
        source,
        format,
        syntax,
    })
}

/// The line:column of `offset` in an edited text, counted as when the text is read as a file:
/// an 8-bit text counts characters if it reads as UTF-8 and bytes if not, whichever of the two
/// its file was (see [`edited_source`]). For error messages only: it copies the text.
fn line_col_as_read(source: &SourceFile, offset: usize) -> LineCol {
    if matches!(source.encoding, Encoding::Ansi | Encoding::Utf8)
        && let Ok(read) = SourceFile::new(source.path.as_str(), source.text().to_vec())
    {
        return read.line_col(offset);
    }
    source.line_col(offset)
}

/// Decides whether a finding counts: `false` drops it (and its fix).
pub type KeepFn<'o> = dyn Fn(&Loaded, &Diagnostic) -> bool + Sync + 'o;

/// Decides whether a rule (by code) is selected.
pub type EnabledFn<'o> = dyn Fn(&str) -> bool + Sync + 'o;

/// What decides which findings count and which fixes apply.
pub struct Options<'o> {
    /// Services created by something the tool does not see (`services`, `--service`).
    pub declared_services: &'o [String],
    /// Apply `Unsafe` fixes too.
    pub unsafe_fixes: bool,
    /// Whether a rule is selected (`select`/`ignore`). `None` selects all.
    pub enabled: Option<&'o EnabledFn<'o>>,
    /// Keeps a finding (allowed paths). `None` keeps all.
    pub keep: Option<&'o KeepFn<'o>>,
}

impl Options<'_> {
    fn enabled(&self, code: &str) -> bool {
        self.enabled.is_none_or(|enabled| enabled(code))
    }

    /// The least applicability `fix` applies.
    pub fn threshold(&self) -> Applicability {
        if self.unsafe_fixes {
            Applicability::Unsafe
        } else {
            Applicability::Safe
        }
    }
}

/// Lowers one file for the rules: only the writes some rule reads are built.
pub fn lower(loaded: &Loaded) -> PackageFile<'_> {
    let text = loaded.source.text();
    let needed = rules::Needed;
    let (model, is_script) = match &loaded.syntax {
        Syntax::Script(doc) => (model::wise::lower_selected(doc, text, &needed), true),
        Syntax::Reg(file) => (
            model::reg::lower_selected(file, text, loaded.source.encoding, &needed),
            false,
        ),
    };
    PackageFile {
        source: &loaded.source,
        model,
        is_script,
        doc: match &loaded.syntax {
            Syntax::Script(doc) => Some(doc),
            Syntax::Reg(_) => None,
        },
    }
}

/// Plans `changes` into edits for one file, then keeps a sorted, non-overlapping subset
/// (duplicates collapse; of two overlapping edits the earlier-planned one wins and the fix
/// loop retries the other on the next pass).
pub fn plan(loaded: &Loaded, changes: &[Change]) -> Vec<Edit> {
    Planner::new(loaded).plan(changes)
}

/// Plans changes for one file, any number of times (one fix per finding): what the format's
/// planner learns about the file is kept between calls, so planning every finding's fix
/// stays linear in the file's size.
pub struct Planner<'l> {
    text: &'l [u8],
    format: FormatPlanner<'l>,
}

enum FormatPlanner<'l> {
    Script(fix::wise::Planner<'l>),
    Reg(&'l syntax::reg::RegFile),
}

impl<'l> Planner<'l> {
    pub fn new(loaded: &'l Loaded) -> Self {
        let text = loaded.source.text();
        let format = match &loaded.syntax {
            Syntax::Script(doc) => FormatPlanner::Script(fix::wise::Planner::new(doc, text)),
            Syntax::Reg(file) => FormatPlanner::Reg(file),
        };
        Self { text, format }
    }

    /// As [`plan`].
    pub fn plan(&mut self, changes: &[Change]) -> Vec<Edit> {
        let mut edits = match &mut self.format {
            FormatPlanner::Script(planner) => planner.plan(changes),
            FormatPlanner::Reg(file) => fix::reg::plan(file, self.text, changes),
        };
        edits.sort_by_key(|e| (e.range.start, e.range.end));
        edits.dedup();
        let mut kept: Vec<Edit> = Vec::with_capacity(edits.len());
        for edit in edits {
            let overlaps = kept.last().is_some_and(|last| {
                edit.range.start < last.range.end
                    || (edit.range.is_empty()
                        && last.range.is_empty()
                        && edit.range.start == last.range.start)
            });
            if !overlaps {
                kept.push(edit);
            }
        }
        kept
    }
}

/// The findings of file `i` that count: selected rules, outside allowed paths, not
/// suppressed; plus an SVC900 finding for every directive code that suppressed nothing.
fn file_findings(
    loaded: &Loaded,
    package: &PackageContext<'_, '_>,
    lowered: &[PackageFile<'_>],
    i: usize,
    options: &Options<'_>,
) -> Vec<Finding> {
    // Finding the suppression directives needs no findings: it runs beside the rules.
    let (mut findings, directives) = rayon::join(
        || rules::check_file(package, lowered, i),
        || suppress::directives(&loaded.syntax, loaded.source.text()),
    );
    findings.retain(|f| {
        options.enabled(f.diagnostic.code)
            && options.keep.is_none_or(|keep| keep(loaded, &f.diagnostic))
    });
    if directives.is_empty() {
        return findings;
    }
    let mut used: Vec<Vec<bool>> = directives
        .iter()
        .map(|d| vec![false; d.codes.len()])
        .collect();
    findings.retain(|f| {
        !mark_suppressed(
            &directives,
            &mut used,
            f.diagnostic.code,
            f.diagnostic.range.start,
        )
    });
    if !options.enabled(unused::INFO.code) {
        return findings;
    }
    for (d, directive) in directives.iter().enumerate() {
        // A code is unused when it suppressed nothing; codes of rules that are not selected
        // are left alone (they may be used under another selection).
        let unused: Vec<usize> = (0..directive.codes.len())
            .filter(|&c| {
                !used[d][c]
                    && !rules::RULES
                        .iter()
                        .any(|r| directive.names(c, r.code) && !options.enabled(r.code))
            })
            .collect();
        if unused.is_empty() {
            continue;
        }
        let finding = unused::finding(directive, &unused);
        let (code, at) = (finding.diagnostic.code, finding.diagnostic.range.start);
        if !mark_suppressed(&directives, &mut used, code, at) {
            findings.push(finding);
        }
    }
    findings.sort_by_key(|f| (f.diagnostic.range.start, f.diagnostic.code));
    findings
}

/// Whether a finding of `code` at `at` is suppressed; marks the directive codes that match.
fn mark_suppressed(
    directives: &[suppress::Directive],
    used: &mut [Vec<bool>],
    code: &str,
    at: usize,
) -> bool {
    let mut hit = false;
    for (directive, used) in directives.iter().zip(used.iter_mut()) {
        if directive.covers(at) {
            for (c, used) in used.iter_mut().enumerate() {
                if directive.names(c, code) {
                    *used = true;
                    hit = true;
                }
            }
        }
    }
    hit
}

/// Plans each finding's fix into edits and returns the diagnostics.
fn diagnostics_of(loaded: &Loaded, findings: Vec<Finding>) -> Vec<Diagnostic> {
    let mut planner = Planner::new(loaded);
    findings
        .into_iter()
        .map(|finding| {
            let mut diagnostic = finding.diagnostic;
            if let Some(plan) = finding.fix {
                diagnostic.fix = Some(Fix {
                    applicability: plan.applicability,
                    edits: planner.plan(&plan.changes),
                    title: plan.title,
                });
            }
            diagnostic
        })
        .collect()
}

/// Below this many findings a file's fixes are planned on the calling thread.
const PLAN_IN_PARTS_FROM: usize = 1024;

/// As [`diagnostics_of`], in parts on the current rayon pool for a file with many findings:
/// each part has its own planner, which only caches what it has read of the file, so the
/// edits are the same; the parts are joined in order.
fn diagnostics_in_parts(loaded: &Loaded, findings: Vec<Finding>) -> Vec<Diagnostic> {
    let threads = rayon::current_num_threads();
    if findings.len() < PLAN_IN_PARTS_FROM || threads < 2 {
        return diagnostics_of(loaded, findings);
    }
    planned_in(loaded, findings, threads * 4)
}

/// The diagnostics of `findings`, planned in (at most) `parts` parts on the pool.
fn planned_in(loaded: &Loaded, findings: Vec<Finding>, parts: usize) -> Vec<Diagnostic> {
    use rayon::prelude::*;
    let size = findings.len().div_ceil(parts.max(1)).max(1);
    let mut parts: Vec<Vec<Finding>> = Vec::new();
    for (i, finding) in findings.into_iter().enumerate() {
        if i % size == 0 {
            parts.push(Vec::with_capacity(size));
        }
        if let Some(part) = parts.last_mut() {
            part.push(finding);
        }
    }
    let planned: Vec<Vec<Diagnostic>> = parts
        .into_par_iter()
        .map(|part| diagnostics_of(loaded, part))
        .collect();
    crate::pieces::concat(planned)
}

/// Checks every file of one package (the files of one directory). `context` holds further
/// files of the package that count for the rules (their Create Service items) but are not
/// reported. Returns each file's diagnostics, fixes planned into edits, in file order.
pub fn check_package(
    files: &[Loaded],
    context: &[Loaded],
    options: &Options<'_>,
) -> Vec<Vec<Diagnostic>> {
    let lowered: Vec<PackageFile<'_>> = files.iter().chain(context).map(lower).collect();
    let package = PackageContext::new(&lowered, options.declared_services);
    let findings: Vec<Vec<Finding>> = (0..files.len())
        .map(|i| file_findings(&files[i], &package, &lowered, i, options))
        .collect();
    // The models are done with: they are freed (many small allocations, a large file's take
    // milliseconds) on the pool while the fixes are planned.
    drop(package);
    let (_, diagnostics) = rayon::join(
        move || drop(lowered),
        || {
            files
                .iter()
                .zip(findings)
                .map(|(file, findings)| diagnostics_in_parts(file, findings))
                .collect()
        },
    );
    diagnostics
}

/// The result of fixing one file.
#[derive(Clone, Debug)]
pub struct Fixed {
    /// The file as it ends up (unchanged when `spans` is empty).
    pub file: Loaded,
    /// What changed, in the original's and the result's coordinates (for the diff).
    pub spans: Vec<Span>,
    /// Findings of the original that the fixes removed.
    pub fixed: usize,
    /// Findings left in the result.
    pub remaining: Vec<Diagnostic>,
}

/// Why a fixed file is not to be written. Always a bug in a fix: the original is kept.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("internal error: {0}; the file is left unchanged (please report this)")]
pub struct FixError(pub String);

/// Fixes every file of one package to a fixed point: apply the applicable fixes of all
/// findings, re-parse, re-check, repeat until nothing changes. Each result is re-parsed and
/// checked against the invariants before it is returned. `context` files count for the rules
/// but are never changed.
///
/// The first pass's findings are the original's (their count is `Fixed::fixed`'s baseline),
/// and a pass that changes nothing has found the result's findings, so a package that
/// converges is checked once per pass and never again; files are copied only when returned
/// unchanged.
pub fn fix_package(
    files: &[Loaded],
    context: &[Loaded],
    options: &Options<'_>,
) -> Vec<Result<Fixed, FixError>> {
    // The current version of each file: `None` while it is the original.
    let mut edited: Vec<Option<Loaded>> = vec![None; files.len()];
    let mut initial: Vec<usize> = vec![0; files.len()];
    let mut maps: Vec<ChangeMap> = files.iter().map(|_| ChangeMap::new()).collect();
    let mut failed: Vec<Option<FixError>> = vec![None; files.len()];
    let threshold = options.threshold();
    // The findings of the last pass, when it changed nothing: those of the result.
    let mut settled: Option<Vec<Vec<Finding>>> = None;

    for pass in 0..MAX_FIX_PASSES {
        // Each edited file's next text, with the edits that made it.
        let mut next: Vec<Option<(Vec<u8>, Vec<Edit>)>> = vec![None; files.len()];
        let mut found: Vec<Vec<Finding>> = Vec::with_capacity(files.len());
        {
            let current = || {
                files
                    .iter()
                    .zip(&edited)
                    .map(|(original, edited)| edited.as_ref().unwrap_or(original))
            };
            let lowered: Vec<PackageFile<'_>> = current().chain(context).map(lower).collect();
            let package = PackageContext::new(&lowered, options.declared_services);
            for (i, loaded) in current().enumerate() {
                if failed[i].is_some() {
                    found.push(Vec::new());
                    continue;
                }
                let findings = file_findings(loaded, &package, &lowered, i, options);
                if pass == 0 {
                    initial[i] = findings.len();
                }
                let changes: Vec<Change> = findings
                    .iter()
                    .filter_map(|f| f.fix.as_ref().filter(|p| p.applicability >= threshold))
                    .flat_map(|p| p.changes.iter().cloned())
                    .collect();
                found.push(findings);
                if changes.is_empty() {
                    continue;
                }
                let edits = plan(loaded, &changes);
                if edits.is_empty() {
                    continue;
                }
                match maps[i].apply_pass(loaded.source.text(), &edits) {
                    Ok(text) => next[i] = Some((text, edits)),
                    Err(e) => failed[i] = Some(FixError(e.to_string())),
                }
            }
        }
        if next.iter().all(Option::is_none) {
            settled = Some(found);
            break;
        }
        // A big file's findings are thousands of small allocations: they are freed on the pool
        // while the edited texts are parsed.
        rayon::join(
            move || drop(found),
            || reload_all(files, &mut edited, &mut failed, next),
        );
    }

    let current: Vec<Loaded> = files
        .iter()
        .zip(edited)
        .map(|(original, edited)| edited.unwrap_or_else(|| original.clone()))
        .collect();
    let remaining: Vec<Vec<Diagnostic>> = match settled {
        Some(found) => current
            .iter()
            .zip(found)
            .map(|(loaded, findings)| diagnostics_of(loaded, findings))
            .collect(),
        // Still changing after the last pass: check the result.
        None => check_package(&current, context, options),
    };
    current
        .into_iter()
        .zip(remaining)
        .zip(maps)
        .enumerate()
        .map(|(i, ((file, remaining), map))| {
            if let Some(e) = failed[i].take() {
                return Err(e);
            }
            verify(&files[i], &file, map.spans())?;
            Ok(Fixed {
                fixed: initial[i].saturating_sub(remaining.len()),
                spans: map.into_spans(),
                file,
                remaining,
            })
        })
        .collect()
}

/// Re-parses each file's `next` text (with the edits that made it) into `edited`, or records
/// why it could not be.
fn reload_all(
    files: &[Loaded],
    edited: &mut [Option<Loaded>],
    failed: &mut [Option<FixError>],
    next: Vec<Option<(Vec<u8>, Vec<Edit>)>>,
) {
    for (i, text) in next.into_iter().enumerate() {
        let Some((text, edits)) = text else { continue };
        let previous = edited[i].as_ref().unwrap_or(&files[i]);
        match reload(previous, text, &edits) {
            Ok(loaded) => edited[i] = Some(loaded),
            Err(e) => failed[i] = Some(e),
        }
    }
}

/// Re-parses an edited working text (`previous`'s text with `edits` applied) as a file of the
/// same path, encoding and format. Only what the edits touch is parsed again (see
/// [`syntax::reparse`]).
fn reload(previous: &Loaded, text: Vec<u8>, edits: &[Edit]) -> Result<Loaded, FixError> {
    let path = previous.source.path.as_str();
    let source =
        edited_source(&previous.source, text).map_err(|e| InputError::new(path, e.to_string()));
    let replacements: Vec<syntax::Replacement> = edits
        .iter()
        .map(|e| syntax::Replacement {
            old: e.range,
            len: e.content.len(),
        })
        .collect();
    let loaded = source
        .and_then(|source| load_edited(source, previous, &replacements))
        .map_err(|e| FixError(format!("the fixed text does not parse: {e}")))?;
    if loaded.format != previous.format || loaded.source.encoding != previous.source.encoding {
        return Err(FixError(
            "a fix changed the file's format or encoding".into(),
        ));
    }
    Ok(loaded)
}

/// An edited working text as a file of `previous`'s path and encoding, taken as it is: no copy,
/// and a UTF-16 text is not encoded and decoded again.
///
/// An 8-bit file reads as UTF-8 when its non-ASCII bytes happen to be valid UTF-8, so a removal
/// can flip what the text would read as (its only invalid or only non-ASCII bytes went). Both
/// write the bytes as they are, so the file keeps the encoding it was read with and the text
/// need not be scanned to tell. Only an 8-bit text that now starts with a byte-order mark is
/// read as a file again: it reads as another encoding, which [`reload`] refuses.
fn edited_source(previous: &SourceFile, text: Vec<u8>) -> Result<SourceFile, DecodeError> {
    let path = previous.path.as_str();
    match previous.encoding {
        Encoding::Ansi | Encoding::Utf8
            if text.starts_with(UTF16LE_BOM) || text.starts_with(UTF8_BOM) =>
        {
            SourceFile::new(path, text)
        }
        encoding => Ok(SourceFile::from_text(path, encoding, text)),
    }
}

/// The invariants every fixed file keeps (RULES.md): same encoding and format, and for
/// scripts `Total Keys` equal to the number of keys of every Edit Registry item.
fn verify(original: &Loaded, fixed: &Loaded, spans: &[Span]) -> Result<(), FixError> {
    if original.source.encoding != fixed.source.encoding || original.format != fixed.format {
        return Err(FixError(
            "a fix changed the file's format or encoding".into(),
        ));
    }
    if let (Syntax::Script(before), Syntax::Script(after)) = (&original.syntax, &fixed.syntax)
        && let Some(problem) = fix::invariants::total_keys_problem(
            (before, original.source.text()),
            (after, fixed.source.text()),
            spans,
        )
    {
        return Err(FixError(problem));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_edited_8_bit_text_keeps_its_encoding_unless_it_gains_a_bom() {
        let ansi = SourceFile::new("a.reg", b"REGEDIT4\r\n\xE9\r\n".to_vec()).unwrap();
        assert_eq!(ansi.encoding, Encoding::Ansi);
        // Valid UTF-8 now, but the file stays what it was read as.
        let utf8 = "REGEDIT4\r\n\u{e9}x".as_bytes().to_vec();
        let edited = edited_source(&ansi, utf8.clone()).unwrap();
        assert_eq!(edited.encoding, Encoding::Ansi);
        assert_eq!(edited.text(), utf8);
        // Error positions count as when the text is read: characters, as it reads as UTF-8.
        let at = utf8.len() - 1;
        let read = SourceFile::new("a.reg", utf8.clone()).unwrap();
        assert_eq!(read.encoding, Encoding::Utf8);
        assert_eq!(line_col_as_read(&edited, at), read.line_col(at));
        assert_ne!(edited.line_col(at), read.line_col(at));
        // A text that starts with a byte-order mark reads as another encoding.
        let bom = edited_source(&ansi, b"\xEF\xBB\xBFREGEDIT4\r\n".to_vec()).unwrap();
        assert_eq!(bom.encoding, Encoding::Utf8Bom);
        let utf16 = edited_source(&ansi, b"\xFF\xFER\0".to_vec()).unwrap();
        assert_eq!(utf16.encoding, Encoding::Utf16Le);
    }

    #[test]
    fn fixes_planned_in_parts_are_planned_as_in_one() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rules");
        let mut planned = 0;
        for package in ["svc001", "svc010", "svc020", "svc030_sms20"] {
            let Ok(entries) = std::fs::read_dir(dir.join(package)) else {
                continue;
            };
            let mut paths: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
            paths.sort();
            let loaded: Vec<Loaded> = paths
                .iter()
                .filter_map(|p| load(&p.to_string_lossy(), std::fs::read(p).ok()?).ok())
                .collect();
            let lowered: Vec<PackageFile<'_>> = loaded.iter().map(lower).collect();
            let package = PackageContext::new(&lowered, &[]);
            for (i, file) in loaded.iter().enumerate() {
                let findings = rules::check_file(&package, &lowered, i);
                let whole = diagnostics_of(file, findings.clone());
                for parts in [2, 3, 7] {
                    assert_eq!(planned_in(file, findings.clone(), parts), whole);
                }
                planned += whole.len();
            }
        }
        assert!(planned > 10, "only {planned} findings planned");
    }
}
