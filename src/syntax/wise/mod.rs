//! Lossless WiseScript / SMS Installer parser (`FORMATS.md` §1).
//!
//! The tree is flat arrays of byte ranges into the working text, never copies of it:
//! - [`Document::items`] holds every item (at any depth) in **preorder**, which is file order of
//!   their head lines. An item's index in it is its identity: model origins and the fix planner
//!   address items by it in O(1). A subtree is the contiguous slice `i..item.subtree_end`.
//! - Property lines are not stored as ranges: an item's own lines are its body (head to `end`
//!   line) minus its children's lines, and each has a two-byte record of its length, terminator
//!   and key length (see [`own_line`]), so [`Document::props_of`] rebuilds the ranges from the
//!   item's position. This keeps the tree at about a third of the text's size.
//! - Blank (whitespace-only) lines, which belong to no item, are kept in a side list.
//!
//! Every physical line is exactly one of: the header, an item head, a property, an `end` line
//! or a blank line, so [`Document::print`] can rebuild the input byte for byte from the tree.
//! The grammar is `grammar/wisescript.ebnf`; each production names its function in [`parser`].

pub mod parser;
mod splice;
mod views;
pub use splice::reparse;

pub use views::{
    BlockRole, EditRegistry, KeyFields, RegKey, RegOp, RegistryForm, RootField, ServiceItem,
    flag_bit, parse_u32,
};

use super::SyntaxError;
use crate::detect::ScriptKind;
use crate::text::TextRange;

/// Sentinel for "no index" in the `u32` links below.
pub(crate) const NONE: u32 = u32::MAX;

/// A parsed script.
#[derive(Clone, Debug)]
pub struct Document {
    pub kind: ScriptKind,
    /// The `Document Type: …` line with its terminator.
    pub header: TextRange,
    items: Vec<Item>,
    /// Two bytes for each line of an item's body that is not a child's: see [`own_line`].
    /// Grouped by item (an item's run starts at `Item::first_line`), in file order within it.
    own_lines: Vec<u16>,
    /// The own lines too long for their record, in file order.
    long_lines: Vec<LongLine>,
    blanks: Vec<TextRange>,
    len: usize,
}

/// `remarked ` (disabled) or `breakpoint ` (debugger mark, still active) before `item:`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Prefix {
    None,
    Remarked,
    Breakpoint,
}

/// The actions the later stages care about, recognised by exact action name. Everything else
/// is [`ItemKind::Other`] and kept as is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ItemKind {
    EditRegistry,
    /// `item: Key`, a child of a nested `Edit Registry`.
    Key,
    CreateService,
    Remark,
    IncludeScript,
    IfWhile,
    ElseIf,
    Else,
    EndBlock,
    CompilerVariableIf,
    CompilerVariableElse,
    CompilerVariableEnd,
    WizardBlock,
    CheckConfiguration,
    CheckFileDirExists,
    DisplayMessage,
    Other,
}

impl ItemKind {
    /// Every kind, in declaration order (the order [`Item`] stores them by).
    const ALL: [ItemKind; 17] = [
        ItemKind::EditRegistry,
        ItemKind::Key,
        ItemKind::CreateService,
        ItemKind::Remark,
        ItemKind::IncludeScript,
        ItemKind::IfWhile,
        ItemKind::ElseIf,
        ItemKind::Else,
        ItemKind::EndBlock,
        ItemKind::CompilerVariableIf,
        ItemKind::CompilerVariableElse,
        ItemKind::CompilerVariableEnd,
        ItemKind::WizardBlock,
        ItemKind::CheckConfiguration,
        ItemKind::CheckFileDirExists,
        ItemKind::DisplayMessage,
        ItemKind::Other,
    ];

