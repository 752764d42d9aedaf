//! Compact storage of the `.reg` tree: [`Records`] and [`Blocks`] keep each node in a few
//! `u32`/`u16` fields and hand out [`Record`]s and [`KeyBlock`]s built on access.
//!
//! A 100 MB regedit 5 export has about a million records and a quarter of a million key lines;
//! as plain structs of [`TextRange`]s they took 104 and 136 bytes each (145 MB, three times the
//! text). Here a record takes 20 bytes and a block 32 (28 MB): offsets are `u32` (the parser
//! refuses texts of 4 GiB and more) and a record's inner positions are small offsets from its
//! start. A record whose offsets do not fit (a name of 64 KiB, hex data over 64 KiB, a split
//! string or broken continuation, an odd `hex(N)` type) is kept whole in a side list instead,
//! so every input is stored exactly.

use std::ops::{Deref, Range};

use super::{
    HexKind, KeyBlock, KeyLine, Record, RecordKind, RecordRange, ValueData, ValueName, ValueRecord,
};
use crate::text::TextRange;

/// Kinds of a [`Slot`] (`Slot::tag & KIND`).
const BLANK: u8 = 0;
const COMMENT: u8 = 1;
const JUNK: u8 = 2;
const DELETE: u8 = 3;
const STRING: u8 = 4;
const DWORD: u8 = 5;
const HEX: u8 = 6;
const MULTI_LINE: u8 = 7;
const INVALID: u8 = 8;
/// Kept whole in [`Records::wide`].
const WIDE: u8 = 15;
const KIND: u8 = 0x0F;
/// The value name has `\` escapes.
const NAME_ESCAPED: u8 = 0x10;
/// The string data has `\` escapes.
const DATA_ESCAPED: u8 = 0x20;

/// One record in 20 bytes. Positions: `start + name_off` is the name, `name_len` long;
/// `name end + data_off` is the data, `data_len` long. `aux` holds the digit count of a dword,
/// or for hex data the offset of its bytes from the data (`hex:` 4, `hex(N):` 7 and more) in
/// the low nibble and N in the high one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Slot {
    start: u32,
    end: u32,
    line_len: u16,
    name_len: u16,
    data_len: u16,
    count: u16,
    name_off: u8,
    data_off: u8,
    tag: u8,
    aux: u8,
}

impl Slot {
    /// The compact form of `record`, or `None` when something does not fit.
    fn pack(record: &Record) -> Option<Slot> {
        let start = record.range.start;
        let mut slot = Slot {
            start: u32::try_from(start).ok()?,
            end: u32::try_from(record.range.end).ok()?,
            line_len: u16::try_from(record.line.len()).ok()?,
            name_len: 0,
            data_len: 0,
            count: 0,
            name_off: 0,
            data_off: 0,
            tag: 0,
            aux: 0,
        };
        if record.line.start != start {
            return None;
        }
        let value = match record.kind {
            RecordKind::Blank => return Some(Slot { tag: BLANK, ..slot }),
            RecordKind::Comment => {
                return Some(Slot {
                    tag: COMMENT,
                    ..slot
                });
            }
            RecordKind::Junk => return Some(Slot { tag: JUNK, ..slot }),
            RecordKind::Value(value) => value,
        };
        let name = value.name.range;
        let data = value.data.range();
        slot.name_off = u8::try_from(name.start.checked_sub(start)?).ok()?;
        slot.name_len = u16::try_from(name.len()).ok()?;
        slot.data_off = u8::try_from(data.start.checked_sub(name.end)?).ok()?;
        slot.data_len = u16::try_from(data.len()).ok()?;
        slot.tag = if value.name.escaped { NAME_ESCAPED } else { 0 };
        slot.tag |= match value.data {
            ValueData::Delete { .. } => DELETE,
            ValueData::String { escaped, .. } => STRING | if escaped { DATA_ESCAPED } else { 0 },
            ValueData::Dword { range, digits } => {
                if digits.end != range.end {
                    return None;
                }
                slot.aux = u8::try_from(digits.len()).ok()?;
                DWORD
            }
            ValueData::Hex {
                range,
                kind,
                bytes,
                count,
            } => {
                let offset = bytes.start.checked_sub(range.start)?;
                let type_nibble = match kind {
                    HexKind::Binary if offset == 4 => 0,
                    HexKind::Typed(n) if offset > 4 && n < 16 => n as u8,
                    _ => return None,
                };
                if bytes.end != range.end || offset > 15 {
                    return None;
                }
                slot.aux = offset as u8 | type_nibble << 4;
                slot.count = u16::try_from(count).ok()?;
                HEX
            }
            ValueData::MultiLineString { .. } => MULTI_LINE,
            ValueData::Invalid { .. } => INVALID,
            ValueData::Broken { .. } => return None,
        };
        debug_assert_eq!(slot.unpack(), *record, "slot does not give back its record");
        Some(slot)
    }

