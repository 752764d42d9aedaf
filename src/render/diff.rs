//! The unified diff between a file's original and fixed text, built from the known changed
//! spans (see [`crate::fix::changes`]).
//!
//! Only the lines around the spans are diffed (line by line, with `similar`), so the cost is
//! linear in the file's size whatever the edits. Outside the spans the two texts are the same,
//! so the diff needs the fixed text and only the original's bytes inside the spans
//! ([`write_fixed_diff`]); given the whole original ([`write_unified_diff`]), it first checks
//! that the rest of the file is identical (one `memcmp`).
//!
//! The output is exact: every line carries its own bytes and terminator (a CRLF line stays CRLF,
//! 8-bit bytes pass through), a side whose last line has no newline gets
//! `\ No newline at end of file`, and the headers are git-style (`--- a/PATH`, `+++ b/PATH`), so
//! `patch -p1` and `git apply` reproduce the fixed text from the original. When some lines differ
//! only in their line endings, a line before the headers (ignored by both tools) says which, so a
//! diff never looks empty.

use std::io::{self, Write};

use crate::fix::changes::Span;
use crate::pieces::{COMPARE_FROM, COMPARE_PER_JOB, DIFF_CHUNK, DIFF_FROM};
use crate::source::{Encoding, SourceFile};
use crate::text::TextRange;

/// Lines of context around each change.
const CONTEXT: usize = 3;

/// Above this many line pairs, a region is not diffed line by line: its common leading and
/// trailing lines are kept as context and the rest is shown as replaced (keeps the diff linear).
const MAX_LINE_PAIRS: usize = 1 << 20;

const RED: &str = "\x1b[31m";
const GREEN: &str = "\x1b[32m";
const CYAN: &str = "\x1b[36m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

/// The unified diff of `old` → `new` (plain bytes, for files and pipes). Empty when nothing
/// differs.
pub fn unified_diff(path: &str, old: &[u8], new: &[u8], spans: &[Span]) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = write_unified_diff(&mut out, path, old, new, spans, false);
    out
}

/// [`unified_diff`] with ANSI colours for a terminal: removed lines red, added lines green,
/// hunk headers cyan, file headers bold. Not meant to be applied.
pub fn unified_diff_colored(path: &str, old: &[u8], new: &[u8], spans: &[Span]) -> Vec<u8> {
    let mut out = Vec::new();
    let _ = write_unified_diff(&mut out, path, old, new, spans, true);
    out
}

/// Writes the unified diff of `old` → `new` to `out`; `spans` are the changed spans (from a
/// [`crate::fix::changes::ChangeMap`]). Returns whether anything was written (false when the
/// texts do not differ inside the spans).
///
/// The spans are checked first (one linear pass): if they are out of order, do not fit the
/// texts, or leave a difference outside them, the whole differing middle of the texts is used
/// instead, so the diff is exact whatever the spans.
pub fn write_unified_diff(
    out: &mut dyn Write,
    path: &str,
    old: &[u8],
    new: &[u8],
    spans: &[Span],
    color: bool,
) -> io::Result<bool> {
    let fallback;
    let spans = if spans_fit(old, new, spans) {
        spans
    } else {
        fallback = spans_between(old, new);
        &fallback[..]
    };
    write_diff(out, path, &Texts::whole(old, new, spans), color, DIFF_FROM)
}

/// Writes the unified diff of a fixed text against its original, from the fixed text alone and
/// the original bytes of the changed spans: the same diff [`write_unified_diff`] writes given the
/// original text. Returns whether anything was written.
///
/// `new`: the fixed text; `spans`: the changed spans (sorted, non-overlapping, non-touching in
/// both coordinates, as a [`crate::fix::changes::ChangeMap`] gives them); `old_bytes`: the
/// original bytes of every span's `old` range, concatenated in span order (so its length is the
/// sum of `span.old.len()`). Outside the spans the original is taken to be the fixed text's
/// bytes, which is what the spans promise. Spans that are out of order, outside `new`, whose
/// gaps differ in length between the two texts, or whose old lengths do not add up to
/// `old_bytes` are an [`io::ErrorKind::InvalidInput`] error (nothing is written): without the
/// original there is no exact diff to fall back on.
pub fn write_fixed_diff(
    out: &mut dyn Write,
    path: &str,
    new: &[u8],
    spans: &[Span],
    old_bytes: &[u8],
    color: bool,
) -> io::Result<bool> {
    let texts = Texts::fixed(new, spans, old_bytes).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "the changed spans do not fit the fixed text and the original bytes",
        )
    })?;
    write_diff(out, path, &texts, color, DIFF_FROM)
}

/// The diff of the two texts, building it in chunks on the pool when there are at least
/// `parallel_from` regions or hunks. Chunks are joined in order, so the output is the same
/// either way (a test compares them).
///
/// Only the fixed text's lines are counted. The original's lines are those of the regions'
/// original bytes, and between regions the fixed text's (see [`OldLines`]).
fn write_diff(
    out: &mut dyn Write,
    path: &str,
    texts: &Texts,
    color: bool,
    parallel_from: usize,
) -> io::Result<bool> {
    use rayon::prelude::*;
    // Outside the spans the texts agree; if they agree inside too, nothing changed (passes can
    // undo each other, and separately diffed regions would then show a deletion and an
    // insertion that cancel out).
    if texts.unchanged() {
        return Ok(false);
    }
    let new_lines = Lines::new(texts.new);
    let new_seed = new_lines.seed();
    let extents = extents(texts);
    let read_chunk = |extents: &[Extent]| OldBytes::read(texts, extents, &new_seed.lines());
    let chunks: Vec<OldBytes> = if extents.len() >= parallel_from {
        extents.par_chunks(DIFF_CHUNK).map(read_chunk).collect()
    } else {
        vec![read_chunk(&extents)]
    };
    let mut regions: Vec<Region> = chunks.iter().flat_map(OldBytes::regions).collect();
    drop(extents);
    let old_count = number_old_lines(&mut regions, new_lines.count());
    let diff_chunk = |regions: &[Region]| {
        // Each chunk walks the lines with its own cursor.
        let new_lines = new_seed.lines();
        let (mut changes, mut lines) = (Vec::new(), RegionLines::default());
        for region in regions {
            diff_region(region, &new_lines, &mut lines, &mut changes);
        }
        changes
    };
    let changes: Vec<Change> = if regions.len() >= parallel_from {
        let chunks: Vec<Vec<Change>> = regions.par_chunks(DIFF_CHUNK).map(diff_chunk).collect();
        crate::pieces::concat(chunks)
    } else {
        diff_chunk(&regions)
    };
    if changes.is_empty() {
        return Ok(false);
    }
    let eol_chunk = |changes: &[Change]| {
        let old_lines = OldLines::new(&regions, new_seed.lines());
        eol_changes(&old_lines, &new_seed.lines(), changes)
    };
    let eol_changes: Vec<EolChange> = if changes.len() >= parallel_from {
        let chunks: Vec<Vec<EolChange>> = changes.par_chunks(DIFF_CHUNK).map(eol_chunk).collect();
        crate::pieces::concat(chunks)
    } else {
        eol_chunk(&changes)
    };
    let mut buf = Vec::new();
    write_eol_note(&mut buf, &eol_changes);
    write_headers(&mut buf, path, color);
    let hunks = hunks(&changes, old_count);
    let write_chunk = |hunks: &[Hunk]| {
        let (old_lines, new_lines) = (OldLines::new(&regions, new_seed.lines()), new_seed.lines());
        let mut buf = Vec::new();
        for hunk in hunks {
            let changes = &changes[hunk.changes.clone()];
            write_hunk(&mut buf, &old_lines, &new_lines, changes, hunk, color);
        }
        buf
    };
    if hunks.len() >= parallel_from {
        out.write_all(&buf)?;
        let chunks: Vec<Vec<u8>> = hunks.par_chunks(DIFF_CHUNK).map(write_chunk).collect();
        for chunk in chunks {
            out.write_all(&chunk)?;
        }
    } else {
        buf.extend_from_slice(&write_chunk(&hunks));
        out.write_all(&buf)?;
    }
    Ok(true)
}

