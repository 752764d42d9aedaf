//! Lossless `.reg` parser (`FORMATS.md` §2, grammar in `grammar/reg.ebnf`).
//!
//! The tree is a flat list of [`Record`]s (one per logical line: blank, comment, junk, or a
//! value with its continuation lines) grouped into [`KeyBlock`]s (a key line and every record
//! up to the next key line). Every node is a byte range of the working text; printing the
//! header, the preamble records and each block's key line and records in order gives back the
//! input byte for byte. Nothing is decoded here: names, strings and hex bytes are decoded on
//! demand ([`unescape`], [`HexBytes`]) so parsing a large export allocates only the node lists.
//!
//! Those lists are compact ([`Records`], [`Blocks`]: 20 and 32 bytes a node, `u32` offsets):
//! [`Record`]s and [`KeyBlock`]s are `Copy` values built on access, so the tree of a 100 MB
//! export takes 29 MB instead of 145 MB. Texts of 4 GiB and more are refused.

mod parser;
mod store;
mod values;

use std::borrow::Borrow;

use super::SyntaxError;
use crate::detect::RegVersion;
use crate::text::TextRange;

pub use store::{BlockIter, Blocks, RecordIter, RecordList, Records, Store, StoreIter};
pub use values::{HexBytes, unescape};

/// A parsed registry export.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegFile {
    /// The version named by the header line.
    pub version: RegVersion,
    pub header: Header,
    /// Every record after the header, in file order: the preamble first, then each block's.
    pub records: Records,
    pub blocks: Blocks,
    /// `records[..preamble_end]` come before the first key line; regedit ignores their values.
    pub preamble_end: usize,
    /// Length of the parsed text.
    pub len: usize,
}

/// The header line (`REGEDIT4` or `Windows Registry Editor Version 5.00`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// The line without its terminator.
    pub line: TextRange,
    /// The line with its terminator.
    pub range: TextRange,
    /// The header text itself, without leading blanks or a trailing comment.
    pub name: TextRange,
}

/// A key line and every record up to the next key line (blank lines included).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyBlock {
    pub key: KeyLine,
    /// Indices of the block's records in [`RegFile::records`].
    pub records: RecordRange,
    /// From the key line's start to the end of the block's last record.
    pub range: TextRange,
}

/// A half-open range `start..end` of record indices.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct RecordRange {
    pub start: usize,
    pub end: usize,
}

impl RecordRange {
    pub fn len(self) -> usize {
        self.end.saturating_sub(self.start)
    }

    pub fn is_empty(self) -> bool {
        self.end <= self.start
    }

    pub fn as_range(self) -> std::ops::Range<usize> {
        self.start..self.end
    }
}

/// `[HIVE\sub\key]` or `[-HIVE\sub\key]`, with whatever follows the last `]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyLine {
    /// The line without its terminator.
    pub line: TextRange,
    /// The line with its terminator.
    pub range: TextRange,
    /// `[-…]`: deletes the key tree; its values are ignored by regedit.
    pub delete: bool,
    /// The key path: after `[` (or `[-`) up to the last `]` on the line.
    pub name: TextRange,
    /// The root name: the path up to its first `\` (the whole path when it has none).
    pub root: TextRange,
    /// The subkey after `ROOT\`; empty (at the path's end) when the path has no `\`.
    pub subkey: TextRange,
    /// Everything after the last `]` (ignored by regedit; kept as is).
    pub trailer: TextRange,
}

/// One logical line: a physical line, or a value line with its continuation lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record {
    /// All physical lines of the record with their terminators.
    pub range: TextRange,
    /// The first physical line without its terminator (what a diagnostic underlines).
    pub line: TextRange,
    pub kind: RecordKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordKind {
    /// Only spaces and tabs.
    Blank,
    /// First non-blank character `;`.
    Comment,
    /// Anything regedit ignores that is not a comment: a line starting with another character,
    /// a `"` line that is not `"name"=…`, a `[` line without `]`.
    Junk,
    Value(ValueRecord),
}

/// `"name"=data` or `@=data`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ValueRecord {
    pub name: ValueName,
    pub data: ValueData,
}

/// `@` or a quoted name (`""` names the default value too).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ValueName {
    /// `@`, or the name with its quotes.
    pub range: TextRange,
    /// The quoted name contains `\` escapes (decode with [`unescape`]).
    pub escaped: bool,
}

impl ValueName {
    /// The name without quotes (empty for `@`).
    pub fn inner(&self) -> TextRange {
        if self.range.len() >= 2 {
            TextRange::new(self.range.start + 1, self.range.end - 1)
        } else {
            TextRange::empty(self.range.end)
        }
    }

    /// `@` or `""`.
    pub fn is_default(&self) -> bool {
        self.inner().is_empty()
    }
}

/// Which `hex` form a value uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HexKind {
    /// `hex:` (REG_BINARY).
    Binary,
    /// `hex(N):` with the type number N.
    Typed(u32),
}

impl HexKind {
    /// The registry type number (`hex:` is REG_BINARY, 3).
    pub fn type_number(self) -> u32 {
        match self {
            HexKind::Binary => 3,
            HexKind::Typed(n) => n,
        }
    }
}