    /// The record this slot stands for (not for [`WIDE`] slots).
    fn unpack(self) -> Record {
        let start = self.start as usize;
        let range = TextRange::new(start, self.end as usize);
        let line = TextRange::new(start, start + usize::from(self.line_len));
        let kind = match self.tag & KIND {
            BLANK => RecordKind::Blank,
            COMMENT => RecordKind::Comment,
            JUNK => RecordKind::Junk,
            kind => {
                let name_start = start + usize::from(self.name_off);
                let name = TextRange::new(name_start, name_start + usize::from(self.name_len));
                let data_start = name.end + usize::from(self.data_off);
                let data = TextRange::new(data_start, data_start + usize::from(self.data_len));
                let data = match kind {
                    DELETE => ValueData::Delete { range: data },
                    STRING => ValueData::String {
                        range: data,
                        escaped: self.tag & DATA_ESCAPED != 0,
                    },
                    DWORD => ValueData::Dword {
                        range: data,
                        digits: TextRange::new(data.end - usize::from(self.aux), data.end),
                    },
                    HEX => {
                        let offset = usize::from(self.aux & 0x0F);
                        ValueData::Hex {
                            range: data,
                            kind: if offset == 4 {
                                HexKind::Binary
                            } else {
                                HexKind::Typed(u32::from(self.aux >> 4))
                            },
                            bytes: TextRange::new(data.start + offset, data.end),
                            count: usize::from(self.count),
                        }
                    }
                    MULTI_LINE => ValueData::MultiLineString { range: data },
                    _ => ValueData::Invalid { range: data },
                };
                RecordKind::Value(ValueRecord {
                    name: ValueName {
                        range: name,
                        escaped: self.tag & NAME_ESCAPED != 0,
                    },
                    data,
                })
            }
        };
        Record { range, line, kind }
    }
}

/// Every record after the header, in file order, stored compactly (see the module docs).
/// Records are built on access: [`Records::get`] and [`Records::iter`] give them by value.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Records {
    /// The records before the first key line, whole (usually a blank line or a comment or
    /// two), so [`super::RegFile::preamble`] can lend them.
    head: Vec<Record>,
    /// The records after `head`.
    slots: Vec<Slot>,
    /// Records whose slot is [`WIDE`], by index in `slots`, in order.
    wide: Vec<(u32, Record)>,
}

impl Records {
    pub(super) fn with_capacity(records: usize) -> Self {
        Self {
            slots: Vec::with_capacity(records),
            ..Self::default()
        }
    }

    /// Appends a record; `head` says it is still before the first key line.
    pub(super) fn push(&mut self, record: Record, head: bool) {
        if head && self.slots.is_empty() {
            self.head.push(record);
            return;
        }
        let slot = Slot::pack(&record).unwrap_or_else(|| {
            // The parser refuses texts whose offsets do not fit a `u32`, so neither do indices.
            let index = u32::try_from(self.slots.len()).unwrap_or(u32::MAX);
            self.wide.push((index, record));
            Slot {
                start: u32::try_from(record.range.start).unwrap_or(u32::MAX),
                end: u32::try_from(record.range.end).unwrap_or(u32::MAX),
                line_len: 0,
                name_len: 0,
                data_len: 0,
                count: 0,
                name_off: 0,
                data_off: 0,
                tag: WIDE,
                aux: 0,
            }
        });
        self.slots.push(slot);
    }

    pub(super) fn head(&self) -> &[Record] {
        &self.head
    }