/// Writes the diff of a source file against its fixed working text `new_text`, in the form
/// PRODUCT.md promises: the file's own bytes for 8-bit and UTF-8 files (BOM included, so the
/// diff applies to the file), the decoded UTF-8 text for UTF-16 files. `spans` address the
/// working text; `path` names the file in the headers (its machine-facing form, see
/// [`crate::paths`]). Returns whether anything was written.
pub fn write_source_diff(
    out: &mut dyn Write,
    path: &str,
    source: &SourceFile,
    new_text: &[u8],
    spans: &[Span],
    color: bool,
) -> io::Result<bool> {
    match source.encoding {
        Encoding::Utf8Bom => {
            let bom = source.encoding.bom();
            let mut new = Vec::with_capacity(bom.len() + new_text.len());
            new.extend_from_slice(bom);
            new.extend_from_slice(new_text);
            let shifted = shifted(spans, bom.len());
            write_unified_diff(out, path, &source.raw(), &new, &shifted, color)
        }
        _ => write_unified_diff(out, path, source.text(), new_text, spans, color),
    }
}

/// [`write_source_diff`] from the fixed file alone (see [`write_fixed_diff`]): `source` is the
/// FIXED file, `spans` address its working text, `old_bytes` are the original bytes of the
/// spans' `old` ranges in the working text, concatenated in span order. The same diff, in the
/// same form: the file's own bytes for 8-bit and UTF-8 files (for UTF-8 with a BOM, the BOM is
/// on both sides, as no fix changes it), the decoded text for UTF-16 files.
///
/// A UTF-8 file with a BOM is diffed in its bytes, [`SourceFile::raw`]: borrowed when the file
/// keeps its bytes, encoded (a copy of the text behind the BOM) otherwise.
pub fn write_fixed_source_diff(
    out: &mut dyn Write,
    path: &str,
    source: &SourceFile,
    spans: &[Span],
    old_bytes: &[u8],
    color: bool,
) -> io::Result<bool> {
    if source.encoding == Encoding::Database {
        let old = crate::fix::changes::original_text(source.text(), spans, old_bytes).ok_or_else(
            || {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "the changed spans do not fit the fixed text and the original bytes",
                )
            },
        )?;
        if old != source.text() && source.database().is_some_and(|db| db.signed) {
            writeln!(out, "{SIGNED_DATABASE_NOTE}")?;
        }
        return write_database_diff(out, path, &old, source.text(), color);
    }
    match source.encoding {
        Encoding::Utf8Bom => {
            let raw = source.raw();
            let shifted = shifted(spans, source.encoding.bom().len());
            write_fixed_diff(out, path, &raw, &shifted, old_bytes, color)
        }
        _ => write_fixed_diff(out, path, source.text(), spans, old_bytes, color),
    }
}

/// The first line of a database's diff (before the headers, where `patch` and `git apply` ignore
/// it).
pub const DATABASE_DIFF_NOTE: &str = "svcscrub: a Windows Installer database; below, the changed tables as tab-separated .idt text, one table per header (a reading aid: `svcscrub fix` writes the database itself)";

/// The line before a signed database's diff (where `patch` and `git apply` ignore it).
pub const SIGNED_DATABASE_NOTE: &str = "svcscrub: the package is digitally signed: this change invalidates its signature; sign it again";

/// The diff of a database's view `old` → `new`: one diff per changed table, each under
/// `--- a/PATH:Table` / `+++ b/PATH:Table` with line numbers of that table's `.idt` text, after
/// [`DATABASE_DIFF_NOTE`]. Returns whether anything was written.
pub fn write_database_diff(
    out: &mut dyn Write,
    path: &str,
    old: &[u8],
    new: &[u8],
    color: bool,
) -> io::Result<bool> {
    let unreadable = || io::Error::new(io::ErrorKind::InvalidInput, "not a database view");
    let before = crate::syntax::msi::parse(old).map_err(|_| unreadable())?;
    let after = crate::syntax::msi::parse(new).map_err(|_| unreadable())?;
    if before.tables.len() != after.tables.len() {
        return Err(unreadable());
    }
    let mut wrote = false;
    for (a, b) in before.tables.iter().zip(&after.tables) {
        let (old_table, new_table) = (a.range.slice(old), b.range.slice(new));
        if old_table == new_table {
            continue;
        }
        if !wrote {
            writeln!(out, "{DATABASE_DIFF_NOTE}")?;
        }
        let name = format!("{path}:{}", String::from_utf8_lossy(a.name.slice(old)));
        let spans = spans_between(old_table, new_table);
        wrote |= write_unified_diff(out, &name, old_table, new_table, &spans, color)?;
    }
    Ok(wrote)
}

/// The spans moved `by` bytes later on both sides (past a BOM).
fn shifted(spans: &[Span], by: usize) -> Vec<Span> {
    let shift = |r: TextRange| TextRange::new(r.start + by, r.end + by);
    spans
        .iter()
        .map(|s| Span {
            old: shift(s.old),
            new: shift(s.new),
        })
        .collect()
}

/// The single span covering everything between the common prefix and the common suffix of the
/// two texts (none when they are equal). For callers that have no recorded edits.
pub fn spans_between(old: &[u8], new: &[u8]) -> Vec<Span> {
    if old == new {
        return Vec::new();
    }
    let prefix = old.iter().zip(new).take_while(|(a, b)| a == b).count();
    let max_suffix = old.len().min(new.len()) - prefix;
    let suffix = old
        .iter()
        .rev()
        .zip(new.iter().rev())
        .take(max_suffix)
        .take_while(|(a, b)| a == b)
        .count();
    vec![Span {
        old: TextRange::new(prefix, old.len() - suffix),
        new: TextRange::new(prefix, new.len() - suffix),
    }]
}

