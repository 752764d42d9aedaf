//! Byte ranges into a source's working text, and line:column lookup for rendering.
//!
//! Every later stage speaks in [`TextRange`]s: plain byte offsets into
//! [`crate::source::SourceFile::text`]. Line and column numbers are computed only when a
//! diagnostic or error is printed, through a [`LineIndex`] built once per file on demand.

use std::fmt;
use std::ops::Range;

/// A half-open byte range `start..end` into a source's working text.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct TextRange {
    pub start: usize,
    pub end: usize,
}

impl TextRange {
    pub const fn new(start: usize, end: usize) -> Self {
        debug_assert!(start <= end);
        Self { start, end }
    }

    pub const fn empty(at: usize) -> Self {
        Self { start: at, end: at }
    }

    pub const fn len(self) -> usize {
        self.end - self.start
    }

    pub const fn is_empty(self) -> bool {
        self.start == self.end
    }

    /// `other` lies entirely inside `self`.
    pub const fn contains_range(self, other: TextRange) -> bool {
        self.start <= other.start && other.end <= self.end
    }

    /// The smallest range covering both.
    pub fn cover(self, other: TextRange) -> TextRange {
        TextRange::new(self.start.min(other.start), self.end.max(other.end))
    }

    pub fn slice(self, text: &[u8]) -> &[u8] {
        &text[self.start..self.end]
    }

    pub const fn as_range(self) -> Range<usize> {
        self.start..self.end
    }
}

impl fmt::Debug for TextRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.start, self.end)
    }
}

impl From<Range<usize>> for TextRange {
    fn from(r: Range<usize>) -> Self {
        TextRange::new(r.start, r.end)
    }
}

/// A 1-based line and column. Columns count characters for UTF-8/UTF-16 sources and bytes
/// for 8-bit ones (where a byte is a character).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct LineCol {
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for LineCol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// Line:column lookup. A line ends after `\n`, after `\r\n`, or after a lone `\r` (regedit
/// accepts all three).
///
/// The index is sparse: it keeps the number of line breaks before every [`LINE_BLOCK`]-byte
/// block, so building it is one vectorised counting pass over the text and it takes 1/128 of the
/// text's size; a lookup counts or scans inside one block. (A line-start table costs a push per
/// line and 4 to 8 bytes per line, as much as a third of the text for short-lined scripts.)
#[derive(Clone, Debug)]
pub struct LineIndex {
    /// `breaks_before[k]`: line breaks that end before byte `k * LINE_BLOCK`.
    breaks_before: Vec<usize>,
    /// Line breaks in the whole text.
    breaks: usize,
    len: usize,
    count_chars: bool,
}

/// Bytes per counted block of a [`LineIndex`].
pub const LINE_BLOCK: usize = 1024;

/// Whether a line break ends at byte `i`: a `\n`, or a `\r` not followed by `\n`.
fn break_ends_at(text: &[u8], i: usize) -> bool {
    match text[i] {
        b'\n' => true,
        b'\r' => text.get(i + 1) != Some(&b'\n'),
        _ => false,
    }
}

/// Line breaks ending in `text[a..b]` (a `\r` at `b - 1` looks at `text[b]`).
pub fn count_line_breaks(text: &[u8], a: usize, b: usize) -> usize {
    if a >= b {
        return 0;
    }
    let body = &text[a..b];
    if memchr::memchr(b'\r', body).is_none() {
        return memchr::memchr_iter(b'\n', body).count();
    }
    // Every byte but the last, with its successor, in fixed-size chunks whose count fits a
    // `u8`, so the comparisons compile to vector instructions.
    const CHUNK: usize = 64;
    let (head, next) = (&body[..body.len() - 1], &body[1..]);
    let breaks = |c: u8, d: u8| u8::from((c == b'\n') | ((c == b'\r') & (d != b'\n')));
    let mut n = 0usize;
    let mut chunks = head.chunks_exact(CHUNK).zip(next.chunks_exact(CHUNK));
    for (c, d) in &mut chunks {
        let (Ok(c), Ok(d)) = (<&[u8; CHUNK]>::try_from(c), <&[u8; CHUNK]>::try_from(d)) else {
            unreachable!("exact chunks")
        };
        let mut count = 0u8;
        for k in 0..CHUNK {
            count += breaks(c[k], d[k]);
        }
        n += usize::from(count);
    }
    let done = head.len() / CHUNK * CHUNK;
    for k in done..head.len() {
        n += usize::from(breaks(head[k], next[k]));
    }
    n + usize::from(break_ends_at(text, b - 1))
}

