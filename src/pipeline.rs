//! The in-memory pipeline: bytes → source → format → syntax → model → rules → fix.
//! No filesystem here: the CLI reads and writes, tests and benchmarks call these directly.

use crate::detect::{self, Format};
use crate::diagnostic::Diagnostic;
use crate::error::InputError;
use crate::fix::changes::{self, ChangeMap, Span};
use crate::fix::{self, Applicability, Change, Edit, Fix};
use crate::model;
use crate::model::suppress;
use crate::rules::context::{PackageContext, PackageFile};
use crate::rules::svc900_unused_suppression as unused;
use crate::rules::{self, Finding};
use crate::source::{Encoding, SourceFile, UTF8_BOM, UTF16LE_BOM};
use crate::syntax::{self, Syntax};
use crate::text::LineCol;
use crate::text::TextRange;

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

/// The line:column of `offset` in an edited text, counted as when the text is read as a file:
/// an 8-bit text counts characters if it reads as UTF-8 and bytes if not, whichever of the two
/// its file was (see [`reparsed`]). For error messages only: it copies the text.
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

/// Lowers one file for the rules: only the operations some rule reads are built.
pub fn lower(loaded: &Loaded) -> PackageFile<'_> {
    lower_with(loaded, &rules::Needed)
}

/// Lowers one file with the operations `selection` wants.
pub fn lower_with<'l>(loaded: &'l Loaded, selection: &impl model::Selection) -> PackageFile<'l> {
    let text = loaded.source.text();
    let model = match &loaded.syntax {
        Syntax::Script(doc) => model::wise::lower_selected(
            doc,
            text,
            model::Charset::of(loaded.source.encoding),
            selection,
        ),
        Syntax::Reg(file) => {
            model::reg::lower_selected(file, text, loaded.source.encoding, selection)
        }
        Syntax::Wix(doc) => model::wix::lower_selected(doc, text, selection),
        Syntax::Msi(view) => model::msi::lower_selected(view, text, selection),
    };
    PackageFile {
        source: &loaded.source,
        model,
    }
}

/// Lowers the files of one package and puts the package's constant variables into their keys
/// and service names (see [`model::package::resolve`]).
pub fn lower_package<'l>(
    files: impl IntoIterator<Item = &'l Loaded>,
    selection: &impl model::Selection,
) -> Vec<PackageFile<'l>> {
    let mut lowered: Vec<PackageFile<'l>> = files
        .into_iter()
        .map(|f| lower_with(f, selection))
        .collect();
    model::package::resolve(lowered.iter_mut().map(|f| &mut f.model));
    lowered
}