    /// Appends `parts` (the records of the pieces of text that follow these, parsed on their
    /// own; none has a preamble), each moved in and freed as it goes.
    pub(super) fn append(&mut self, parts: Vec<Records>) {
        let slots: usize = parts.iter().map(|p| p.slots.len()).sum();
        self.slots.reserve_exact(slots);
        for part in parts {
            debug_assert!(
                part.head.is_empty(),
                "a piece after the first has no preamble"
            );
            let base = u32::try_from(self.slots.len()).unwrap_or(u32::MAX);
            self.wide.extend(
                part.wide
                    .into_iter()
                    .map(|(i, r)| (i.saturating_add(base), r)),
            );
            self.slots.extend(part.slots);
        }
    }

    pub fn len(&self) -> usize {
        self.head.len() + self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Record `i`, built from its compact form.
    pub fn get(&self, i: usize) -> Option<Record> {
        match i.checked_sub(self.head.len()) {
            None => self.head.get(i).copied(),
            Some(s) => self.slots.get(s).map(|&slot| self.unpack(s, slot)),
        }
    }

    fn unpack(&self, s: usize, slot: Slot) -> Record {
        if slot.tag != WIDE {
            return slot.unpack();
        }
        let found = self
            .wide
            .binary_search_by_key(&s, |&(index, _)| index as usize)
            .ok()
            .and_then(|w| self.wide.get(w));
        match found {
            Some(&(_, record)) => record,
            // Every wide slot has its record; this keeps a lookup total all the same.
            None => slot.unpack(),
        }
    }

    pub fn first(&self) -> Option<Record> {
        self.get(0)
    }

    pub fn last(&self) -> Option<Record> {
        self.len().checked_sub(1).and_then(|i| self.get(i))
    }

    /// All records in order.
    pub fn iter(&self) -> RecordIter<'_> {
        self.range(0..self.len())
    }

    /// Records `range` (clamped to the records there are), in order.
    pub fn range(&self, range: Range<usize>) -> RecordIter<'_> {
        let end = range.end.min(self.len());
        StoreIter {
            store: self,
            next: range.start.min(end),
            end,
        }
    }

    /// Records `range` built into a list that lends them (as a slice of [`Record`]s).
    pub fn list(&self, range: Range<usize>) -> RecordList {
        let mut list = RecordList::default();
        for record in self.range(range) {
            list.push(record);
        }
        list
    }

    /// The index of the first record for which `pred` is false, the records being partitioned
    /// (true before false), as [`slice::partition_point`].
    pub fn partition_point(&self, pred: impl FnMut(&Record) -> bool) -> usize {
        partition_point(self, pred)
    }

    /// Heap bytes held (for measurements).
    pub fn heap_bytes(&self) -> usize {
        self.head.capacity() * size_of::<Record>()
            + self.slots.capacity() * size_of::<Slot>()
            + self.wide.capacity() * size_of::<(u32, Record)>()
    }
}

impl<'a> IntoIterator for &'a Records {
    type Item = Record;
    type IntoIter = RecordIter<'a>;

    fn into_iter(self) -> RecordIter<'a> {
        self.iter()
    }
}

/// Records built from their compact form, lent as a slice (what
/// [`super::RegFile::block_records`] returns). Up to [`RecordList::INLINE`] records are held
/// without allocating.
#[derive(Clone, Debug)]
pub struct RecordList {
    len: usize,
    inline: [Record; RecordList::INLINE],
    more: Vec<Record>,
}

impl RecordList {
    /// Records held without a heap allocation: most key blocks of a regedit export have fewer.
    pub const INLINE: usize = 8;

    fn push(&mut self, record: Record) {
        if !self.more.is_empty() {
            self.more.push(record);
        } else if let Some(free) = self.inline.get_mut(self.len) {
            *free = record;
            self.len += 1;
        } else {
            self.more.reserve(self.len * 2);
            self.more.extend_from_slice(&self.inline);
            self.more.push(record);
        }
    }
}

impl Default for RecordList {
    fn default() -> Self {
        let blank = Record {
            range: TextRange::default(),
            line: TextRange::default(),
            kind: RecordKind::Blank,
        };
        Self {
            len: 0,
            inline: [blank; RecordList::INLINE],
            more: Vec::new(),
        }
    }
}