    /// Trailing blanks after a name are tolerated (a hand edit), other differences are not.
    pub fn from_name(name: &[u8]) -> ItemKind {
        let end = name
            .iter()
            .rposition(|b| !matches!(b, b' ' | b'\t'))
            .map_or(0, |p| p + 1);
        match &name[..end] {
            b"Edit Registry" => ItemKind::EditRegistry,
            b"Key" => ItemKind::Key,
            b"Create Service" => ItemKind::CreateService,
            b"Remark" => ItemKind::Remark,
            b"Include Script" => ItemKind::IncludeScript,
            b"If/While Statement" => ItemKind::IfWhile,
            b"ElseIf Statement" => ItemKind::ElseIf,
            b"Else Statement" => ItemKind::Else,
            b"End Block" => ItemKind::EndBlock,
            b"Compiler Variable If" => ItemKind::CompilerVariableIf,
            b"Compiler Variable Else" => ItemKind::CompilerVariableElse,
            b"Compiler Variable End" => ItemKind::CompilerVariableEnd,
            b"Wizard Block" => ItemKind::WizardBlock,
            b"Check Configuration" => ItemKind::CheckConfiguration,
            b"Check if File/Dir Exists" => ItemKind::CheckFileDirExists,
            b"Display Message" => ItemKind::DisplayMessage,
            _ => ItemKind::Other,
        }
    }
}

/// One `item: …` … `end` block. Offsets are stored as `u32` (scripts are limited to 1 GiB) and
/// the small fields share one, to keep the array small (32 bytes an item: the tree of a big
/// capture is a third of its size, and every pass over it is a pass over memory).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    head_start: u32,
    /// End of the head line's content (the action name's end), with the length of its
    /// terminator (1 or 2) in the top two bits: offsets take 30 bits.
    name_end_eol: u32,
    end_start: u32,
    end_end: u32,
    /// A nested item's parent (its index in [`Document::items`]); a top-level item's
    /// control-flow region, which its descendants share (see [`Document::block`]).
    link: u32,
    subtree_end: u32,
    /// Where this item's records start in [`Document::own_lines`].
    first_line: u32,
    /// The depth, kind, prefix, role and active flag (see [`Packed`]).
    packed: Packed,
}

/// An item's small fields in one `u32`: the depth in the low 16 bits (a script of at most
/// 1 GiB nests at most 32 768 deep: each level's head line is indented two more spaces), then
/// 5 bits of [`ItemKind`], 2 of [`Prefix`], 3 of [`BlockRole`] and the active flag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Packed(u32);

const KIND_SHIFT: u32 = 16;
const PREFIX_SHIFT: u32 = 21;
const ROLE_SHIFT: u32 = 23;
const ACTIVE_BIT: u32 = 1 << 26;

impl Packed {
    fn new(depth: u32, kind: ItemKind, prefix: Prefix, active: bool) -> Self {
        Self(
            depth.min(u32::from(u16::MAX))
                | (kind as u32) << KIND_SHIFT
                | (prefix as u32) << PREFIX_SHIFT
                | if active { ACTIVE_BIT } else { 0 },
        )
    }

    fn depth(self) -> u32 {
        self.0 & 0xFFFF
    }

    fn kind(self) -> ItemKind {
        ItemKind::ALL
            .get((self.0 >> KIND_SHIFT & 0x1F) as usize)
            .copied()
            .unwrap_or(ItemKind::Other)
    }

    fn prefix(self) -> Prefix {
        Prefix::ALL
            .get((self.0 >> PREFIX_SHIFT & 0x3) as usize)
            .copied()
            .unwrap_or(Prefix::None)
    }

    fn role(self) -> BlockRole {
        BlockRole::ALL
            .get((self.0 >> ROLE_SHIFT & 0x7) as usize)
            .copied()
            .unwrap_or(BlockRole::None)
    }

    fn with_role(self, role: BlockRole) -> Self {
        Self(self.0 & !(0x7 << ROLE_SHIFT) | (role as u32) << ROLE_SHIFT)
    }

    fn active(self) -> bool {
        self.0 & ACTIVE_BIT != 0
    }
}

const OFFSET_BITS: u32 = 30;
const OFFSET_MASK: u32 = (1 << OFFSET_BITS) - 1;

impl Item {
    /// From the first byte of the head line's indentation through the `end` line's terminator.
    pub fn range(&self) -> TextRange {
        range(self.head_start, self.end_end)
    }

    /// The whole head line, indentation and terminator included.
    pub fn head(&self) -> TextRange {
        range(self.head_start, self.head_end())
    }

    fn head_end(&self) -> u32 {
        self.name_end() + (self.name_end_eol >> OFFSET_BITS)
    }

    fn name_end(&self) -> u32 {
        self.name_end_eol & OFFSET_MASK
    }