/// The spans are sorted, inside the texts, and the bytes between them are the same in both
/// texts (one linear comparison).
fn spans_fit(old: &[u8], new: &[u8], spans: &[Span]) -> bool {
    let mut gaps: Vec<(&[u8], &[u8])> = Vec::with_capacity(spans.len() + 1);
    let (mut old_pos, mut new_pos) = (0usize, 0usize);
    for span in spans {
        if span.old.start < old_pos
            || span.new.start < new_pos
            || span.old.start > span.old.end
            || span.new.start > span.new.end
            || span.old.end > old.len()
            || span.new.end > new.len()
        {
            return false;
        }
        gaps.push((&old[old_pos..span.old.start], &new[new_pos..span.new.start]));
        old_pos = span.old.end;
        new_pos = span.new.end;
    }
    gaps.push((&old[old_pos..], &new[new_pos..]));
    all_equal(&gaps, COMPARE_FROM)
}

/// Whether the two slices of every pair are equal; from `parallel_from` bytes in all, compared
/// in pieces on the pool.
fn all_equal(pairs: &[(&[u8], &[u8])], parallel_from: usize) -> bool {
    use rayon::prelude::*;
    if pairs.iter().any(|(a, b)| a.len() != b.len()) {
        return false;
    }
    let total: usize = pairs.iter().map(|(a, _)| a.len()).sum();
    if total < parallel_from {
        return pairs.iter().all(|(a, b)| a == b);
    }
    let pieces: Vec<(&[u8], &[u8])> = pairs
        .iter()
        .flat_map(|&(a, b)| a.chunks(COMPARE_PER_JOB).zip(b.chunks(COMPARE_PER_JOB)))
        .collect();
    pieces.par_iter().all(|(a, b)| a == b)
}

/// Lines of a text; lines end after `\n` only (that is how `patch` and `git` split them: a
/// lone `\r` is part of the line).
///
/// Sparse, as only the lines around the changes are ever looked at: it keeps the number of
/// `\n` before every [`BLOCK`]-byte block (one vectorised count over the text, 1/128 of its
/// size) and the last line looked up, so walking the lines of a hunk in order costs one `\n`
/// search per line and jumping to a hunk one search inside a block.
struct Lines<'a> {
    text: &'a [u8],
    /// `newlines_before[k]`: `\n` bytes in `text[..k * BLOCK]` (shared by the cursors of a
    /// parallel build).
    newlines_before: std::sync::Arc<[usize]>,
    count: usize,
    /// The last line looked up and where it starts.
    cursor: std::cell::Cell<(usize, usize)>,
}

/// Bytes per counted block of [`Lines`].
const BLOCK: usize = 1024;

impl<'a> Lines<'a> {
    fn new(text: &'a [u8]) -> Self {
        Self::counted(text, COMPARE_FROM)
    }

    /// [`Lines::new`], counting the blocks on the pool from `parallel_from` bytes.
    fn counted(text: &'a [u8], parallel_from: usize) -> Self {
        let per_block = newlines_per_block(text, parallel_from);
        let mut newlines_before = Vec::with_capacity(per_block.len() + 1);
        let mut newlines = 0;
        for count in per_block {
            newlines_before.push(newlines);
            newlines += count;
        }
        newlines_before.push(newlines);
        // Every `\n` starts a line except a final one; a text without a final `\n` has one
        // more line.
        let count = if text.is_empty() {
            0
        } else {
            newlines + usize::from(text.last() != Some(&b'\n'))
        };
        Self {
            text,
            newlines_before: newlines_before.into(),
            count,
            cursor: std::cell::Cell::new((0, 0)),
        }
    }

    /// The same lines with a cursor of their own, for another thread.
    fn seed(&self) -> LinesSeed<'a> {
        LinesSeed {
            text: self.text,
            newlines_before: self.newlines_before.clone(),
            count: self.count,
        }
    }

    fn count(&self) -> usize {
        self.count
    }

    /// `\n` bytes in `text[..end]`.
    fn newlines_before(&self, end: usize) -> usize {
        let k = end / BLOCK;
        self.newlines_before[k] + memchr::memchr_iter(b'\n', &self.text[k * BLOCK..end]).count()
    }

    /// The line number (0-based) starting at `pos`, a line start or the text's end.
    fn line_at(&self, pos: usize) -> usize {
        if pos >= self.text.len() {
            return self.count();
        }
        // Lines starting before `pos`: the first, and one after each `\n` before `pos - 1`.
        match pos {
            0 => 0,
            _ => 1 + self.newlines_before(pos - 1),
        }
    }

    /// Where line `n` (0-based, at most [`Lines::count`]) starts; the text's end for `count`.
    fn start(&self, n: usize) -> usize {
        let (at, mut pos) = self.cursor.get();
        let mut line = at;
        if n < at || n - at > 64 {
            if n == 0 {
                return 0;
            }
            // Line `n` starts after the `n`-th `\n`: find its block, then count inside it.
            let k = self.newlines_before.partition_point(|&b| b < n) - 1;
            let skip = n - self.newlines_before[k] - 1;
            let block = &self.text[k * BLOCK..];
            pos = memchr::memchr_iter(b'\n', block)
                .nth(skip)
                .map_or(self.text.len(), |i| k * BLOCK + i + 1);
            line = n;
        }
        while line < n {
            pos = memchr::memchr(b'\n', &self.text[pos..]).map_or(self.text.len(), |i| pos + i + 1);
            line += 1;
        }
        self.cursor.set((n, pos));
        pos
    }

    /// Line `n` (0-based) with its terminator.
    fn line(&self, n: usize) -> &'a [u8] {
        let start = self.start(n);
        let end =
            memchr::memchr(b'\n', &self.text[start..]).map_or(self.text.len(), |i| start + i + 1);
        self.cursor.set((n + 1, end));
        &self.text[start..end]
    }
}

/// The number of `\n` in each [`BLOCK`] of `text`; from `parallel_from` bytes, counted on the
/// pool.
fn newlines_per_block(text: &[u8], parallel_from: usize) -> Vec<usize> {
    use rayon::prelude::*;
    let count = |block: &[u8]| memchr::memchr_iter(b'\n', block).count();
    if text.len() < parallel_from {
        return text.chunks(BLOCK).map(count).collect();
    }
    text.par_chunks(BLOCK)
        .with_min_len(COMPARE_PER_JOB / BLOCK)
        .map(count)
        .collect()
}

/// [`Lines`] without a cursor: what a thread needs to walk them.
#[derive(Clone)]
struct LinesSeed<'a> {
    text: &'a [u8],
    newlines_before: std::sync::Arc<[usize]>,
    count: usize,
}

impl<'a> LinesSeed<'a> {
    fn lines(&self) -> Lines<'a> {
        Lines {
            text: self.text,
            newlines_before: self.newlines_before.clone(),
            count: self.count,
            cursor: std::cell::Cell::new((0, 0)),
        }
    }
}

/// The two texts of a diff: the fixed text, the changed spans, and the original's bytes inside
/// the spans (outside them the original has the fixed text's bytes). The spans fit: sorted,
/// inside both texts, and each gap between them as long in one text as in the other.
struct Texts<'a> {
    new: &'a [u8],
    spans: &'a [Span],
    original: Original<'a>,
    /// The original's length.
    old_len: usize,
}

