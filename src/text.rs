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

/// Offsets of line starts. A line ends after `\n`, after `\r\n`, or after a lone `\r`
/// (regedit accepts all three).
#[derive(Clone, Debug)]
pub struct LineIndex {
    line_starts: Vec<usize>,
    count_chars: bool,
}

impl LineIndex {
    /// `count_chars`: columns count UTF-8 characters (true) or bytes (false).
    pub fn new(text: &[u8], count_chars: bool) -> Self {
        let mut line_starts = vec![0];
        let mut i = 0;
        while let Some(pos) = memchr::memchr2(b'\n', b'\r', &text[i..]) {
            let at = i + pos;
            let next = if text[at] == b'\r' && text.get(at + 1) == Some(&b'\n') {
                at + 2
            } else {
                at + 1
            };
            line_starts.push(next);
            i = next;
        }
        Self {
            line_starts,
            count_chars,
        }
    }

    /// The line:column of `offset` (clamped to the text).
    pub fn line_col(&self, text: &[u8], offset: usize) -> LineCol {
        let offset = offset.min(text.len());
        let line = self.line_starts.partition_point(|&s| s <= offset) - 1;
        let start = self.line_starts[line];
        let column = if self.count_chars {
            // Count UTF-8 lead bytes; invalid bytes count as one character each.
            text[start..offset]
                .iter()
                .filter(|&&b| (b as i8) >= -0x40)
                .count()
        } else {
            offset - start
        };
        LineCol {
            line: line + 1,
            column: column + 1,
        }
    }

    /// Byte offset of the start of 1-based `line`.
    pub fn line_start(&self, line: usize) -> Option<usize> {
        self.line_starts.get(line.checked_sub(1)?).copied()
    }

    /// The byte range of 1-based `line`, without its terminator.
    pub fn line_range(&self, text: &[u8], line: usize) -> Option<TextRange> {
        let start = self.line_start(line)?;
        let mut end = self.line_start(line + 1).unwrap_or(text.len());
        if end > start && text.get(end - 1) == Some(&b'\n') {
            end -= 1;
        }
        if end > start && text.get(end - 1) == Some(&b'\r') {
            end -= 1;
        }
        Some(TextRange::new(start, end))
    }

    pub fn line_count(&self) -> usize {
        self.line_starts.len()
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