    /// `remarked ` / `breakpoint ` with its space; empty (at the `item:` keyword) when absent.
    pub fn prefix_range(&self) -> TextRange {
        let at = self.head_start + self.depth() * 2;
        range(at, at + self.prefix().len())
    }

    /// The action name after `item: `, verbatim.
    pub fn name(&self) -> TextRange {
        // The name follows the indentation, the prefix and `item: `.
        let start = self.head_start + self.depth() * 2 + self.prefix().len() + 6;
        range(start, self.name_end())
    }

    /// The whole `end` line, indentation and terminator included.
    pub fn end_line(&self) -> TextRange {
        range(self.end_start, self.end_end)
    }

    /// The head line without indentation and terminator (what a message underlines).
    pub fn head_text(&self) -> TextRange {
        range(self.head_start + self.depth() * 2, self.name_end())
    }

    /// Index of the enclosing item in [`Document::items`], `None` at top level.
    pub fn parent(&self) -> Option<u32> {
        (self.depth() > 0).then_some(self.link)
    }

    /// One past the last item of this subtree: descendants are `self_index + 1..subtree_end`.
    pub fn subtree_end(&self) -> u32 {
        self.subtree_end
    }

    /// Nesting level: indentation is `2 * depth` spaces.
    pub fn depth(&self) -> u32 {
        self.packed.depth()
    }

    /// Indentation in spaces.
    pub fn indent(&self) -> usize {
        self.depth() as usize * 2
    }

    pub fn kind(&self) -> ItemKind {
        self.packed.kind()
    }

    pub fn prefix(&self) -> Prefix {
        self.packed.prefix()
    }

    /// What this item does to the region structure (only set for active top-level items).
    pub fn role(&self) -> BlockRole {
        self.packed.role()
    }

    /// Neither this item nor any ancestor is `remarked`.
    pub fn active(&self) -> bool {
        self.packed.active()
    }
}

impl Prefix {
    /// Every prefix, in declaration order.
    const ALL: [Prefix; 3] = [Prefix::None, Prefix::Remarked, Prefix::Breakpoint];

    /// Length of the prefix with its space.
    fn len(self) -> u32 {
        match self {
            Prefix::None => 0,
            Prefix::Remarked => "remarked ".len() as u32,
            Prefix::Breakpoint => "breakpoint ".len() as u32,
        }
    }
}

/// One `key=value` line. Properties are not stored as such: [`Document::props_of`] makes them
/// on the fly from the tree's line records (the line start, the `=`, the value end, and the
/// indentation and terminator length packed together).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Property {
    start: u32,
    /// The first `=`.
    eq: u32,
    value_end: u32,
    /// `indent << 2 | eol_len` (eol_len is 0, 1 or 2).
    shape: u32,
}

impl Property {
    fn key_start(&self) -> u32 {
        self.start + (self.shape >> 2)
    }

    /// The whole line, indentation and terminator included.
    pub fn line(&self) -> TextRange {
        range(self.start, self.value_end + (self.shape & 3))
    }

    /// Up to the first `=`.
    pub fn key(&self) -> TextRange {
        range(self.key_start(), self.eq)
    }

    /// After the first `=` up to the terminator, verbatim.
    pub fn value(&self) -> TextRange {
        range(self.eq + 1, self.value_end)
    }

    pub fn key_bytes<'t>(&self, text: &'t [u8]) -> &'t [u8] {
        text.get(self.key().as_range()).unwrap_or_default()
    }

    pub fn value_bytes<'t>(&self, text: &'t [u8]) -> &'t [u8] {
        text.get(self.value().as_range()).unwrap_or_default()
    }

    /// `key=value` without indentation and terminator.
    pub fn text_range(&self) -> TextRange {
        range(self.key_start(), self.value_end)
    }

    /// The terminator (`\r\n`, `\n`, or empty at the end of the file).
    pub fn eol(&self) -> TextRange {
        range(self.value_end, self.value_end + (self.shape & 3))
    }

    /// Indentation in spaces.
    pub fn indent(&self) -> usize {
        (self.shape >> 2) as usize
    }

    pub fn key_is(&self, text: &[u8], key: &str) -> bool {
        key_eq(self.key_bytes(text), key)
    }
}