impl LineIndex {
    /// `count_chars`: columns count UTF-8 characters (true) or bytes (false).
    pub fn new(text: &[u8], count_chars: bool) -> Self {
        Self::build(text, count_chars, None)
    }

    /// [`LineIndex::new`], with a large text's blocks counted on the current rayon pool
    /// first (each block's count depends on its bytes and the byte after it only).
    ///
    /// Not for use under a lock or inside a `OnceLock` initializer: a thread waiting for the
    /// pool may run other pool work meanwhile, which could ask for the same lock.
    pub fn new_on_pool(text: &[u8], count_chars: bool) -> Self {
        let counted: Option<Vec<usize>> = crate::pieces::count_for(text.len()).map(|_| {
            use rayon::prelude::*;
            (0..text.len().div_ceil(LINE_BLOCK))
                .into_par_iter()
                .map(|k| {
                    let at = k * LINE_BLOCK;
                    count_line_breaks(text, at, (at + LINE_BLOCK).min(text.len()))
                })
                .collect()
        });
        Self::build(text, count_chars, counted)
    }

    /// The index, from the blocks' line-break counts when they are `counted` already.
    fn build(text: &[u8], count_chars: bool, counted: Option<Vec<usize>>) -> Self {
        let mut breaks_before = Vec::with_capacity(text.len() / LINE_BLOCK + 1);
        let mut breaks = 0;
        let mut at = 0;
        loop {
            breaks_before.push(breaks);
            if at >= text.len() {
                break;
            }
            let end = (at + LINE_BLOCK).min(text.len());
            breaks += match &counted {
                Some(counts) => counts.get(at / LINE_BLOCK).copied().unwrap_or(0),
                None => count_line_breaks(text, at, end),
            };
            at = end;
            if at == text.len() && at % LINE_BLOCK != 0 {
                break;
            }
        }
        Self {
            breaks_before,
            breaks,
            len: text.len(),
            count_chars,
        }
    }

    /// Line breaks that end before `offset` (at most the text's length).
    fn breaks_before(&self, text: &[u8], offset: usize) -> usize {
        let k = offset / LINE_BLOCK;
        self.breaks_before[k] + count_line_breaks(text, k * LINE_BLOCK, offset)
    }

    /// The start of the line holding `offset`: just after the last line break before it.
    fn start_of_line_at(text: &[u8], offset: usize) -> usize {
        let mut end = offset;
        while let Some(i) = memchr::memrchr2(b'\n', b'\r', &text[..end]) {
            if break_ends_at(text, i) && i < offset {
                return i + 1;
            }
            end = i;
        }
        0
    }

    /// The line:column of `offset` (clamped to the text).
    pub fn line_col(&self, text: &[u8], offset: usize) -> LineCol {
        self.line_at(text, offset).0
    }

    /// The line:column of `offset` (clamped to the text) and the byte range of its line
    /// without the terminator (what [`LineIndex::line_range`] gives for that line, found from
    /// the offset without looking the line up).
    pub fn line_at(&self, text: &[u8], offset: usize) -> (LineCol, TextRange) {
        let offset = offset.min(text.len()).min(self.len);
        let line = self.breaks_before(text, offset);
        let start = Self::start_of_line_at(text, offset);
        let range = Self::content_from(text, start, self.len);
        let column = if self.count_chars {
            // Count UTF-8 lead bytes; invalid bytes count as one character each.
            text[start..offset]
                .iter()
                .filter(|&&b| (b as i8) >= -0x40)
                .count()
        } else {
            offset - start
        };
        let at = LineCol {
            line: line + 1,
            column: column + 1,
        };
        (at, range)
    }

    /// The line starting at `start`, up to its terminator (or `len`).
    fn content_from(text: &[u8], start: usize, len: usize) -> TextRange {
        let mut end = len;
        let mut i = start;
        while let Some(rel) = memchr::memchr2(b'\n', b'\r', &text[i..len]) {
            let at = i + rel;
            if break_ends_at(text, at) {
                end = at + 1;
                break;
            }
            i = at + 1;
        }
        if end > start && text.get(end - 1) == Some(&b'\n') {
            end -= 1;
        }
        if end > start && text.get(end - 1) == Some(&b'\r') {
            end -= 1;
        }
        TextRange::new(start, end)
    }