/// Where the original's bytes inside the spans are.
enum Original<'a> {
    /// In the whole original text.
    Text(&'a [u8]),
    /// Every span's, concatenated in span order: span `i`'s are `bytes[starts[i]..starts[i + 1]]`.
    Spans { bytes: &'a [u8], starts: Vec<usize> },
}

impl<'a> Texts<'a> {
    /// Both texts whole; `spans` fit them (see [`spans_fit`]).
    fn whole(old: &'a [u8], new: &'a [u8], spans: &'a [Span]) -> Self {
        Self {
            new,
            spans,
            original: Original::Text(old),
            old_len: old.len(),
        }
    }

    /// The fixed text and the spans' original bytes (see [`write_fixed_diff`]); `None` when the
    /// spans do not fit them.
    fn fixed(new: &'a [u8], spans: &'a [Span], old_bytes: &'a [u8]) -> Option<Self> {
        let mut starts = Vec::with_capacity(spans.len() + 1);
        let (mut old_pos, mut new_pos, mut at) = (0usize, 0usize, 0usize);
        for span in spans {
            let fits = span.old.start >= old_pos
                && span.new.start >= new_pos
                && span.old.start <= span.old.end
                && span.new.start <= span.new.end
                && span.new.end <= new.len()
                && span.old.start - old_pos == span.new.start - new_pos;
            if !fits {
                return None;
            }
            starts.push(at);
            at = at.checked_add(span.old.len())?;
            (old_pos, new_pos) = (span.old.end, span.new.end);
        }
        starts.push(at);
        let old_len = old_pos.checked_add(new.len() - new_pos)?;
        (at == old_bytes.len()).then_some(Self {
            new,
            spans,
            original: Original::Spans {
                bytes: old_bytes,
                starts,
            },
            old_len,
        })
    }

    /// The original bytes of span `i`.
    fn old_span(&self, i: usize) -> &'a [u8] {
        match &self.original {
            Original::Text(old) => &old[self.spans[i].old.as_range()],
            Original::Spans { bytes, starts } => &bytes[starts[i]..starts[i + 1]],
        }
    }

    /// Appends the original's bytes of an extent to `out`: the fixed text's gaps and the
    /// spans' original bytes, or one piece when the whole original is at hand.
    fn append_old_bytes(&self, extent: &Extent, out: &mut Vec<u8>) {
        if let Original::Text(old) = self.original {
            out.extend_from_slice(&old[extent.old.as_range()]);
            return;
        }
        let mut pos = extent.new.start;
        for i in extent.spans.clone() {
            let span = self.spans[i];
            out.extend_from_slice(&self.new[pos..span.new.start]);
            out.extend_from_slice(self.old_span(i));
            pos = span.new.end;
        }
        out.extend_from_slice(&self.new[pos..extent.new.end]);
    }

    /// Whether the original equals the fixed text. They agree outside the spans, so when they
    /// are as long only the spans' original bytes, and the gaps that moved, are compared with
    /// the fixed text's bytes at the same offsets (one linear pass, on the pool when long).
    fn unchanged(&self) -> bool {
        if self.old_len != self.new.len() {
            return false;
        }
        let new = self.new;
        let mut pairs: Vec<(&[u8], &[u8])> = Vec::with_capacity(2 * self.spans.len());
        let (mut old_pos, mut new_pos) = (0, 0);
        for (i, span) in self.spans.iter().enumerate() {
            // The gap before the span: at `old_pos` in the original, `new_pos` in the fixed text.
            if old_pos != new_pos {
                pairs.push((&new[new_pos..span.new.start], &new[old_pos..span.old.start]));
            }
            pairs.push((self.old_span(i), &new[span.old.as_range()]));
            (old_pos, new_pos) = (span.old.end, span.new.end);
        }
        // The texts are as long, so the last gap did not move.
        all_equal(&pairs, COMPARE_FROM)
    }

    /// The original's byte before the end of span `i` (none at the text's start), given
    /// `before`, the one before the end of span `i - 1`: the span's last original byte, or the
    /// gap's last byte (the same in the fixed text), or when both are empty, `before`.
    fn old_byte_before_end(&self, i: usize, before: Option<u8>) -> Option<u8> {
        let span = self.spans[i];
        if let Some(&last) = self.old_span(i).last() {
            return Some(last);
        }
        let gap_start = i.checked_sub(1).map_or(0, |p| self.spans[p].old.end);
        if span.old.start > gap_start {
            Some(self.new[span.new.start - 1])
        } else {
            before
        }
    }
}

/// A changed region expanded to whole lines on both sides: the bytes before `old.start` and
/// `new.start` are identical, and so are the bytes after `old.end` and `new.end`; `spans` are
/// the spans inside it.
struct Extent {
    old: TextRange,
    new: TextRange,
    spans: std::ops::Range<usize>,
}

/// True when `pos` starts a line (or is the text's start).
fn at_line_start(text: &[u8], pos: usize) -> bool {
    pos == 0 || text[pos - 1] == b'\n'
}

/// Expands spans to whole lines, merging spans that share a line. The lines are found in the
/// fixed text, whose bytes outside the spans are the original's; only whether a span ends a
/// line of the original looks at the original's bytes. Each search is bounded by the
/// neighbouring spans, so the total work is linear in the size of the text.
fn extents(texts: &Texts) -> Vec<Extent> {
    let (new, spans) = (texts.new, texts.spans);
    let mut extents: Vec<Extent> = Vec::new();
    // The original's byte before the end of the span last looked at (every span is, in order).
    let mut old_before = None;
    let mut i = 0;
    while i < spans.len() {
        let (first_index, first) = (i, spans[i]);
        let floor = extents.last().map_or(0, |e| e.new.end);
        let new_start =
            memchr::memrchr(b'\n', &new[floor..first.new.start]).map_or(floor, |p| floor + p + 1);
        let back = first.new.start - new_start;
        let old_start = first.old.start - back;
        let (old_end, new_end) = loop {
            let span = spans[i];
            old_before = texts.old_byte_before_end(i, old_before);
            let old_at_line_start = span.old.end == 0 || old_before == Some(b'\n');
            if old_at_line_start && at_line_start(new, span.new.end) {
                break (span.old.end, span.new.end);
            }
            // The gap after the span is identical in both texts; find the end of its first line.
            let limit = spans.get(i + 1).map_or(new.len(), |next| next.new.start);
            match memchr::memchr(b'\n', &new[span.new.end..limit]) {
                Some(p) => break (span.old.end + p + 1, span.new.end + p + 1),
                None if i + 1 < spans.len() => i += 1,
                None => break (texts.old_len, new.len()),
            }
        };
        match extents.last_mut() {
            // Touching regions are diffed together, so their lines can align.
            Some(last) if last.new.end == new_start => {
                last.old.end = old_end;
                last.new.end = new_end;
                last.spans.end = i + 1;
            }
            _ => extents.push(Extent {
                old: TextRange::new(old_start, old_end),
                new: TextRange::new(new_start, new_end),
                spans: first_index..i + 1,
            }),
        }
        i += 1;
    }
    extents
}