/// ASCII case-insensitive key comparison. Keys are nearly always written as the editor
/// spells them, so the exact comparison (a few word compares) goes first.
#[inline]
pub(crate) fn key_eq(key: &[u8], name: &str) -> bool {
    key == name.as_bytes() || key.eq_ignore_ascii_case(name.as_bytes())
}

fn range(start: u32, end: u32) -> TextRange {
    TextRange::new(start as usize, end as usize)
}

/// Parses a working text whose header [`crate::detect::detect`] has recognised.
pub fn parse(text: &[u8], kind: ScriptKind) -> Result<Document, SyntaxError> {
    let doc = parser::document(text, kind)?;
    debug_assert!(
        doc.print(text) == text,
        "WiseScript tree does not print back"
    );
    Ok(doc)
}

impl Document {
    /// The tree of an empty text: what a file holds while its tree is rebuilt.
    pub fn empty(kind: ScriptKind) -> Self {
        Self {
            kind,
            header: TextRange::empty(0),
            items: Vec::new(),
            own_lines: Vec::new(),
            long_lines: Vec::new(),
            blanks: Vec::new(),
            len: 0,
        }
    }

    /// Every item in preorder (file order of head lines).
    pub fn items(&self) -> &[Item] {
        &self.items
    }

    pub fn item(&self, index: u32) -> Option<&Item> {
        self.items.get(index as usize)
    }

    /// The innermost control-flow region holding item `index` (0 = top level, and for an index
    /// out of range). Nested items are in their top-level ancestor's region. The walk up costs
    /// the item's depth, which its head line's indentation pays for in the text.
    pub fn block(&self, index: u32) -> u32 {
        let mut at = index;
        while let Some(item) = self.items.get(at as usize) {
            match item.parent() {
                Some(parent) => at = parent,
                None => return item.link,
            }
        }
        0
    }

    /// Whitespace-only lines (with terminators) in file order.
    pub fn blank_lines(&self) -> &[TextRange] {
        &self.blanks
    }

    /// Length of the text this document was parsed from.
    pub fn text_len(&self) -> usize {
        self.len
    }

    /// Bytes the tree holds on the heap (allocated capacity), for memory accounting.
    pub fn heap_bytes(&self) -> usize {
        self.items.capacity() * size_of::<Item>()
            + self.own_lines.capacity() * size_of::<u16>()
            + self.long_lines.capacity() * size_of::<LongLine>()
            + self.blanks.capacity() * size_of::<TextRange>()
    }

    /// The properties of item `index`, in file order.
    pub fn props_of(&self, index: u32) -> PropIter<'_> {
        PropIter::new(&self.items, &self.own_lines, &self.long_lines, index)
    }

    /// The first property of item `index` whose key is `key` (ASCII case-insensitive).
    pub fn prop(&self, text: &[u8], index: u32, key: &str) -> Option<Property> {
        self.props_of(index).find(|p| p.key_is(text, key))
    }

    /// Direct children of item `index` (their indices), in order.
    pub fn children(&self, index: u32) -> ChildIter<'_> {
        let (next, end) = self
            .item(index)
            .map_or((0, 0), |it| (index + 1, it.subtree_end));
        ChildIter {
            doc: self,
            next,
            end,
        }
    }

    /// Top-level items (their indices), in order.
    pub fn top_level(&self) -> ChildIter<'_> {
        ChildIter {
            doc: self,
            next: 0,
            end: self.items.len() as u32,
        }
    }

    /// Rebuilds the text by walking the tree (header, then each item's head, its properties
    /// and children in file order, its `end` line; blank lines where they stood). Equal to the
    /// parsed text byte for byte; [`parse`] asserts it in debug builds.
    pub fn print(&self, text: &[u8]) -> Vec<u8> {
        let mut out = Printer {
            text,
            out: Vec::with_capacity(self.len),
            blanks: &self.blanks,
            next_blank: 0,
        };
        out.emit(self.header);
        // Explicit stack of open items: no recursion per level.
        let mut stack: Vec<Frame<'_>> = Vec::new();
        for top in self.top_level() {
            out.start_item(self, top, &mut stack);
            while let Some(frame) = stack.last_mut() {
                let Some(it) = self.item(frame.item) else {
                    break;
                };
                let c = self
                    .item(frame.child)
                    .filter(|_| frame.child < it.subtree_end);
                match (frame.next_prop, c) {
                    (Some(p), c) if c.is_none_or(|c| p.start < c.head_start) => {
                        frame.next_prop = frame.props.next();
                        out.emit(p.line());
                    }
                    (_, Some(c)) => {
                        let child = frame.child;
                        frame.child = c.subtree_end;
                        out.start_item(self, child, &mut stack);
                    }
                    _ => {
                        out.emit(it.end_line());
                        stack.pop();
                    }
                }
            }
        }
        out.emit(TextRange::empty(self.len));
        out.out
    }
}