    /// Byte offset of the start of 1-based `line`.
    pub fn line_start(&self, text: &[u8], line: usize) -> Option<usize> {
        let breaks = line.checked_sub(1)?;
        if breaks == 0 {
            return Some(0);
        }
        if breaks > self.breaks {
            return None;
        }
        // The last block that starts with fewer breaks before it holds the one we want.
        let k = self.breaks_before.partition_point(|&b| b < breaks) - 1;
        let mut seen = self.breaks_before[k];
        let mut i = k * LINE_BLOCK;
        while let Some(rel) = memchr::memchr2(b'\n', b'\r', &text[i..self.len]) {
            let at = i + rel;
            if break_ends_at(text, at) {
                seen += 1;
                if seen == breaks {
                    return Some(at + 1);
                }
            }
            i = at + 1;
        }
        None
    }

    /// The byte range of 1-based `line`, without its terminator.
    pub fn line_range(&self, text: &[u8], line: usize) -> Option<TextRange> {
        let start = self.line_start(text, line)?;
        Some(Self::content_from(text, start, self.len))
    }

    pub fn line_count(&self) -> usize {
        self.breaks + 1
    }
}

/// Splits `text` into physical lines, each with its own terminator (`\r\n`, `\n`, lone `\r`,
/// or none for a last line without one). Concatenating the pieces gives back `text`.
pub fn lines_with_terminators(text: &[u8]) -> impl Iterator<Item = (TextRange, TextRange)> + '_ {
    let mut pos = 0;
    std::iter::from_fn(move || {
        if pos >= text.len() {
            return None;
        }
        let start = pos;
        let (content_end, next) = match memchr::memchr2(b'\n', b'\r', &text[pos..]) {
            Some(rel) => {
                let at = pos + rel;
                if text[at] == b'\r' && text.get(at + 1) == Some(&b'\n') {
                    (at, at + 2)
                } else {
                    (at, at + 1)
                }
            }
            None => (text.len(), text.len()),
        };
        pos = next;
        Some((
            TextRange::new(start, content_end),
            TextRange::new(content_end, next),
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_index_handles_all_terminators() {
        let text = b"a\r\nbc\nd\re";
        let idx = LineIndex::new(text, false);
        assert_eq!(idx.line_count(), 4);
        assert_eq!(idx.line_col(text, 0), LineCol { line: 1, column: 1 });
        assert_eq!(idx.line_col(text, 4), LineCol { line: 2, column: 2 });
        assert_eq!(idx.line_col(text, 8), LineCol { line: 4, column: 1 });
        assert_eq!(idx.line_range(text, 1), Some(TextRange::new(0, 1)));
        assert_eq!(idx.line_range(text, 3), Some(TextRange::new(6, 7)));
    }

    #[test]
    fn columns_count_characters_when_asked() {
        let text = "é=x".as_bytes();
        let idx = LineIndex::new(text, true);
        assert_eq!(idx.line_col(text, 3).column, 3);
        let idx = LineIndex::new(text, false);
        assert_eq!(idx.line_col(text, 3).column, 4);
    }

    /// The dense line-start table the sparse index replaced, as the reference.
    fn naive_starts(text: &[u8]) -> Vec<usize> {
        let mut starts = vec![0];
        let mut i = 0;
        while let Some(pos) = memchr::memchr2(b'\n', b'\r', &text[i..]) {
            let at = i + pos;
            let next = if text[at] == b'\r' && text.get(at + 1) == Some(&b'\n') {
                at + 2
            } else {
                at + 1
            };
            starts.push(next);
            i = next;
        }
        starts
    }

    /// `len` bytes drawn from `alphabet` by a xorshift generator started at `seed`.
    fn pseudo_random_text(mut seed: u64, alphabet: &[u8], len: usize) -> Vec<u8> {
        (0..len)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                alphabet[(seed % alphabet.len() as u64) as usize]
            })
            .collect()
    }

    /// The chunked count agrees with a byte-by-byte count on stretches of texts of every mix
    /// of `\r`, `\n` and other bytes, including a `\r` at a chunk's or the stretch's last
    /// byte.
    #[test]
    fn line_breaks_count_as_byte_by_byte() {
        let naive =
            |text: &[u8], a: usize, b: usize| (a..b).filter(|&i| break_ends_at(text, i)).count();
        for (seed, alphabet) in [
            (1, &b"\r\nab"[..]),
            (2, &b"\r\n"[..]),
            (3, &b"\r"[..]),
            (4, &b"\n\rxyz \t"[..]),
            (5, &b"\r\r\r\r\r\r\r\n"[..]),
        ] {
            let text = pseudo_random_text(seed, alphabet, 5000);
            for (a, b) in [
                (0, 5000),
                (1, 4999),
                (3, 2051),
                (7, 8),
                (8, 16),
                (0, 7),
                (4990, 5000),
            ] {
                assert_eq!(
                    count_line_breaks(&text, a, b),
                    naive(&text, a, b),
                    "seed {seed}, {a}..{b}"
                );
            }
        }
        let crlf = b"x\r\n".repeat(1000);
        assert_eq!(count_line_breaks(&crlf, 0, crlf.len()), 1000);
        // Every byte a break: no chunk's count overflows.
        let all = vec![b'\r'; 4096];
        assert_eq!(count_line_breaks(&all, 0, all.len()), 4096);
    }

    #[test]
    fn counting_blocks_in_parallel_gives_the_same_index() {
        let text = pseudo_random_text(
            0x9E37_79B9_7F4A_7C15,
            b"a\r\n\rx \nq",
            crate::pieces::SPLIT_FROM + 3 * LINE_BLOCK,
        );
        let pool = |n| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(n)
                .build()
                .unwrap()
        };
        let (one, two) = (pool(1), pool(2));
        // Ending inside a block and at a block boundary.
        for len in [text.len() - 1, text.len(), crate::pieces::SPLIT_FROM] {
            let text = &text[..len];
            let serial = one.install(|| LineIndex::new(text, false));
            let parallel = two.install(|| LineIndex::new_on_pool(text, false));
            assert_eq!(parallel.breaks_before, serial.breaks_before, "length {len}");
            assert_eq!(parallel.breaks, serial.breaks, "length {len}");
        }
    }

    #[test]
    fn sparse_index_agrees_with_a_line_start_table() {
        // Pseudo-random text over line-ending-heavy bytes, several blocks long, so lines and
        // `\r\n` pairs straddle block boundaries.
        let mut text = pseudo_random_text(
            0x2545_F491_4F6C_DD1D,
            b"ab\r\n\r\xC3\xA9 ",
            3 * LINE_BLOCK + 77,
        );
        // A `\r\n` pair split by a block boundary.
        text[LINE_BLOCK - 1] = b'\r';
        text[LINE_BLOCK] = b'\n';
        for len in [0, 1, LINE_BLOCK - 1, LINE_BLOCK, LINE_BLOCK + 1, text.len()] {
            let text = &text[..len];
            let starts = naive_starts(text);
            for count_chars in [false, true] {
                let idx = LineIndex::new(text, count_chars);
                assert_eq!(idx.line_count(), starts.len());
                let near_boundary =
                    |o: usize| o % LINE_BLOCK < 3 || o % LINE_BLOCK > LINE_BLOCK - 3;
                for offset in (0..=len).filter(|&o| o % 5 == 0 || near_boundary(o)) {
                    let line = starts.partition_point(|&s| s <= offset) - 1;
                    let start = starts[line];
                    let column = if count_chars {
                        text[start..offset]
                            .iter()
                            .filter(|&&b| (b as i8) >= -0x40)
                            .count()
                    } else {
                        offset - start
                    };
                    let (at, range) = idx.line_at(text, offset);
                    assert_eq!(
                        at,
                        LineCol {
                            line: line + 1,
                            column: column + 1
                        },
                        "offset {offset} of {len}"
                    );
                    assert_eq!(Some(range), idx.line_range(text, line + 1));
                }
                for (k, &start) in starts.iter().enumerate() {
                    assert_eq!(idx.line_start(text, k + 1), Some(start));
                    let end = starts.get(k + 1).copied().unwrap_or(len);
                    let mut content = end;
                    if content > start && text[content - 1] == b'\n' {
                        content -= 1;
                    }
                    if content > start && text[content - 1] == b'\r' {
                        content -= 1;
                    }
                    assert_eq!(
                        idx.line_range(text, k + 1),
                        Some(TextRange::new(start, content))
                    );
                }
                assert_eq!(idx.line_start(text, starts.len() + 1), None);
                assert_eq!(idx.line_start(text, 0), None);
            }
        }
    }

    #[test]
    fn lines_with_terminators_reassemble() {
        let text = b"a\r\n\nb\rc";
        let pieces: Vec<_> = lines_with_terminators(text).collect();
        assert_eq!(pieces.len(), 4);
        let mut out = Vec::new();
        for (content, eol) in &pieces {
            out.extend_from_slice(content.slice(text));
            out.extend_from_slice(eol.slice(text));
        }
        assert_eq!(out, text);
        assert_eq!(pieces[3].1, TextRange::empty(7));
    }
}