/// The original bytes of a run of extents, read for diffing: every extent's bytes and line
/// starts go into one buffer each, so a chunk of a parallel build allocates a few times, not
/// once per extent (thousands of small allocations on two threads contend for the allocator).
struct OldBytes {
    bytes: Vec<u8>,
    /// Each extent's line starts relative to its first byte, then its length (nothing for an
    /// extent without original bytes).
    starts: Vec<usize>,
    extents: Vec<ReadExtent>,
}

/// Where one extent's original bytes and line starts are in its [`OldBytes`], and its first
/// line and number of lines in the fixed text.
struct ReadExtent {
    bytes: std::ops::Range<usize>,
    starts: std::ops::Range<usize>,
    new_first: usize,
    new_lines: usize,
}

impl OldBytes {
    fn read(texts: &Texts, extents: &[Extent], new_lines: &Lines) -> Self {
        let len = extents.iter().map(|e| e.old.len()).sum();
        let mut out = Self {
            bytes: Vec::with_capacity(len),
            starts: Vec::new(),
            extents: Vec::with_capacity(extents.len()),
        };
        for extent in extents {
            let (bytes_from, starts_from) = (out.bytes.len(), out.starts.len());
            texts.append_old_bytes(extent, &mut out.bytes);
            let old = &out.bytes[bytes_from..];
            out.starts.push(0);
            out.starts.extend(
                memchr::memchr_iter(b'\n', old)
                    .map(|i| i + 1)
                    .filter(|&start| start < old.len()),
            );
            if !old.is_empty() {
                out.starts.push(old.len());
            }
            let new_first = new_lines.line_at(extent.new.start);
            out.extents.push(ReadExtent {
                bytes: bytes_from..out.bytes.len(),
                starts: starts_from..out.starts.len(),
                new_first,
                new_lines: new_lines.line_at(extent.new.end) - new_first,
            });
        }
        out
    }

    /// The regions read, in order; their first lines in the original are numbered later.
    fn regions(&self) -> impl Iterator<Item = Region<'_>> {
        self.extents.iter().map(|e| Region {
            old: &self.bytes[e.bytes.clone()],
            old_starts: &self.starts[e.starts.clone()],
            old_first: 0,
            new_first: e.new_first,
            new_lines: e.new_lines,
        })
    }
}

/// An [`Extent`] read for diffing: its original bytes and where their lines start, and its
/// first line and number of lines in each text.
struct Region<'a> {
    old: &'a [u8],
    /// Where each line of `old` starts, then `old.len()`.
    old_starts: &'a [usize],
    /// The region's first line in the original (see [`number_old_lines`]).
    old_first: usize,
    new_first: usize,
    new_lines: usize,
}

impl<'a> Region<'a> {
    fn old_lines(&self) -> usize {
        self.old_starts.len() - 1
    }

    /// Line `k` of the region's original bytes, with its terminator.
    fn old_line(&self, k: usize) -> &'a [u8] {
        &self.old[self.old_starts[k]..self.old_starts[k + 1]]
    }
}

/// Numbers the regions' lines in the original and returns the original's number of lines.
/// Between regions both texts have the same lines, so an original line's number is the fixed
/// text's less the lines the regions before it added.
fn number_old_lines(regions: &mut [Region], new_count: usize) -> usize {
    let (mut old_sum, mut new_sum) = (0, 0);
    for region in regions {
        region.old_first = region.new_first - new_sum + old_sum;
        old_sum += region.old_lines();
        new_sum += region.new_lines;
    }
    new_count - new_sum + old_sum
}

/// The original's lines, numbered: a region's from its original bytes, the others (the same
/// bytes in both texts) from the fixed text's lines.
struct OldLines<'r, 'a> {
    regions: &'r [Region<'a>],
    new: Lines<'a>,
    /// The region last looked up.
    hint: std::cell::Cell<usize>,
}

impl<'r, 'a: 'r> OldLines<'r, 'a> {
    /// The original's lines, given the regions (numbered) and the fixed text's lines.
    fn new(regions: &'r [Region<'a>], new: Lines<'a>) -> Self {
        Self {
            regions,
            new,
            hint: std::cell::Cell::new(0),
        }
    }

    /// The last region starting at or before original line `n`, if any.
    fn region_before(&self, n: usize) -> Option<usize> {
        let regions = self.regions;
        let is_last_before = |r: usize| {
            regions.get(r).is_some_and(|region| region.old_first <= n)
                && regions.get(r + 1).is_none_or(|next| next.old_first > n)
        };
        let hint = self.hint.get();
        let found = if is_last_before(hint) {
            hint
        } else if is_last_before(hint + 1) {
            hint + 1
        } else {
            regions
                .partition_point(|region| region.old_first <= n)
                .checked_sub(1)?
        };
        self.hint.set(found);
        Some(found)
    }

    /// Original line `n` (0-based) with its terminator.
    fn line(&self, n: usize) -> &'r [u8] {
        let Some(r) = self.region_before(n) else {
            return self.new.line(n);
        };
        let region = &self.regions[r];
        let k = n - region.old_first;
        if k < region.old_lines() {
            region.old_line(k)
        } else {
            self.new
                .line(region.new_first + region.new_lines + (k - region.old_lines()))
        }
    }
}

/// A run of changed lines: `old_len` lines from `old_start` replaced by `new_len` lines from
/// `new_start` (0-based line numbers). Lines between changes correspond one to one.
#[derive(Clone, Copy, Debug)]
struct Change {
    old_start: usize,
    old_len: usize,
    new_start: usize,
    new_len: usize,
}

/// The lines of a region on each side, kept from one region to the next.
#[derive(Default)]
struct RegionLines<'a> {
    old: Vec<&'a [u8]>,
    new: Vec<&'a [u8]>,
}