/// An item being printed: its properties not yet printed, and its next child.
struct Frame<'d> {
    item: u32,
    props: PropIter<'d>,
    next_prop: Option<Property>,
    child: u32,
}

struct Printer<'t> {
    text: &'t [u8],
    out: Vec<u8>,
    blanks: &'t [TextRange],
    next_blank: usize,
}

impl Printer<'_> {
    /// Appends `range`, after any blank lines that stand before it.
    fn emit(&mut self, range: TextRange) {
        while let Some(b) = self.blanks.get(self.next_blank) {
            if b.start >= range.start {
                break;
            }
            self.out
                .extend_from_slice(self.text.get(b.as_range()).unwrap_or_default());
            self.next_blank += 1;
        }
        self.out
            .extend_from_slice(self.text.get(range.as_range()).unwrap_or_default());
    }

    fn start_item<'d>(&mut self, doc: &'d Document, index: u32, stack: &mut Vec<Frame<'d>>) {
        if let Some(it) = doc.item(index) {
            self.emit(it.head());
            let mut props = doc.props_of(index);
            stack.push(Frame {
                item: index,
                next_prop: props.next(),
                props,
                child: index + 1,
            });
        }
    }
}

/// The record of one of an item's own lines (a property or a blank line), two bytes: the content
/// length with indentation (9 bits), whether the terminator is `\r\n` rather than `\n` (1 bit),
/// and the key length after the indentation (6 bits; [`BLANK_LINE`] for a blank line). A line
/// that does not fit (content over 511 bytes, key over 61, no terminator) is [`LONG_LINE`] and
/// has a [`LongLine`] entry.
pub(crate) fn own_line(content_len: usize, eol_len: usize, key: Option<usize>) -> u16 {
    let key = key.map_or(Some(BLANK_LINE), |k| {
        u16::try_from(k).ok().filter(|&k| k < LONG_LINE)
    });
    match (key, u16::try_from(content_len), eol_len) {
        (Some(key), Ok(len), 1 | 2) if len < 512 => len << 7 | (eol_len as u16 - 1) << 6 | key,
        _ => LONG_LINE,
    }
}

pub(crate) const LONG_LINE: u16 = 62;
const BLANK_LINE: u16 = 63;

/// An own line whose record is [`LONG_LINE`], with absolute offsets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct LongLine {
    pub(crate) start: u32,
    /// The first `=`; `NONE` for a blank line.
    pub(crate) eq: u32,
    pub(crate) content_end: u32,
    pub(crate) eol_len: u32,
}

/// See [`Document::props_of`]. Walks the item's own lines from its head to its `end` line with
/// their records, jumping over each child's lines (children are known from the tree) and
/// skipping blank lines.
#[derive(Clone, Debug)]
pub struct PropIter<'d> {
    items: &'d [Item],
    own_lines: &'d [u16],
    long_lines: &'d [LongLine],
    /// Start of the next line, and its record.
    pos: u32,
    line: u32,
    /// Start of the item's `end` line.
    end: u32,
    /// Indentation of the item's properties.
    indent: u32,
    /// The next child not yet passed and where its head starts (`NONE`: no more children),
    /// and one past the item's last descendant.
    child: u32,
    child_start: u32,
    children_end: u32,
}

impl<'d> PropIter<'d> {
    pub(crate) fn new(
        items: &'d [Item],
        own_lines: &'d [u16],
        long_lines: &'d [LongLine],
        index: u32,
    ) -> Self {
        let mut iter = PropIter {
            items,
            own_lines,
            long_lines,
            pos: 0,
            line: 0,
            end: 0,
            indent: 0,
            child: NONE,
            child_start: NONE,
            children_end: 0,
        };
        if let Some(it) = items.get(index as usize) {
            iter.pos = it.head_end();
            iter.line = it.first_line;
            iter.end = it.end_start;
            iter.indent = it.depth() * 2 + 2;
            iter.children_end = it.subtree_end;
            iter.set_child(index + 1);
        }
        iter
    }