impl Deref for RecordList {
    type Target = [Record];

    fn deref(&self) -> &[Record] {
        if self.more.is_empty() {
            &self.inline[..self.len]
        } else {
            &self.more
        }
    }
}

impl PartialEq for RecordList {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl Eq for RecordList {}

impl IntoIterator for RecordList {
    type Item = Record;
    type IntoIter = std::vec::IntoIter<Record>;

    fn into_iter(mut self) -> Self::IntoIter {
        if self.more.is_empty() {
            self.more.extend_from_slice(&self.inline[..self.len]);
        }
        self.more.into_iter()
    }
}

impl<'a> IntoIterator for &'a RecordList {
    type Item = &'a Record;
    type IntoIter = std::slice::Iter<'a, Record>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// One key block in 32 bytes: its key line's offsets and its first record. Where it ends
/// (records and text) follows from the next block, since blocks and records tile the text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct BlockSlot {
    start: u32,
    line_end: u32,
    end: u32,
    name_start: u32,
    name_end: u32,
    /// Where the root name ends: at the first `\` of the path, or `name_end` without one.
    root_end: u32,
    records_start: u32,
    delete: bool,
}

/// The key blocks, stored compactly (see the module docs). Blocks are built on access:
/// [`Blocks::get`] and [`Blocks::iter`] give them by value ([`KeyBlock`] is `Copy`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Blocks {
    slots: Vec<BlockSlot>,
    /// Records in the file: where the last block's records end.
    records: usize,
    /// The text's length: where the last block ends.
    len: usize,
}

impl Blocks {
    pub(super) fn with_capacity(blocks: usize) -> Self {
        Self {
            slots: Vec::with_capacity(blocks),
            ..Self::default()
        }
    }

    /// Opens a block at `key`, whose records start at record `records_start`. `None` when an
    /// offset does not fit a `u32` (the parser refuses such texts first).
    pub(super) fn push(&mut self, key: &KeyLine, records_start: usize) -> Option<()> {
        let at = |offset: usize| u32::try_from(offset).ok();
        self.slots.push(BlockSlot {
            start: at(key.range.start)?,
            line_end: at(key.line.end)?,
            end: at(key.range.end)?,
            name_start: at(key.name.start)?,
            name_end: at(key.name.end)?,
            root_end: at(key.root.end)?,
            records_start: at(records_start)?,
            delete: key.delete,
        });
        Some(())
    }

    /// Appends `parts` (the blocks of the pieces of text that follow these, parsed on their
    /// own), each with the number of records before its piece.
    pub(super) fn append(&mut self, parts: Vec<(Blocks, usize)>) {
        let slots: usize = parts.iter().map(|(p, _)| p.slots.len()).sum();
        self.slots.reserve_exact(slots);
        for (part, records_before) in parts {
            let base = u32::try_from(records_before).unwrap_or(u32::MAX);
            self.slots
                .extend(part.slots.into_iter().map(|slot| BlockSlot {
                    records_start: slot.records_start.saturating_add(base),
                    ..slot
                }));
        }
    }

    /// Ends the last block: `records` records and `len` bytes of text in the file.
    pub(super) fn close(&mut self, records: usize, len: usize) {
        self.records = records;
        self.len = len;
    }

    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Block `b`, built from its compact form.
    pub fn get(&self, b: usize) -> Option<KeyBlock> {
        let slot = self.slots.get(b)?;
        let next = self.slots.get(b + 1);
        let at = |offset: u32| offset as usize;
        let name = TextRange::new(at(slot.name_start), at(slot.name_end));
        let root = TextRange::new(name.start, at(slot.root_end));
        let subkey = if root.end < name.end {
            TextRange::new(root.end + 1, name.end)
        } else {
            TextRange::empty(name.end)
        };
        let key = KeyLine {
            line: TextRange::new(at(slot.start), at(slot.line_end)),
            range: TextRange::new(at(slot.start), at(slot.end)),
            delete: slot.delete,
            name,
            root,
            subkey,
            // After the `]` that closes the path.
            trailer: TextRange::new(name.end + 1, at(slot.line_end)),
        };
        let records = RecordRange {
            start: at(slot.records_start),
            end: next.map_or(self.records, |n| at(n.records_start)),
        };
        let end = if records.is_empty() {
            key.range.end
        } else {
            next.map_or(self.len, |n| at(n.start))
        };
        Some(KeyBlock {
            key,
            records,
            range: TextRange::new(key.range.start, end),
        })
    }