/// The registry state the files of one package install (all their operations, the package's
/// variables known; see [`model::state`]).
pub fn installed_state<'l>(files: impl IntoIterator<Item = &'l Loaded>) -> model::state::State {
    let lowered = lower_package(files, &model::All);
    let package = PackageContext::new(&lowered, &[]);
    let expansion = package.expansion();
    model::state::State::of_files(lowered.iter().map(|f| &f.model).enumerate(), &expansion)
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
    Wix(fix::wix::Planner<'l>),
    Msi(fix::msi::Planner<'l>),
}

impl<'l> Planner<'l> {
    pub fn new(loaded: &'l Loaded) -> Self {
        let text = loaded.source.text();
        let format = match &loaded.syntax {
            Syntax::Script(doc) => FormatPlanner::Script(fix::wise::Planner::new(doc, text)),
            Syntax::Reg(file) => FormatPlanner::Reg(file),
            Syntax::Wix(doc) => FormatPlanner::Wix(fix::wix::Planner::new(doc, text)),
            Syntax::Msi(view) => {
                let signed = loaded.source.database().is_some_and(|db| db.signed);
                FormatPlanner::Msi(fix::msi::Planner::new(view, text, signed))
            }
        };
        Self { text, format }
    }

    /// Whether the format's planner reviews its fixes (says what they do beyond their edits,
    /// and may find one unsafe): WiX sources and databases, whose components a fix changes.
    pub fn reviews(&self) -> bool {
        matches!(self.format, FormatPlanner::Wix(_) | FormatPlanner::Msi(_))
    }

    /// As [`plan`].
    pub fn plan(&mut self, changes: &[Change]) -> Vec<Edit> {
        self.plan_reviewed(changes).0
    }

    /// As [`plan`], with the planner's review of the changes.
    pub fn plan_reviewed(&mut self, changes: &[Change]) -> (Vec<Edit>, fix::Review) {
        let (mut edits, review) = match &mut self.format {
            FormatPlanner::Script(planner) => (planner.plan(changes), fix::Review::default()),
            FormatPlanner::Reg(file) => (
                fix::reg::plan(file, self.text, changes),
                fix::Review::default(),
            ),
            FormatPlanner::Wix(planner) => planner.plan(changes),
            FormatPlanner::Msi(planner) => planner.plan(changes),
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
        (kept, review)
    }
}

/// Gives each fix of `findings` its planner's review: a fix the planner finds unsafe becomes
/// unsafe, and what a fix does beyond its edits joins its title.
fn review_fixes(loaded: &Loaded, findings: &mut [Finding]) {
    let mut planner = Planner::new(loaded);
    if !planner.reviews() {
        return;
    }
    for plan in findings.iter_mut().filter_map(|f| f.fix.as_mut()) {
        if plan.changes.is_empty() {
            continue;
        }
        let (_, review) = planner.plan_reviewed(&plan.changes);
        if let Some(why) = review.unsafe_because
            && plan.applicability > Applicability::Unsafe
        {
            plan.applicability = Applicability::Unsafe;
            plan.title = format!("{} (unsafe: {why})", plan.title).into();
        }
        if !review.notes.is_empty() {
            plan.title = format!("{} ({})", plan.title, review.notes.join("; ")).into();
        }
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
    review_fixes(loaded, &mut findings);
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
        // A directive without codes is reported too: it suppresses nothing.
        if unused.is_empty() && !directive.codes.is_empty() {
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
                let edits = planner.plan(&plan.changes);
                // A fix that would change nothing is no fix: the finding is not fixable.
                if !edits.is_empty() || plan.applicability == Applicability::DisplayOnly {
                    diagnostic.fix = Some(Box::new(Fix {
                        applicability: plan.applicability,
                        edits,
                        title: plan.title,
                    }));
                }
            }
            diagnostic
        })
        .collect()
}

/// As [`diagnostics_of`], in parts on the current rayon pool for a file with many findings:
/// each part has its own planner, which only caches what it has read of the file, so the
/// edits are the same; the parts are joined in order.
fn diagnostics_in_parts(loaded: &Loaded, findings: Vec<Finding>) -> Vec<Diagnostic> {
    match crate::pieces::split(findings.len(), crate::pieces::PLAN_FROM) {
        Some(parts) => planned_in(loaded, findings, parts),
        None => diagnostics_of(loaded, findings),
    }
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
    let lowered = lower_package(files.iter().chain(context), &rules::Needed);
    let package = PackageContext::new(&lowered, options.declared_services);
    let (mut findings, index) = rayon::join(
        || -> Vec<Vec<Finding>> {
            (0..files.len())
                .map(|i| file_findings(&files[i], &package, &lowered, i, options))
                .collect()
        },
        || proof_index(&package, &lowered),
    );
    let proven = prove(&package, &lowered, &mut findings, Some(index));
    // The models and the proof's index are done with: they are freed while the fixes are
    // planned.
    drop(package);
    while_freeing((lowered, proven), || {
        files
            .iter()
            .zip(findings)
            .map(|(file, findings)| diagnostics_in_parts(file, findings))
            .collect()
    })
}

/// Records in `allowance` what the fixes of `findings` that apply (from `threshold` up) may
/// change: a safe fix its target, an unsafe one every key and value it touches.
fn allow(
    package: &PackageContext<'_, '_>,
    lowered: &[PackageFile<'_>],
    findings: &[Vec<Finding>],
    threshold: Applicability,
    allowance: &mut fix::proof::Allowance,
) {
    let expansion = package.expansion();
    let models: Vec<&model::FileModel<'_>> = lowered.iter().map(|f| &f.model).collect();
    let prover = fix::proof::Prover::new(models, &expansion);
    for (file, findings) in findings.iter().enumerate() {
        for plan in findings.iter().filter_map(|f| f.fix.as_ref()) {
            if plan.applicability < threshold {
                continue;
            }
            if plan.applicability == Applicability::Safe {
                allowance.targets.insert(plan.target);
                // A safe fix is proven against the package without the unsafe fixes: applied
                // together, they may change what it touches (an unsafe fix that makes a Create
                // Service item install a driver leaves a removed `ObjectName` unset).
                if threshold == Applicability::Safe {
                    continue;
                }
            }
            let delta = fix::proof::FixDelta {
                file,
                changes: &plan.changes,
                effects: &plan.effects,
            };
            allowance.touched.extend(prover.touched(&delta));
        }
    }
}

/// The digest of the state the package installs (its operations as the rules read them).
fn digest(package: &PackageContext<'_, '_>, lowered: &[PackageFile<'_>]) -> fix::proof::Digest {
    let models: Vec<&model::FileModel<'_>> = lowered.iter().map(|f| &f.model).collect();
    fix::proof::Digest::of(&models, &package.expansion())
}

/// The proof's index of the package ([`fix::proof::Index`]). Built while the rules run, on
/// the core they leave idle: every proof that looks beyond its fix's target needs it, and
/// building it is a good part of a proof's time.
fn proof_index(package: &PackageContext<'_, '_>, lowered: &[PackageFile<'_>]) -> fix::proof::Index {
    let models: Vec<&model::FileModel<'_>> = lowered.iter().map(|f| &f.model).collect();
    fix::proof::Index::new(&models, &package.expansion())
}

/// What a proof leaves: its index, if it has one, and the rest of what it held.
type Proven = (Option<fix::proof::Index>, Box<dyn Send>);

/// Proves every safe fix of `findings` (the findings of the package's first files) against the
/// registry the package installs ([`fix::proof`]): a fix that changes anything installed
/// beyond the captured system state its rule targets is unsafe, and says what it changes.
fn prove(
    package: &PackageContext<'_, '_>,
    lowered: &[PackageFile<'_>],
    findings: &mut [Vec<Finding>],
    index: Option<fix::proof::Index>,
) -> Proven {
    let expansion = package.expansion();
    let models: Vec<&model::FileModel<'_>> = lowered.iter().map(|f| &f.model).collect();
    let mut prover = match index {
        Some(index) => fix::proof::Prover::with_index(models, &expansion, index),
        None => fix::proof::Prover::new(models, &expansion),
    };
    for (file, findings) in findings.iter_mut().enumerate() {
        for finding in findings.iter_mut() {
            let Some(plan) = finding.fix.as_mut() else {
                continue;
            };
            if plan.applicability != Applicability::Safe {
                continue;
            }
            let proof = prover.prove(
                &fix::proof::FixDelta {
                    file,
                    changes: &plan.changes,
                    effects: &plan.effects,
                },
                plan.target,
            );
            if let Some(why) = proof.describe() {
                plan.applicability = Applicability::Unsafe;
                plan.title = format!("{}; {why}", plan.title).into();
            }
        }
    }
    prover.into_parts()
}

/// Runs `work` while `garbage` is freed on the pool: a big file's models or findings are
/// thousands of small allocations, and freeing them takes milliseconds.
fn while_freeing<G: Send, R: Send>(garbage: G, work: impl FnOnce() -> R + Send) -> R {
    rayon::join(move || drop(garbage), work).1
}

/// The result of fixing one file.
#[derive(Clone, Debug)]
pub struct Fixed {
    /// The file as it ends up (the original when `spans` is empty).
    pub file: Loaded,
    /// What changed, in the original's and the result's coordinates (for the diff).
    pub spans: Vec<Span>,
    /// The original bytes of every span's `old` range, in span order: with the file's text they
    /// make the original text, which is not kept (see [`Fixed::original_text`]).
    pub old_bytes: Vec<u8>,
    /// Findings of the original that the fixes removed.
    pub fixed: usize,
    /// Findings left in the result.
    pub remaining: Vec<Diagnostic>,
    /// Where the original's findings were, sorted by position (see
    /// [`Fixed::remaining_on_original`]).
    pub anchors: Vec<Anchor>,
    /// What the applied fixes did beyond their edits, for people (a WiX component left empty,
    /// a key path moved, a database's signature invalidated).
    pub notes: Vec<String>,
}

/// Where a finding of the original was: its rule, what it is about (service and value, hashed)
/// and its range, to find it again when it remains after fixes rewrote the text around it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Anchor {
    code: &'static str,
    subject: u64,
    range: TextRange,
}

impl Anchor {
    /// The rule of the finding.
    pub fn code(&self) -> &'static str {
        self.code
    }

    fn of(diagnostic: &Diagnostic) -> Self {
        Self {
            code: diagnostic.code,
            subject: subject(diagnostic),
            range: diagnostic.range,
        }
    }
}

fn subject(diagnostic: &Diagnostic) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    (&diagnostic.service, &diagnostic.value_name).hash(&mut hasher);
    hasher.finish()
}

impl Fixed {
    /// The original working text, put back together from the fixed text and the changes. A
    /// copy of the file's size, for the steps that need the original whole. `None` only if the
    /// spans do not fit the text (a bug).
    pub fn original_text(&self) -> Option<Vec<u8>> {
        changes::original_text(self.file.source.text(), &self.spans, &self.old_bytes)
    }

    /// The original file's bytes (encoded back for a UTF-16 file), as [`Fixed::original_text`].
    pub fn original_raw(&self) -> Option<Vec<u8>> {
        Some(self.file.source.encode(&self.original_text()?))
    }

    /// Feeds the original file's bytes to `sink` in order, in pieces (the fixed text between
    /// the changes and the changes' original bytes, encoded back for a UTF-16 file), without
    /// putting the original together. For the write step, which checks the file on disk
    /// against it and backs it up from it.
    pub fn feed_original_raw(
        &self,
        sink: &mut dyn FnMut(&[u8]) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        let source = &self.file.source;
        if let Some(fed) = source.feed_database_original(sink) {
            return fed;
        }
        let misfit = || std::io::Error::other("the changes do not fit the fixed text");
        let pieces = changes::original_pieces(source.text(), &self.spans, &self.old_bytes)
            .ok_or_else(misfit)?;
        // Edits cut a text at ASCII bytes, so every piece starts a character; if one did not,
        // a UTF-16 file's original is put together and encoded whole.
        let starts_a_char =
            |piece: &&[u8]| piece.first().is_none_or(|&b| !(0x80..0xC0).contains(&b));
        if source.encoding == Encoding::Utf16Le && !pieces.iter().all(starts_a_char) {
            return sink(&self.original_raw().ok_or_else(misfit)?);
        }
        source.feed_encoded(pieces, sink)
    }
}

impl Fixed {
    /// For a run that writes nothing (`fix --diff`): the original file, with the remaining
    /// findings moved onto it, so that every position refers to the file that exists. `None`
    /// when nothing changed (the findings are on the original already) or the spans do not fit
    /// the text (a bug).
    ///
    /// Positions map exactly outside the changes; a finding on text a fix rewrote points at
    /// what that text was (see [`changes::original_range`]). A fix edit that cuts into a change
    /// has no counterpart in the original: that fix is given without edits.
    pub fn remaining_on_original(&self) -> Option<(SourceFile, Vec<Diagnostic>)> {
        if self.spans.is_empty() {
            return None;
        }
        let source = &self.file.source;
        let original =
            SourceFile::from_text(source.path.as_str(), source.encoding, self.original_text()?);
        let spans = &self.spans;
        let remaining = self
            .remaining
            .iter()
            .map(|diagnostic| {
                let mut diagnostic = diagnostic.clone();
                let range = diagnostic.range;
                diagnostic.range = changes::original_range(spans, range);
                let rewritten = changes::inside_a_change(spans, range.start)
                    || changes::inside_a_change(spans, range.end);
                if rewritten && let Some(anchor) = self.anchor_within(&diagnostic) {
                    diagnostic.range = anchor.range;
                }
                if let Some(fix) = &mut diagnostic.fix {
                    let cut = fix.edits.iter().any(|edit| {
                        changes::inside_a_change(spans, edit.range.start)
                            || changes::inside_a_change(spans, edit.range.end)
                    });
                    if cut {
                        fix.edits.clear();
                    }
                    for edit in &mut fix.edits {
                        edit.range = changes::original_range(spans, edit.range);
                    }
                }
                diagnostic
            })
            .collect();
        Some((original, remaining))
    }

    /// The original's finding of the same rule, service and value as `diagnostic` inside
    /// `diagnostic.range` (in the original's coordinates): a finding that stayed while a fix
    /// rewrote the text around it (an item whose other keys were removed, say).
    fn anchor_within(&self, diagnostic: &Diagnostic) -> Option<&Anchor> {
        let within = diagnostic.range;
        let subject = subject(diagnostic);
        let from = self
            .anchors
            .partition_point(|a| a.range.start < within.start);
        self.anchors[from..]
            .iter()
            .take_while(|a| a.range.start < within.end.max(within.start + 1))
            .find(|a| {
                a.code == diagnostic.code && a.subject == subject && within.contains_range(a.range)
            })
    }
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
/// The files are edited in place: a fixed file's text is its original's, moved, and only the
/// original bytes of what changed are kept beside it ([`Fixed::old_bytes`]), so a fix holds
/// one text per file, not two.
///
/// The first pass's findings are the original's (their count is `Fixed::fixed`'s baseline),
/// and a pass that changes nothing has found the result's findings, so a package that
/// converges is checked once per pass and never again.
pub fn fix_package(
    files: Vec<Loaded>,
    context: &[Loaded],
    options: &Options<'_>,
) -> Vec<Result<Fixed, FixError>> {
    fix_package_within(files, context, options, MAX_FIX_PASSES)
}

/// [`fix_package`] with at most `passes` passes. A package still changing after the last one
/// does not converge: that is a bug in some fix (two fixes undoing each other), reported for
/// each file still changing, with the rules of its last fixes, and the file is not written
/// (as ruff's `report_failed_to_converge_error`, which asks for a report too).
fn fix_package_within(
    mut files: Vec<Loaded>,
    context: &[Loaded],
    options: &Options<'_>,
    passes: usize,
) -> Vec<Result<Fixed, FixError>> {
    // The rules whose fixes the last pass applied, per file.
    let mut last_rules: Vec<Vec<&'static str>> = vec![Vec::new(); files.len()];
    let mut initial: Vec<usize> = vec![0; files.len()];
    let mut anchors: Vec<Vec<Anchor>> = vec![Vec::new(); files.len()];
    let mut maps: Vec<ChangeMap> = files.iter().map(|_| ChangeMap::new()).collect();
    let mut failed: Vec<Option<FixError>> = vec![None; files.len()];
    let mut notes: Vec<Vec<String>> = vec![Vec::new(); files.len()];
    let threshold = options.threshold();
    // The findings of the last pass, when it changed nothing: those of the result.
    let mut settled: Option<Vec<Vec<Finding>>> = None;
    // The state the package installs as it was read (once a fix is to be applied), and what
    // the applied fixes may change in it.
    let mut original: Option<fix::proof::Digest> = None;
    let mut allowance = fix::proof::Allowance::default();

    for pass in 0..passes {
        let mut found: Vec<Vec<Finding>> = Vec::with_capacity(files.len());
        let lowered = lower_package(files.iter().chain(context), &rules::Needed);
        let package = PackageContext::new(&lowered, options.declared_services);
        for (i, loaded) in files.iter().enumerate() {
            if failed[i].is_some() {
                found.push(Vec::new());
                continue;
            }
            let findings = file_findings(loaded, &package, &lowered, i, options);
            if pass == 0 {
                initial[i] = findings.len();
                let mut found: Vec<Anchor> =
                    findings.iter().map(|f| Anchor::of(&f.diagnostic)).collect();
                found.sort_by_key(|a| a.range.start);
                anchors[i] = found;
            }
            found.push(findings);
        }
        // The index is built here only if a proof needs it, and freed before the digest of the
        // original is built: built beside the rules, or freed after the digest, its memory is
        // not reused by the digest's, and the peak grows.
        drop(prove(&package, &lowered, &mut found, None));
        allow(&package, &lowered, &found, threshold, &mut allowance);
        if original.is_none()
            && found
                .iter()
                .flatten()
                .any(|f| f.fix.as_ref().is_some_and(|p| p.applicability >= threshold))
        {
            original = Some(digest(&package, &lowered));
        }
        // The models are done with: they are freed while the fixes are planned.
        drop(package);
        for (rules, findings) in last_rules.iter_mut().zip(&found) {
            rules.clear();
            rules.extend(
                findings
                    .iter()
                    .filter(|f| f.fix.as_ref().is_some_and(|p| p.applicability >= threshold))
                    .map(|f| f.diagnostic.code),
            );
            rules.sort_unstable();
            rules.dedup();
        }
        let next: Vec<Option<Vec<Edit>>> = while_freeing(lowered, || {
            files
                .iter()
                .zip(&found)
                .zip(&mut notes)
                .map(|((loaded, findings), notes)| {
                    let changes: Vec<Change> = findings
                        .iter()
                        .filter_map(|f| f.fix.as_ref().filter(|p| p.applicability >= threshold))
                        .flat_map(|p| p.changes.iter().cloned())
                        .collect();
                    // Each file's edits of this pass, and what its planner says of them
                    // together (a component the fixes leave empty, say).
                    let (edits, review) = Planner::new(loaded).plan_reviewed(&changes);
                    if !edits.is_empty() {
                        for note in review.notes.into_iter().chain(review.unsafe_because) {
                            if !notes.contains(&note) {
                                notes.push(note);
                            }
                        }
                    }
                    Some(edits).filter(|edits| !edits.is_empty())
                })
                .collect()
        });
        if next.iter().all(Option::is_none) {
            settled = Some(found);
            break;
        }
        if pass + 1 == passes {
            // The last pass would change something again: no fixed point.
            for (i, edits) in next.iter().enumerate() {
                if edits.is_some() && failed[i].is_none() {
                    let plural = if passes == 1 { "" } else { "es" };
                    failed[i] = Some(FixError(format!(
                        "the fixes did not converge after {passes} pass{plural} (still changing: {})",
                        last_rules[i].join(", ")
                    )));
                }
            }
            break;
        }
        // The findings are freed while the texts are edited and parsed.
        while_freeing(found, || {
            for (i, edits) in next.into_iter().enumerate() {
                if let Some(edits) = edits
                    && let Err(e) = edit_in_place(&mut files[i], &mut maps[i], &edits)
                {
                    failed[i] = Some(e);
                }
            }
        });
    }

    // The proof, again, on what is to be written: the fixed package installs what the original
    // does but for what the applied fixes may change.
    if let Some(original) = original
        && maps.iter().any(|m| !m.is_empty())
    {
        let lowered = lower_package(files.iter().chain(context), &rules::Needed);
        let package = PackageContext::new(&lowered, options.declared_services);
        let fixed = digest(&package, &lowered);
        let beyond: Vec<String> = original
            .differences(&fixed)
            .into_iter()
            .filter(|id| !allowance.allows(id))
            .map(|(key, value)| {
                let spelling = model::state::Spelling {
                    key: key.segments.clone(),
                    value: value.clone(),
                };
                let key = fix::proof::describe_key(key, &spelling);
                match value {
                    None => format!("key `{key}`"),
                    Some(v) => format!("value `{v}` of `{key}`"),
                }
            })
            .collect();
        if let Some(first) = beyond.first() {
            let more = match beyond.len() {
                1 => String::new(),
                n => format!(" (and {} more)", n - 1),
            };
            for (i, map) in maps.iter().enumerate() {
                if !map.is_empty() && failed[i].is_none() {
                    failed[i] = Some(FixError(format!(
                        "a fix changed what the package installs beyond what its rule targets: {first}{more}"
                    )));
                }
            }
        }
    }

    let remaining: Vec<Vec<Diagnostic>> = match settled {
        Some(found) => files
            .iter()
            .zip(found)
            .map(|(loaded, findings)| diagnostics_in_parts(loaded, findings))
            .collect(),
        // Still changing after the last pass: check the result.
        None => check_package(&files, context, options),
    };
    files
        .into_iter()
        .zip(remaining)
        .zip(maps)
        .zip(anchors)
        .enumerate()
        .map(|(i, (((file, remaining), map), anchors))| {
            if let Some(e) = failed[i].take() {
                return Err(e);
            }
            verify(&file, &map)?;
            let (spans, old_bytes) = map.into_parts();
            let notes = if spans.is_empty() {
                Vec::new()
            } else {
                std::mem::take(&mut notes[i])
            };
            Ok(Fixed {
                fixed: initial[i].saturating_sub(remaining.len()),
                spans,
                old_bytes,
                file,
                remaining,
                anchors,
                notes,
            })
        })
        .collect()
}

/// Applies one pass of `edits` to `loaded`'s text in place, records them in `map`, and
/// re-parses the file as the same path, encoding and format. Only what the edits touch is
/// parsed again (see [`syntax::reparse`]). On error the text, tree and map are as they were
/// (the file stays in the package, for the other files' rules).
fn edit_in_place(loaded: &mut Loaded, map: &mut ChangeMap, edits: &[Edit]) -> Result<(), FixError> {
    let conflict = |e: fix::EditConflict| FixError(e.to_string());
    let text = loaded.source.text();
    let recorded = map.recorded(text, edits).map_err(conflict)?;
    // How to put the text back if it does not parse: on the first pass the recorded map holds
    // the original bytes already; later passes keep what their edits replace.
    let undo = if map.is_empty() {
        None
    } else {
        Some(fix::undo_edits(text, edits).map_err(conflict)?)
    };
    loaded
        .source
        .edit_text(|buf, base| fix::apply_edits_in_place(buf, base, edits))
        .map_err(conflict)?;
    let replacements: Vec<syntax::Replacement> = edits
        .iter()
        .map(|e| syntax::Replacement {
            old: e.range,
            len: e.content.len(),
        })
        .collect();
    // The previous tree is moved into the new one.
    let previous = std::mem::replace(&mut loaded.syntax, Syntax::empty());
    match reparsed(loaded, previous, &replacements) {
        Ok(syntax) => {
            loaded.syntax = syntax;
            *map = recorded;
            Ok(())
        }
        Err(e) => {
            // Both fit the edited text by construction, and the text put back parsed before.
            let put_back = match undo {
                Some(undo) => loaded
                    .source
                    .edit_text(|buf, base| fix::apply_edits_in_place(buf, base, &undo))
                    .is_ok(),
                None => {
                    let text = loaded.source.text();
                    changes::original_text(text, recorded.spans(), recorded.old_bytes())
                        .map(|original| {
                            loaded.source.edit_text(|buf, base| {
                                buf.truncate(base);
                                buf.extend_from_slice(&original);
                            })
                        })
                        .is_some()
                }
            };
            if put_back && let Ok(syntax) = syntax::parse(loaded.source.text(), loaded.format) {
                loaded.syntax = syntax;
            }
            Err(e)
        }
    }
}

/// The tree of `loaded`'s edited text, spliced from `previous`, its tree of the text before
/// `replacements`; an error if the text no longer reads as the file's encoding and format.
///
/// Detecting the format scans the whole text (for NUL bytes), so it runs on the pool while the
/// text is re-parsed as the format it had.
fn reparsed(
    loaded: &Loaded,
    previous: Syntax,
    replacements: &[syntax::Replacement],
) -> Result<Syntax, FixError> {
    let source = &loaded.source;
    let text = source.text();
    let changed = || FixError("a fix changed the file's format or encoding".into());
    // An 8-bit text keeps the encoding it was read with whatever its bytes (both write them as
    // they are), unless it now starts with a byte-order mark: it would read as another one.
    if matches!(source.encoding, Encoding::Ansi | Encoding::Utf8)
        && (text.starts_with(UTF16LE_BOM) || text.starts_with(UTF8_BOM))
    {
        return Err(changed());
    }
    let failed = |offset, message| {
        let at = InputError::at(
            source.path.as_str(),
            line_col_as_read(source, offset),
            message,
        );
        FixError(format!("the fixed text does not parse: {at}"))
    };
    // A database's view must still be its database's, with rows removed or cells changed.
    if let Some(db) = source.database() {
        crate::syntax::msi::database::row_changes(&db.view, text)
            .map_err(|e| FixError(format!("the fixed view does not fit the database: {e}")))?;
    }
    let (format, syntax) = rayon::join(
        || detect::detect(text, source.encoding),
        || syntax::reparse(previous, text, loaded.format, replacements),
    );
    let format = format.map_err(|e| failed(e.offset, e.message))?;
    if format != loaded.format {
        return Err(changed());
    }
    syntax.map_err(|e| failed(e.offset, e.message))
}

/// The invariant of RULES.md that the passes do not keep by construction: for scripts, `Total
/// Keys` equal to the number of keys of every Edit Registry item. (The encoding and format are
/// kept: editing in place never changes a file's encoding, and [`reparsed`] refuses a pass
/// whose text reads as another format.)
fn verify(fixed: &Loaded, map: &ChangeMap) -> Result<(), FixError> {
    if let Syntax::Script(after) = &fixed.syntax {
        let text = fixed.source.text();
        // The original is put back together and parsed only when the fixed text has an
        // inconsistent item to compare (not in the usual case).
        let original = || {
            let original = changes::original_text(text, map.spans(), map.old_bytes())?;
            let before = syntax::wise::parse(&original, after.kind).ok()?;
            Some((before, original))
        };
        if let Some(problem) =
            fix::invariants::total_keys_problem((after, text), map.spans(), original)
        {
            return Err(FixError(problem));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_edited_8_bit_text_keeps_its_encoding_unless_it_gains_a_bom() {
        let text = b"REGEDIT4\r\n\r\n[HKEY_LOCAL_MACHINE\\Software\\A]\r\n\"v\"=\"\xE9\"\r\n";
        let mut loaded = load("a.reg", text.to_vec()).unwrap();
        assert_eq!(loaded.source.encoding, Encoding::Ansi);
        let mut map = ChangeMap::new();
        // Valid UTF-8 now, but the file stays what it was read as.
        let e9 = text.iter().position(|&b| b == 0xE9).unwrap();
        let to_utf8 = [Edit::replace(TextRange::new(e9, e9 + 1), "\u{e9}")];
        edit_in_place(&mut loaded, &mut map, &to_utf8).unwrap();
        let utf8 = loaded.source.text().to_vec();
        assert_eq!(loaded.source.encoding, Encoding::Ansi);
        assert_eq!(utf8, fix::apply_edits(text, &to_utf8).unwrap());
        assert!(matches!(loaded.syntax, Syntax::Reg(_)));
        assert_eq!(map.old_bytes(), b"\xE9");
        // Error positions count as when the text is read: characters, as it reads as UTF-8.
        let at = utf8.len() - 1;
        let read = SourceFile::new("a.reg", utf8.clone()).unwrap();
        assert_eq!(read.encoding, Encoding::Utf8);
        assert_eq!(line_col_as_read(&loaded.source, at), read.line_col(at));
        assert_ne!(loaded.source.line_col(at), read.line_col(at));
        // A text that starts with a byte-order mark would read as another encoding: refused,
        // and the text and the map stay as they were.
        for bom in [UTF8_BOM, UTF16LE_BOM] {
            let recorded = map.clone();
            let gain_bom = [Edit::insert(0, bom)];
            let refused = edit_in_place(&mut loaded, &mut map, &gain_bom).unwrap_err();
            assert!(refused.0.contains("format or encoding"), "{refused}");
            assert_eq!(loaded.source.text(), utf8);
            assert_eq!(map, recorded);
        }
    }

    #[test]
    fn a_fixed_text_that_does_not_parse_is_put_back() {
        let text = b"Document Type: WSE\nitem: Remark\n  Text=a\nend\nitem: Remark\nend\n";
        let mut loaded = load("a.wse", text.to_vec()).unwrap();
        let mut map = ChangeMap::new();
        // The first item's `end` line removed: the item never ends.
        let at = text.windows(4).position(|w| w == b"end\n").unwrap();
        let broken = [Edit::delete(TextRange::new(at, at + 4))];
        let error = edit_in_place(&mut loaded, &mut map, &broken).unwrap_err();
        assert!(error.0.contains("does not parse"), "{error}");
        assert_eq!(loaded.source.text(), text);
        assert!(map.is_empty());
        // The tree (taken by the failed re-parse) is the text's again.
        let fresh = load("a.wse", text.to_vec()).unwrap();
        assert_eq!(
            format!("{:?}", loaded.syntax),
            format!("{:?}", fresh.syntax)
        );
    }

    #[test]
    fn a_fix_loop_that_does_not_converge_says_so_and_writes_nothing() {
        // Removing the Enum key takes one pass and a second finds nothing: with room for one
        // pass only, the loop has not reached its fixed point.
        let text = b"REGEDIT4\r\n\r\n[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\Foo]\r\n\"Start\"=dword:00000003\r\n\r\n[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\Foo\\Enum]\r\n\"Count\"=dword:00000001\r\n";
        let file = load("a.reg", text.to_vec()).unwrap();
        let options = Options {
            declared_services: &[],
            unsafe_fixes: false,
            enabled: None,
            keep: None,
        };
        let once = fix_package_within(vec![file.clone()], &[], &options, 1);
        let error = once.into_iter().next().unwrap().unwrap_err();
        assert!(
            error
                .0
                .contains("did not converge after 1 pass (still changing: SVC002)"),
            "{error}"
        );
        let twice = fix_package_within(vec![file], &[], &options, 2);
        let fixed = twice.into_iter().next().unwrap().unwrap();
        assert!(!String::from_utf8_lossy(fixed.file.source.text()).contains("Enum"));
        assert!(fixed.remaining.is_empty());
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