/// The data of a value record. `range` always starts at the data's first byte (after `=` and
/// blanks) and ends at its last byte, before any trailing blanks or comment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueData {
    /// `-`: deletes the value.
    Delete { range: TextRange },
    /// `"…"` on one line; `escaped` when it contains `\` escapes.
    String { range: TextRange, escaped: bool },
    /// `dword:` and 1–8 hex digits.
    Dword { range: TextRange, digits: TextRange },
    /// `hex:` / `hex(N):` and comma-separated bytes, possibly over continuation lines.
    /// `bytes` runs from after the `:` to the end of the last byte or comma (continuation
    /// markers, skipped blank and comment lines included); decode with [`HexBytes`].
    Hex {
        range: TextRange,
        kind: HexKind,
        bytes: TextRange,
        count: usize,
    },
    /// A quoted string split over physical lines by a raw line break (regedit writes REG_SZ
    /// data containing a newline this way). Nothing inside is reported or edited.
    MultiLineString { range: TextRange },
    /// Data regedit rejects (unknown type, bad digits, text after the data): the value is
    /// dropped. The record is one physical line, or the hex lines read before the bad one.
    Invalid { range: TextRange },
    /// A hex continuation whose next real line does not start with a hex digit: regedit drops
    /// the value and swallows that line (even a `[key]` line). `swallowed` is that line with
    /// its terminator; it is part of this record.
    Broken {
        range: TextRange,
        swallowed: TextRange,
    },
}

impl ValueData {
    pub fn range(&self) -> TextRange {
        match *self {
            ValueData::Delete { range }
            | ValueData::String { range, .. }
            | ValueData::Dword { range, .. }
            | ValueData::Hex { range, .. }
            | ValueData::MultiLineString { range }
            | ValueData::Invalid { range }
            | ValueData::Broken { range, .. } => range,
        }
    }

    /// Data that sets a value (string, dword, hex); not a deletion, not dropped, not split.
    pub fn is_write(&self) -> bool {
        matches!(
            self,
            ValueData::String { .. } | ValueData::Dword { .. } | ValueData::Hex { .. }
        )
    }

    /// The record must be kept byte for byte: nothing may be edited inside or across it.
    pub fn is_opaque(&self) -> bool {
        matches!(
            self,
            ValueData::MultiLineString { .. } | ValueData::Broken { .. }
        )
    }
}

impl Record {
    pub fn value(&self) -> Option<&ValueRecord> {
        match &self.kind {
            RecordKind::Value(v) => Some(v),
            _ => None,
        }
    }

    pub fn is_blank(&self) -> bool {
        matches!(self.kind, RecordKind::Blank)
    }

    /// A value record that sets a value (see [`ValueData::is_write`]).
    pub fn is_write(&self) -> bool {
        self.value().is_some_and(|v| v.data.is_write())
    }

    /// A record regedit applies to the current key: a write, a deletion, or an opaque record
    /// whose effect is unknown. Removing a key line while such a record stays would move it
    /// under the previous key.
    pub fn binds_to_key(&self) -> bool {
        self.value()
            .is_some_and(|v| !matches!(v.data, ValueData::Invalid { .. }))
    }
}

impl RegFile {
    /// The records before the first key line.
    pub fn preamble(&self) -> &[Record] {
        self.records.head()
    }

    /// The records of `block` (a block of this file, or a reference to one), built into a list
    /// that lends them as a slice. To look at one record use [`RegFile::block_record`]; to walk
    /// them without a list, `records.range(block.records.as_range())`.
    pub fn block_records(&self, block: impl Borrow<KeyBlock>) -> RecordList {
        self.records.list(block.borrow().records.as_range())
    }

    /// Record `i` of `block` (counted from the block's first record), without building the
    /// others: the way to look up one record, where [`RegFile::block_records`] builds all.
    pub fn block_record(&self, block: impl Borrow<KeyBlock>, i: usize) -> Option<Record> {
        let records = block.borrow().records;
        if i >= records.len() {
            return None;
        }
        self.records.get(records.start + i)
    }

    /// The line directly before block `b`'s key line (a `; svcscrub: ignore …` comment, say);
    /// `None` when the header precedes it.
    pub fn record_before_key(&self, b: usize) -> Option<Record> {
        let start = self.blocks.records_start(b)?;
        let before = start.checked_sub(1)?;
        // The previous block's key line sits between its records and ours.
        let prev_key_is_adjacent = b
            .checked_sub(1)
            .and_then(|p| self.blocks.records_start(p))
            .is_some_and(|p| p == start);
        if prev_key_is_adjacent {
            return None;
        }
        self.records.get(before)
    }

    /// The line directly before record `i` of block `b`; `None` when it is the key line.
    pub fn record_before_value(&self, b: usize, i: usize) -> Option<Record> {
        self.block_record(self.blocks.get(b)?, i.checked_sub(1)?)
    }

    /// Concatenates every node's bytes in order; equals the parsed text.
    pub fn print(&self, text: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.len);
        self.for_each_range(|r| out.extend_from_slice(text.get(r.as_range()).unwrap_or(&[])));
        out
    }

    /// Calls `f` with the header, each record and each key line, in file order.
    fn for_each_range(&self, mut f: impl FnMut(TextRange)) {
        f(self.header.range);
        for record in self.preamble() {
            f(record.range);
        }
        for block in &self.blocks {
            f(block.key.range);
            for record in self.records.range(block.records.as_range()) {
                f(record.range);
            }
        }
    }

    /// The nodes tile `0..len` without gaps or overlaps (checked in debug builds after parsing).
    pub fn is_lossless(&self) -> bool {
        let mut pos = 0;
        let mut ok = true;
        self.for_each_range(|r| {
            ok &= r.start == pos && r.end >= r.start;
            pos = r.end;
        });
        ok && pos == self.len
    }
}

/// Parses a `.reg` working text. Fails only when the first line is not a regedit header;
/// every later line parses (unknown lines become [`RecordKind::Junk`]). The header itself
/// decides [`RegFile::version`]; `version` (what `detect` found on the same line) agrees.
pub fn parse(text: &[u8], version: RegVersion) -> Result<RegFile, SyntaxError> {
    let file = parser::parse_file(text, version)?;
    debug_assert!(file.is_lossless(), "reg parse tree does not tile the input");
    Ok(file)
}