    pub fn first(&self) -> Option<KeyBlock> {
        self.get(0)
    }

    pub fn last(&self) -> Option<KeyBlock> {
        self.len().checked_sub(1).and_then(|b| self.get(b))
    }

    /// All blocks in order.
    pub fn iter(&self) -> BlockIter<'_> {
        StoreIter {
            store: self,
            next: 0,
            end: self.len(),
        }
    }

    /// The index of the first block for which `pred` is false, the blocks being partitioned
    /// (true before false), as [`slice::partition_point`].
    pub fn partition_point(&self, pred: impl FnMut(&KeyBlock) -> bool) -> usize {
        partition_point(self, pred)
    }

    /// The first record of block `b` (without building the block).
    pub(super) fn records_start(&self, b: usize) -> Option<usize> {
        self.slots.get(b).map(|slot| slot.records_start as usize)
    }

    /// Heap bytes held (for measurements).
    pub fn heap_bytes(&self) -> usize {
        self.slots.capacity() * size_of::<BlockSlot>()
    }
}

impl<'a> IntoIterator for &'a Blocks {
    type Item = KeyBlock;
    type IntoIter = BlockIter<'a>;

    fn into_iter(self) -> BlockIter<'a> {
        self.iter()
    }
}

/// A list of compact entries built into values on access ([`Records`], [`Blocks`]).
pub trait Store {
    type Item;
    fn entry_count(&self) -> usize;
    fn get(&self, i: usize) -> Option<Self::Item>;
}

impl Store for Records {
    type Item = Record;
    fn entry_count(&self) -> usize {
        Records::len(self)
    }
    fn get(&self, i: usize) -> Option<Record> {
        Records::get(self, i)
    }
}

impl Store for Blocks {
    type Item = KeyBlock;
    fn entry_count(&self) -> usize {
        Blocks::len(self)
    }
    fn get(&self, b: usize) -> Option<KeyBlock> {
        Blocks::get(self, b)
    }
}

/// Records by value, in order (see [`Records::range`]).
pub type RecordIter<'a> = StoreIter<'a, Records>;

/// Blocks by value, in order (see [`Blocks::iter`]).
pub type BlockIter<'a> = StoreIter<'a, Blocks>;

/// A [`Store`]'s entries `next..end` by value, in order.
#[derive(Clone, Debug)]
pub struct StoreIter<'a, S> {
    store: &'a S,
    next: usize,
    end: usize,
}

impl<S: Store> Iterator for StoreIter<'_, S> {
    type Item = S::Item;

    fn next(&mut self) -> Option<S::Item> {
        if self.next >= self.end {
            return None;
        }
        self.next += 1;
        self.store.get(self.next - 1)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.end - self.next;
        (n, Some(n))
    }

    fn nth(&mut self, n: usize) -> Option<S::Item> {
        self.next = self.next.saturating_add(n).min(self.end);
        self.next()
    }
}

impl<S: Store> DoubleEndedIterator for StoreIter<'_, S> {
    fn next_back(&mut self) -> Option<S::Item> {
        if self.next >= self.end {
            return None;
        }
        self.end -= 1;
        self.store.get(self.end)
    }
}

impl<S: Store> ExactSizeIterator for StoreIter<'_, S> {}

/// The index of the first entry for which `pred` is false, the entries being partitioned
/// (true before false), as [`slice::partition_point`].
fn partition_point<S: Store>(store: &S, mut pred: impl FnMut(&S::Item) -> bool) -> usize {
    let (mut lo, mut hi) = (0, store.entry_count());
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        match store.get(mid) {
            Some(entry) if pred(&entry) => lo = mid + 1,
            _ => hi = mid,
        }
    }
    lo
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_stay_small() {
        assert_eq!(size_of::<Slot>(), 20);
        assert_eq!(size_of::<BlockSlot>(), 32);
    }
}
