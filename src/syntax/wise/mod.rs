//! Lossless WiseScript / SMS Installer parser (`FORMATS.md` §1).
//!
//! The tree is flat arrays of byte ranges into the working text, never copies of it:
//! - [`Document::items`] holds every item (at any depth) in **preorder**, which is file order of
//!   their head lines. An item's index in it is its identity: model origins and the fix planner
//!   address items by it in O(1). A subtree is the contiguous slice `i..item.subtree_end`.
//! - [`Document::props`] holds every property line in file order; each item links its own
//!   properties, so walking them is linear even if a property follows a child item.
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
    props: Vec<Property>,
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

/// One `item: …` … `end` block. Offsets are stored as `u32` (files are limited to 4 GiB) to
/// keep the arrays small: they are the parser's main memory traffic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    head_start: u32,
    head_end: u32,
    name_start: u32,
    name_end: u32,
    end_start: u32,
    end_end: u32,
    /// Nesting level: indentation is `2 * depth` spaces.
    pub depth: u32,
    /// The innermost control-flow region holding this item (0 = top level). Nested items take
    /// their top-level ancestor's region. See `views.rs` for how regions open and close.
    pub block: u32,
    parent: u32,
    subtree_end: u32,
    first_prop: u32,
    prop_count: u32,
    pub kind: ItemKind,
    pub prefix: Prefix,
    /// What this item does to the region structure (only set for active top-level items).
    pub role: BlockRole,
    /// Neither this item nor any ancestor is `remarked`.
    pub active: bool,
}

impl Item {
    /// From the first byte of the head line's indentation through the `end` line's terminator.
    pub fn range(&self) -> TextRange {
        range(self.head_start, self.end_end)
    }

    /// The whole head line, indentation and terminator included.
    pub fn head(&self) -> TextRange {
        range(self.head_start, self.head_end)
    }

    /// `remarked ` / `breakpoint ` with its space; empty (at the `item:` keyword) when absent.
    pub fn prefix_range(&self) -> TextRange {
        // The name follows `item: `, which follows the prefix.
        range(self.head_start + self.depth * 2, self.name_start - 6)
    }

    /// The action name after `item: `, verbatim.
    pub fn name(&self) -> TextRange {
        range(self.name_start, self.name_end)
    }

    /// The whole `end` line, indentation and terminator included.
    pub fn end_line(&self) -> TextRange {
        range(self.end_start, self.end_end)
    }

    /// The head line without indentation and terminator (what a message underlines).
    pub fn head_text(&self) -> TextRange {
        range(self.head_start + self.depth * 2, self.name_end)
    }

    /// Index of the enclosing item in [`Document::items`], `None` at top level.
    pub fn parent(&self) -> Option<u32> {
        (self.parent != NONE).then_some(self.parent)
    }

    /// One past the last item of this subtree: descendants are `self_index + 1..subtree_end`.
    pub fn subtree_end(&self) -> u32 {
        self.subtree_end
    }

    pub fn prop_count(&self) -> u32 {
        self.prop_count
    }

    /// Indentation in spaces.
    pub fn indent(&self) -> usize {
        self.depth as usize * 2
    }
}

/// One `key=value` line (20 bytes: the line start, the `=`, the value end, the link to the
/// owner's next property, and the indentation and terminator length packed together).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Property {
    start: u32,
    /// The first `=`.
    eq: u32,
    value_end: u32,
    /// `indent << 2 | eol_len` (eol_len is 0, 1 or 2).
    shape: u32,
    next: u32,
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
        self.key_bytes(text).eq_ignore_ascii_case(key.as_bytes())
    }
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
    /// Every item in preorder (file order of head lines).
    pub fn items(&self) -> &[Item] {
        &self.items
    }

    pub fn item(&self, index: u32) -> Option<&Item> {
        self.items.get(index as usize)
    }

    /// Every property line in file order.
    pub fn props(&self) -> &[Property] {
        &self.props
    }

    /// Whitespace-only lines (with terminators) in file order.
    pub fn blank_lines(&self) -> &[TextRange] {
        &self.blanks
    }

    /// Length of the text this document was parsed from.
    pub fn text_len(&self) -> usize {
        self.len
    }

    /// The properties of item `index`, in file order.
    pub fn props_of(&self, index: u32) -> PropIter<'_> {
        let next = self.item(index).map_or(NONE, |it| it.first_prop);
        PropIter { doc: self, next }
    }

    /// The first property of item `index` whose key is `key` (ASCII case-insensitive).
    pub fn prop(&self, text: &[u8], index: u32, key: &str) -> Option<&Property> {
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
        // Explicit stack of (item, next own property, next child): no recursion per level.
        let mut stack: Vec<(u32, u32, u32)> = Vec::new();
        for top in self.top_level() {
            out.start_item(self, top, &mut stack);
            while let Some(frame) = stack.last_mut() {
                let (item, prop, child) = *frame;
                let Some(it) = self.item(item) else { break };
                let p = self.props.get(prop as usize);
                let c = self.item(child).filter(|_| child < it.subtree_end);
                match (p, c) {
                    (Some(p), c) if c.is_none_or(|c| p.start < c.head_start) => {
                        frame.1 = p.next;
                        out.emit(p.line());
                    }
                    (_, Some(c)) => {
                        frame.2 = c.subtree_end;
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

    fn start_item(&mut self, doc: &Document, index: u32, stack: &mut Vec<(u32, u32, u32)>) {
        if let Some(it) = doc.item(index) {
            self.emit(it.head());
            stack.push((index, it.first_prop, index + 1));
        }
    }
}

/// See [`Document::props_of`].
pub struct PropIter<'d> {
    doc: &'d Document,
    next: u32,
}

impl<'d> Iterator for PropIter<'d> {
    type Item = &'d Property;

    fn next(&mut self) -> Option<&'d Property> {
        let p = self.doc.props.get(self.next as usize)?;
        self.next = p.next;
        Some(p)
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