    fn set_child(&mut self, child: u32) {
        self.child = child;
        self.child_start = match self.items.get(child as usize) {
            Some(c) if child < self.children_end => c.head_start,
            _ => NONE,
        };
    }

    /// The line at `start`, whose record is [`LONG_LINE`]: `None` if blank. Rare, so kept out
    /// of line to keep [`Iterator::next`] small.
    #[cold]
    #[inline(never)]
    fn long_line(&mut self, start: u32) -> Option<Property> {
        let found = self.long_lines.binary_search_by_key(&start, |l| l.start);
        let Some(l) = found.ok().and_then(|i| self.long_lines.get(i)) else {
            // Not reached for a parsed document.
            self.pos = self.end;
            return None;
        };
        self.pos = l.content_end + l.eol_len;
        (l.eq != NONE).then(|| Property {
            start,
            eq: l.eq,
            value_end: l.content_end,
            shape: self.indent.min(l.eq.saturating_sub(start)) << 2 | l.eol_len,
        })
    }
}

impl Iterator for PropIter<'_> {
    type Item = Property;

    #[inline(always)]
    fn next(&mut self) -> Option<Property> {
        while self.pos < self.end {
            let start = self.pos;
            if start == self.child_start {
                let (pos, next) = self
                    .items
                    .get(self.child as usize)
                    .map_or((self.end, NONE), |c| (c.end_end, c.subtree_end));
                self.pos = pos;
                self.set_child(next);
                continue;
            }
            let Some(&record) = self.own_lines.get(self.line as usize) else {
                // Not reached for a parsed document: every own line has a record.
                self.pos = self.end;
                break;
            };
            self.line += 1;
            let key = u32::from(record & 63);
            if key == u32::from(LONG_LINE) {
                match self.long_line(start) {
                    Some(p) => return Some(p),
                    None => continue,
                }
            }
            let content_len = u32::from(record >> 7);
            let eol = u32::from(record >> 6 & 1) + 1;
            self.pos = start + content_len + eol;
            if key == u32::from(BLANK_LINE) {
                continue;
            }
            return Some(Property {
                start,
                eq: start + self.indent + key,
                value_end: start + content_len,
                shape: self.indent << 2 | eol,
            });
        }
        None
    }
}

/// See [`Document::children`].
pub struct ChildIter<'d> {
    doc: &'d Document,
    next: u32,
    end: u32,
}

impl Iterator for ChildIter<'_> {
    type Item = u32;

    fn next(&mut self) -> Option<u32> {
        if self.next >= self.end {
            return None;
        }
        let index = self.next;
        self.next = self.doc.item(index)?.subtree_end;
        Some(index)
    }
}

/// End of a line's content: before its `\r\n` / `\n` terminator.
pub(crate) fn content_end(text: &[u8], line: TextRange) -> usize {
    let mut end = line.end;
    if end > line.start && text.get(end - 1) == Some(&b'\n') {
        end -= 1;
        if end > line.start && text.get(end - 1) == Some(&b'\r') {
            end -= 1;
        }
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_item_is_32_bytes() {
        assert_eq!(std::mem::size_of::<Item>(), 32);
    }

    /// Every depth a script of at most 1 GiB can have, with every kind, prefix, role and
    /// flag, reads back as stored; setting the role changes nothing else.
    #[test]
    fn packed_fields_read_back_as_stored() {
        for depth in [0, 1, 2, 255, 256, 32_767, 32_768, 65_535] {
            for kind in ItemKind::ALL {
                for prefix in Prefix::ALL {
                    for active in [false, true] {
                        let packed = Packed::new(depth, kind, prefix, active);
                        for role in BlockRole::ALL {
                            let p = packed.with_role(role);
                            assert_eq!(
                                (p.depth(), p.kind(), p.prefix(), p.role(), p.active()),
                                (depth, kind, prefix, role, active)
                            );
                        }
                        assert_eq!(packed.role(), BlockRole::None);
                    }
                }
            }
        }
    }
}