/// Diffs one region line by line and appends its changes.
fn diff_region<'a>(
    region: &Region<'a>,
    new: &Lines<'a>,
    lines: &mut RegionLines<'a>,
    changes: &mut Vec<Change>,
) {
    let (oa, na) = (region.old_first, region.new_first);
    lines.old.clear();
    lines
        .old
        .extend((0..region.old_lines()).map(|k| region.old_line(k)));
    lines.new.clear();
    lines
        .new
        .extend((na..na + region.new_lines).map(|n| new.line(n)));
    let (old_lines, new_lines) = (&lines.old, &lines.new);
    // Common leading and trailing lines are context whatever the algorithm.
    let head = old_lines
        .iter()
        .zip(new_lines)
        .take_while(|(a, b)| a == b)
        .count();
    let tail = old_lines[head..]
        .iter()
        .rev()
        .zip(new_lines[head..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let old_mid = &old_lines[head..old_lines.len() - tail];
    let new_mid = &new_lines[head..new_lines.len() - tail];
    if old_mid.is_empty() && new_mid.is_empty() {
        return;
    }
    let (o0, n0) = (oa + head, na + head);
    // Lines only removed or only added are one change (what a line diff finds), and so is a
    // region too big to diff line by line.
    if old_mid.is_empty()
        || new_mid.is_empty()
        || old_mid.len().saturating_mul(new_mid.len()) > MAX_LINE_PAIRS
    {
        changes.push(Change {
            old_start: o0,
            old_len: old_mid.len(),
            new_start: n0,
            new_len: new_mid.len(),
        });
        return;
    }
    let mut pending: Option<Change> = None;
    for op in similar::capture_diff_slices(similar::Algorithm::Myers, old_mid, new_mid) {
        let (old_index, old_len, new_index, new_len) = match op {
            similar::DiffOp::Equal { .. } => {
                changes.extend(pending.take());
                continue;
            }
            similar::DiffOp::Delete {
                old_index,
                old_len,
                new_index,
            } => (old_index, old_len, new_index, 0),
            similar::DiffOp::Insert {
                old_index,
                new_index,
                new_len,
            } => (old_index, 0, new_index, new_len),
            similar::DiffOp::Replace {
                old_index,
                old_len,
                new_index,
                new_len,
            } => (old_index, old_len, new_index, new_len),
        };
        match &mut pending {
            Some(change) => {
                change.old_len += old_len;
                change.new_len += new_len;
            }
            None => {
                pending = Some(Change {
                    old_start: o0 + old_index,
                    old_len,
                    new_start: n0 + new_index,
                    new_len,
                });
            }
        }
    }
    changes.extend(pending);
}

/// A hunk: old lines `old_start..old_end`, new lines `new_start..new_end`, and the changes in it.
struct Hunk {
    old_start: usize,
    old_end: usize,
    new_start: usize,
    new_end: usize,
    changes: std::ops::Range<usize>,
}

/// Groups changes into hunks with [`CONTEXT`] lines around them; hunks whose context would
/// overlap or touch are merged.
fn hunks(changes: &[Change], old_count: usize) -> Vec<Hunk> {
    let mut hunks = Vec::new();
    let mut i = 0;
    while i < changes.len() {
        let first = changes[i];
        let mut last = first;
        let mut j = i + 1;
        while j < changes.len()
            && changes[j].old_start - (last.old_start + last.old_len) <= 2 * CONTEXT
        {
            last = changes[j];
            j += 1;
        }
        let before = first.old_start.min(CONTEXT);
        let last_old_end = last.old_start + last.old_len;
        let after = (old_count - last_old_end).min(CONTEXT);
        hunks.push(Hunk {
            old_start: first.old_start - before,
            old_end: last_old_end + after,
            new_start: first.new_start - before,
            new_end: last.new_start + last.new_len + after,
            changes: i..j,
        });
        i = j;
    }
    hunks
}

fn write_headers(buf: &mut Vec<u8>, path: &str, color: bool) {
    // Like git: a name with a space gets a trailing tab so tools know where it ends.
    let tab = if path.contains(' ') { "\t" } else { "" };
    let (on, off) = if color { (BOLD, RESET) } else { ("", "") };
    buf.extend_from_slice(
        format!("{on}--- a/{path}{tab}{off}\n{on}+++ b/{path}{tab}{off}\n").as_bytes(),
    );
}

/// `start,len` of a hunk side; an empty side names the line before it, `,1` is left out.
fn hunk_range(start: usize, end: usize) -> String {
    match end - start {
        0 => format!("{start},0"),
        1 => format!("{}", start + 1),
        len => format!("{},{len}", start + 1),
    }
}

fn write_hunk(
    buf: &mut Vec<u8>,
    old: &OldLines,
    new: &Lines,
    changes: &[Change],
    hunk: &Hunk,
    color: bool,
) {
    let header = format!(
        "@@ -{} +{} @@",
        hunk_range(hunk.old_start, hunk.old_end),
        hunk_range(hunk.new_start, hunk.new_end)
    );
    if color {
        buf.extend_from_slice(format!("{CYAN}{header}{RESET}\n").as_bytes());
    } else {
        buf.extend_from_slice(header.as_bytes());
        buf.push(b'\n');
    }
    let mut pos = hunk.old_start;
    let mut new_pos = hunk.new_start;
    for change in changes {
        // Lines between changes are the same on both sides, one to one.
        debug_assert_eq!(change.old_start - pos, change.new_start - new_pos);
        for n in pos..change.old_start {
            write_line(buf, b' ', old.line(n), None);
        }
        for n in change.old_start..change.old_start + change.old_len {
            write_line(buf, b'-', old.line(n), color.then_some(RED));
        }
        for n in change.new_start..change.new_start + change.new_len {
            write_line(buf, b'+', new.line(n), color.then_some(GREEN));
        }
        pos = change.old_start + change.old_len;
        new_pos = change.new_start + change.new_len;
    }
    debug_assert_eq!(hunk.old_end - pos, hunk.new_end - new_pos);
    for n in pos..hunk.old_end {
        write_line(buf, b' ', old.line(n), None);
    }
}

/// One diff line: the marker, the line's own bytes and terminator; a line without `\n` (the
/// last of its text) is followed by the no-newline marker.
fn write_line(buf: &mut Vec<u8>, marker: u8, line: &[u8], color: Option<&str>) {
    let has_newline = line.last() == Some(&b'\n');
    match color {
        Some(code) => {
            let (content, terminator) = split_terminator(line);
            buf.extend_from_slice(code.as_bytes());
            buf.push(marker);
            buf.extend_from_slice(content);
            buf.extend_from_slice(RESET.as_bytes());
            buf.extend_from_slice(terminator);
        }
        None => {
            buf.push(marker);
            buf.extend_from_slice(line);
        }
    }
    if !has_newline {
        buf.extend_from_slice(b"\n\\ No newline at end of file\n");
    }
}

/// A line's content and its terminator (`\r\n`, `\n`, or a final lone `\r`).
fn split_terminator(line: &[u8]) -> (&[u8], &[u8]) {
    let len = if line.ends_with(b"\r\n") {
        2
    } else if line.ends_with(b"\n") || line.ends_with(b"\r") {
        1
    } else {
        0
    };
    line.split_at(line.len() - len)
}

fn terminator_name(terminator: &[u8]) -> &'static str {
    match terminator {
        b"\r\n" => "CRLF",
        b"\n" => "LF",
        b"\r" => "CR",
        _ => "no newline",
    }
}

/// Says which lines differ only in their line endings (old line numbers, 1-based), on one
/// line before the headers, e.g. `# line endings differ: lines 3-5 (CRLF -> LF), 9 (LF -> no newline)`.
/// A line (1-based, old numbering) whose content stayed and whose terminator changed: from, to.
type EolChange = (usize, &'static str, &'static str);

/// The lines of `changes` that differ only in their terminator, in order.
fn eol_changes(old: &OldLines, new: &Lines, changes: &[Change]) -> Vec<EolChange> {
    let mut found = Vec::new();
    for change in changes.iter().filter(|c| c.old_len == c.new_len) {
        for k in 0..change.old_len {
            let (a, a_end) = split_terminator(old.line(change.old_start + k));
            let (b, b_end) = split_terminator(new.line(change.new_start + k));
            if a != b || a_end == b_end {
                continue;
            }
            let (from, to) = (terminator_name(a_end), terminator_name(b_end));
            found.push((change.old_start + k + 1, from, to));
        }
    }
    found
}

fn write_eol_note(buf: &mut Vec<u8>, eol_changes: &[EolChange]) {
    // (first line, last line, from, to), consecutive lines with the same conversion merged.
    let mut runs: Vec<(usize, usize, &str, &str)> = Vec::new();
    for &(line, from, to) in eol_changes {
        match runs.last_mut() {
            Some(run) if run.1 + 1 == line && run.2 == from && run.3 == to => run.1 = line,
            _ => runs.push((line, line, from, to)),
        }
    }
    if runs.is_empty() {
        return;
    }
    let single = runs.len() == 1 && runs[0].0 == runs[0].1;
    let mut note = String::from(if single {
        "# line ending differs: line "
    } else {
        "# line endings differ: lines "
    });
    for (k, (first, last, from, to)) in runs.iter().enumerate() {
        if k > 0 {
            note.push_str(", ");
        }
        if first == last {
            note.push_str(&format!("{first} ({from} -> {to})"));
        } else {
            note.push_str(&format!("{first}-{last} ({from} -> {to})"));
        }
    }
    note.push('\n');
    buf.extend_from_slice(note.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn diff(old: &[u8], new: &[u8]) -> String {
        String::from_utf8(unified_diff("f.txt", old, new, &spans_between(old, new))).unwrap()
    }

    /// A diff of thousands of changes, built in chunks on the pool, equals the one built on
    /// one thread: changes of every shape (removed, replaced and inserted lines, CRLF/LF
    /// changes, a change at the end without a newline), some close enough that hunks merge.
    #[test]
    fn parallel_build_equals_sequential() {
        let mut old = Vec::new();
        let mut new = Vec::new();
        let mut spans = Vec::new();
        for i in 0..3 * DIFF_CHUNK + 17 {
            let eol: &[u8] = if i % 3 == 0 { b"\r\n" } else { b"\n" };
            let line = format!("Key=SYSTEM\\CurrentControlSet\\Services\\Svc{i}");
            let unchanged = [line.as_bytes(), eol].concat();
            // Mostly far enough apart for hunks of their own, sometimes merging.
            for _ in 0..(i % 9) * 2 {
                old.extend_from_slice(&unchanged);
                new.extend_from_slice(&unchanged);
            }
            let (old_start, new_start) = (old.len(), new.len());
            match i % 4 {
                0 => old.extend_from_slice(&unchanged),
                1 => {
                    old.extend_from_slice(&unchanged);
                    new.extend_from_slice(format!("Key=SYSTEM\\Svc{i}\r\n").as_bytes());
                }
                2 => new.extend_from_slice(b"  Value Name=Start\n"),
                _ => {
                    old.extend_from_slice(line.as_bytes());
                    old.extend_from_slice(b"\r\n");
                    new.extend_from_slice(line.as_bytes());
                    new.extend_from_slice(b"\n");
                }
            }
            spans.push(Span {
                old: TextRange::new(old_start, old.len()),
                new: TextRange::new(new_start, new.len()),
            });
        }
        old.extend_from_slice(b"last");
        new.extend_from_slice(b"last line");
        spans.push(Span {
            old: TextRange::new(old.len() - 4, old.len()),
            new: TextRange::new(new.len() - 9, new.len()),
        });
        assert!(spans_fit(&old, &new, &spans));
        for color in [false, true] {
            let whole = Texts::whole(&old, &new, &spans);
            let build = |parallel_from| build_diff(&whole, color, parallel_from).1;
            let (sequential, parallel) = (build(usize::MAX), build(1));
            assert_eq!(
                String::from_utf8_lossy(&parallel),
                String::from_utf8_lossy(&sequential)
            );
            // From the fixed text and the spans' original bytes alone, on the pool or not.
            let old_bytes = old_bytes_of(&old, &spans);
            for parallel_from in [1, usize::MAX] {
                let fixed = Texts::fixed(&new, &spans, &old_bytes).unwrap();
                let (written, from_fixed) = build_diff(&fixed, color, parallel_from);
                assert!(written);
                assert_eq!(
                    String::from_utf8_lossy(&from_fixed),
                    String::from_utf8_lossy(&sequential)
                );
            }
            let text = String::from_utf8_lossy(&sequential);
            // More regions and hunks than one chunk holds: several chunks were joined.
            assert!(
                text.matches("@@ -").count() > DIFF_CHUNK,
                "hunks: {text:.200}"
            );
            assert!(text.starts_with("# line endings differ: lines 15 (CRLF -> LF)"));
        }
    }

    /// The spans' original bytes, concatenated in span order.
    fn old_bytes_of(old: &[u8], spans: &[Span]) -> Vec<u8> {
        spans
            .iter()
            .flat_map(|span| &old[span.old.as_range()])
            .copied()
            .collect()
    }

    /// [`write_diff`] into a buffer: whether it wrote, and what.
    fn build_diff(texts: &Texts, color: bool, parallel_from: usize) -> (bool, Vec<u8>) {
        let mut out = Vec::new();
        let written = write_diff(&mut out, "f", texts, color, parallel_from).unwrap();
        (written, out)
    }

    /// An original and a fixed text with fitting spans, from segments (an unchanged gap, then a
    /// span's original and fixed bytes) and a last unchanged gap. Empty gaps make spans that
    /// touch, which a [`crate::fix::changes::ChangeMap`] never gives but a caller of
    /// [`write_unified_diff`] may.
    fn texts_of(
        segments: &[(Vec<u8>, Vec<u8>, Vec<u8>)],
        tail: &[u8],
    ) -> (Vec<u8>, Vec<u8>, Vec<Span>) {
        let (mut old, mut new, mut spans) = (Vec::new(), Vec::new(), Vec::new());
        for (gap, old_part, new_part) in segments {
            old.extend_from_slice(gap);
            new.extend_from_slice(gap);
            let (old_start, new_start) = (old.len(), new.len());
            old.extend_from_slice(old_part);
            new.extend_from_slice(new_part);
            spans.push(Span {
                old: TextRange::new(old_start, old.len()),
                new: TextRange::new(new_start, new.len()),
            });
        }
        old.extend_from_slice(tail);
        new.extend_from_slice(tail);
        (old, new, spans)
    }

    fn line_bytes() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
        use proptest::prelude::*;
        proptest::collection::vec(
            prop_oneof![
                3 => Just(b'a'),
                2 => Just(b'b'),
                3 => Just(b'\n'),
                1 => Just(b'\r'),
            ],
            0..7,
        )
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        /// The diff from the fixed text and the spans' original bytes is the diff from both
        /// texts, byte for byte, in colour or not, built on the pool or not, for any spans that
        /// fit (touching, empty, or with the same bytes on both sides too).
        #[test]
        fn fixed_diff_equals_the_diff_of_both_texts(
            segments in proptest::collection::vec((line_bytes(), line_bytes(), line_bytes()), 0..8),
            tail in line_bytes(),
        ) {
            let (old, new, spans) = texts_of(&segments, &tail);
            let old_bytes = old_bytes_of(&old, &spans);
            for color in [false, true] {
                let expected = if color {
                    unified_diff_colored("f", &old, &new, &spans)
                } else {
                    unified_diff("f", &old, &new, &spans)
                };
                proptest::prop_assert_eq!(expected.is_empty(), old == new);
                for parallel_from in [1, usize::MAX] {
                    let whole = Texts::whole(&old, &new, &spans);
                    let fixed = Texts::fixed(&new, &spans, &old_bytes).unwrap();
                    for texts in [whole, fixed] {
                        let (written, out) = build_diff(&texts, color, parallel_from);
                        proptest::prop_assert_eq!(
                            String::from_utf8_lossy(&out),
                            String::from_utf8_lossy(&expected)
                        );
                        proptest::prop_assert_eq!(written, !expected.is_empty());
                    }
                }
            }
        }
    }

    #[test]
    fn spans_that_do_not_fit_the_fixed_text_are_refused() {
        let span = |old: (usize, usize), new: (usize, usize)| Span {
            old: TextRange::new(old.0, old.1),
            new: TextRange::new(new.0, new.1),
        };
        let new = b"a\nB\nc\n";
        assert!(Texts::fixed(new, &[span((2, 3), (2, 3))], b"b").is_some());
        // Old bytes too short or too long.
        assert!(Texts::fixed(new, &[span((2, 3), (2, 3))], b"").is_none());
        assert!(Texts::fixed(new, &[span((2, 3), (2, 3))], b"bb").is_none());
        // Past the fixed text's end.
        assert!(Texts::fixed(new, &[span((5, 7), (5, 7))], b"\nx").is_none());
        // The gap before a span longer on one side.
        assert!(Texts::fixed(new, &[span((1, 2), (2, 3))], b"b").is_none());
        // Out of order.
        let reversed = [span((4, 5), (4, 5)), span((0, 1), (0, 1))];
        assert!(Texts::fixed(new, &reversed, b"ca").is_none());
        let mut out = Vec::new();
        let refused = write_fixed_diff(&mut out, "f", new, &reversed, b"ca", false);
        assert_eq!(refused.unwrap_err().kind(), io::ErrorKind::InvalidInput);
        assert!(out.is_empty());
    }

    #[test]
    fn no_change_no_output() {
        assert_eq!(diff(b"a\nb\n", b"a\nb\n"), "");
        let same = [Span {
            old: TextRange::new(0, 1),
            new: TextRange::new(0, 1),
        }];
        assert!(unified_diff("f", b"a\n", b"a\n", &same).is_empty());
    }

    #[test]
    fn single_line_change() {
        assert_eq!(
            diff(
                b"1\n2\n3\n4\n5\n6\n7\n8\n9\n",
                b"1\n2\n3\n4\nfive\n6\n7\n8\n9\n"
            ),
            "--- a/f.txt\n+++ b/f.txt\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n"
        );
    }

    #[test]
    fn no_newline_marker() {
        assert_eq!(
            diff(b"a\nb", b"a\nc"),
            "--- a/f.txt\n+++ b/f.txt\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+c\n\\ No newline at end of file\n"
        );
    }

    #[test]
    fn eol_only_note() {
        assert_eq!(
            diff(b"a\r\nb\n", b"a\nb\n"),
            "# line ending differs: line 1 (CRLF -> LF)\n--- a/f.txt\n+++ b/f.txt\n@@ -1,2 +1,2 @@\n-a\r\n+a\n b\n"
        );
    }

    #[test]
    fn sparse_lines_agree_with_a_line_start_table() {
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        let mut text: Vec<u8> = (0..3 * BLOCK + 33)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                [b'a', b'\n', b'\r', b'b', b'c'][(x % 5) as usize]
            })
            .collect();
        text[BLOCK - 1] = b'\n';
        for len in [0, 1, BLOCK - 1, BLOCK, BLOCK + 1, text.len()] {
            for last in [None, Some(b'\n'), Some(b'x')] {
                let mut text = text[..len].to_vec();
                text.extend(last);
                let mut starts: Vec<usize> = Vec::new();
                if !text.is_empty() {
                    starts.push(0);
                }
                starts.extend(
                    memchr::memchr_iter(b'\n', &text)
                        .map(|i| i + 1)
                        .filter(|&s| s < text.len()),
                );
                let lines = Lines::new(&text);
                assert_eq!(lines.count(), starts.len());
                let counted_on_the_pool = Lines::counted(&text, 0);
                assert_eq!(counted_on_the_pool.count(), lines.count());
                assert_eq!(counted_on_the_pool.newlines_before, lines.newlines_before);
                for pos in (0..=text.len()).step_by(7) {
                    let expected = if pos >= text.len() {
                        starts.len()
                    } else {
                        starts.partition_point(|&s| s < pos)
                    };
                    assert_eq!(lines.line_at(pos), expected, "pos {pos}");
                }
                // In order, backwards, and jumping around.
                let n = starts.len();
                let order: Vec<usize> = (0..n)
                    .chain((0..n).rev())
                    .chain((0..n).map(|k| k * 7919 % n.max(1)))
                    .collect();
                for k in order {
                    let end = starts.get(k + 1).copied().unwrap_or(text.len());
                    assert_eq!(lines.line(k), &text[starts[k]..end], "line {k}");
                }
            }
        }
    }

    #[test]
    fn comparing_on_the_pool_agrees_with_comparing_in_order() {
        let text: Vec<u8> = (0..5 * COMPARE_PER_JOB as u32)
            .map(|i| (i % 253) as u8)
            .collect();
        let pairs = |a: &[u8], b: &[u8]| {
            // A big gap, small ones, and an empty one, as between spans.
            let cuts = [0, 10, 11, 11, 4000, 3 * COMPARE_PER_JOB + 5, a.len()];
            cuts.windows(2)
                .map(|w| (a[w[0]..w[1]].to_vec(), b[w[0]..w[1]].to_vec()))
                .collect::<Vec<_>>()
        };
        for flip in [
            None,
            Some(0),
            Some(10),
            Some(COMPARE_PER_JOB + 1),
            Some(text.len() - 1),
        ] {
            let mut other = text.clone();
            if let Some(at) = flip {
                other[at] ^= 1;
            }
            let owned = pairs(&text, &other);
            let pairs: Vec<(&[u8], &[u8])> = owned.iter().map(|(a, b)| (&a[..], &b[..])).collect();
            let in_order = pairs.iter().all(|(a, b)| a == b);
            assert_eq!(in_order, flip.is_none());
            assert_eq!(all_equal(&pairs, 0), in_order);
            assert_eq!(all_equal(&pairs, usize::MAX), in_order);
        }
        assert!(!all_equal(&[(b"ab", b"abc")], 0));
    }

    #[test]
    fn hunk_ranges() {
        assert_eq!(hunk_range(0, 0), "0,0");
        assert_eq!(hunk_range(4, 4), "4,0");
        assert_eq!(hunk_range(4, 5), "5");
        assert_eq!(hunk_range(4, 7), "5,3");
    }
}
