//! Typed views over the generic tree: control-flow regions, `Edit Registry` keys and
//! `Create Service` items. Views borrow the [`Document`] and return properties or ranges; values
//! are read from the working text passed in, so results can outlive the document.

use super::{Document, Item, ItemKind, LongLine, PropIter, Property, key_eq};
use crate::text::TextRange;

/// Whether bit `bit` of a `Flags=` value is set. Flags are written as a string of `0`/`1`
/// characters, bit 0 being the LAST character (`00000100` has bit 2 set).
pub fn flag_bit(flags: &[u8], bit: usize) -> bool {
    flags.len() > bit && flags.get(flags.len() - 1 - bit) == Some(&b'1')
}

/// What an active top-level item does to the control-flow regions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BlockRole {
    None,
    /// Opens a region that a later `End Block` closes.
    Open,
    /// `ElseIf` / `Else`: closes the current branch and opens the next.
    Branch,
    /// `End Block`.
    Close,
    /// `Compiler Variable If`.
    CompileOpen,
    /// `Compiler Variable Else`.
    CompileBranch,
    /// `Compiler Variable End`.
    CompileClose,
}

impl BlockRole {
    /// Every role, in declaration order (the order [`super::Item`] stores them by).
    pub(super) const ALL: [BlockRole; 7] = [
        BlockRole::None,
        BlockRole::Open,
        BlockRole::Branch,
        BlockRole::Close,
        BlockRole::CompileOpen,
        BlockRole::CompileBranch,
        BlockRole::CompileClose,
    ];
}

// Which items open a region. Control flow is flat: the governed items are not indented, a later
// `End Block` closes the region. `If/While Statement` and `Wizard Block` always open one.
//
// `Check if File/Dir Exists` and `Display Message` open one only when their `Flags=` has bit 2
// set (`00000100`, "start block"); `Check Configuration` opens one unless bit 7 (`10000000`)
// is clear. Evidence (corpus, November 2025): counting active top-level openers against
// `End Block`s, every hypothesis "bit b of the two flag strings" was tried for both items; only
// bit 2 for both balances all ten text scripts with the depth never going negative (the other
// 80 combinations leave files unbalanced). Flags seen: `Check if File/Dir Exists` opens with
// 00000100, 00000101, 01000101, 10000100 and does not with 00000010, 00000011 (the forms with a
// message to show); `Display Message` opens with 00001101, 00100100, 00101101 and does not with
// 00001000, 00100000, 00101000 or no Flags. All 25 active `Check Configuration` items have bit 7
// set and open a region; the only one without it (win32all.wse line 673, Flags=01011111, with
// `Message=`/`Title=` lines, the "show a message and exit" form) is remarked and sits directly
// before the `End Block` of its `Wizard Block`, so it did not open a region when it was active.
//
// Compile-time `Compiler Variable If/Else/End` regions are tracked on their own stack: an
// include body (pywin_body.wse) closes `Compiler Variable` regions its includer opened, which
// must not close run-time regions. Unmatched closers and branches are ignored (a script's
// balance is not our concern); the region ids stay consistent either way.
const START_BLOCK_BIT: usize = 2;
const CHECK_CONFIGURATION_BLOCK_BIT: usize = 7;

fn role_of(kind: ItemKind, flags: Option<&[u8]>) -> BlockRole {
    match kind {
        ItemKind::IfWhile | ItemKind::WizardBlock => BlockRole::Open,
        ItemKind::CheckConfiguration => match flags {
            Some(f) if !flag_bit(f, CHECK_CONFIGURATION_BLOCK_BIT) => BlockRole::None,
            _ => BlockRole::Open,
        },
        ItemKind::CheckFileDirExists | ItemKind::DisplayMessage => {
            if flags.is_some_and(|f| flag_bit(f, START_BLOCK_BIT)) {
                BlockRole::Open
            } else {
                BlockRole::None
            }
        }
        ItemKind::ElseIf | ItemKind::Else => BlockRole::Branch,
        ItemKind::EndBlock => BlockRole::Close,
        ItemKind::CompilerVariableIf => BlockRole::CompileOpen,
        ItemKind::CompilerVariableElse => BlockRole::CompileBranch,
        ItemKind::CompilerVariableEnd => BlockRole::CompileClose,
        _ => BlockRole::None,
    }
}

/// The open control-flow regions while parsing, run-time and compile-time. Each region or
/// branch gets a fresh id; ids grow, so the innermost open region is the larger of the two
/// stacks' tops. A control item itself belongs to the region around it: an `If` and its
/// `End Block` to the enclosing region, an `Else` to the region enclosing its `If`. Nested
/// items share their top-level ancestor's region. Remarked items change nothing.
#[derive(Default)]
pub(super) struct Regions {
    runtime: Vec<u32>,
    compile: Vec<u32>,
    next_id: u32,
}

impl Regions {
    /// Called when top-level item `index` is closed (its properties and subtree are known):
    /// sets its role and the block of it and its descendants.
    pub(super) fn close_top_level(
        &mut self,
        items: &mut [Item],
        own_lines: &[u16],
        long_lines: &[LongLine],
        text: &[u8],
        index: u32,
    ) {
        let Some(item) = items.get(index as usize) else {
            return;
        };
        let role = if !item.active() {
            BlockRole::None
        } else {
            let needs_flags = matches!(
                item.kind(),
                ItemKind::CheckConfiguration
                    | ItemKind::CheckFileDirExists
                    | ItemKind::DisplayMessage
            );
            let flags = needs_flags
                .then(|| {
                    PropIter::new(items, own_lines, long_lines, index)
                        .find(|p| p.key_is(text, "Flags"))
                        .map(|p| p.value_bytes(text))
                })
                .flatten();
            role_of(item.kind(), flags)
        };
        let on_compile = matches!(
            role,
            BlockRole::CompileOpen | BlockRole::CompileBranch | BlockRole::CompileClose
        );
        let stack = if on_compile {
            &mut self.compile
        } else {
            &mut self.runtime
        };
        let push = match role {
            BlockRole::None => false,
            BlockRole::Open | BlockRole::CompileOpen => true,
            // An unmatched Else/ElseIf opens nothing: there is no branch to replace.
            BlockRole::Branch | BlockRole::CompileBranch => stack.pop().is_some(),
            BlockRole::Close | BlockRole::CompileClose => {
                stack.pop();
                false
            }
        };
        let top = |s: &[u32]| s.last().copied().unwrap_or(0);
        let block = top(&self.runtime).max(top(&self.compile));
        if push {
            self.next_id = self.next_id.saturating_add(1);
            let id = self.next_id;
            if on_compile {
                self.compile.push(id);
            } else {
                self.runtime.push(id);
            }
        }
        // Its descendants read the region from it (see `Document::block`).
        if let Some(item) = items.get_mut(index as usize) {
            item.link = block;
            item.packed = item.packed.with_role(role);
        }
    }
}

/// The three shapes of an `Edit Registry` item (`FORMATS.md` §1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RegistryForm {
    /// Wise 5 / SMS Installer 1.x: no `Total Keys`, the one key's fields in the item.
    Wise5,
    /// `Total Keys=1` and the key's fields in the item.
    Flat,
    /// `Total Keys=N` and `item: Key` children (any item with `Key` children counts as nested).
    Nested,
}

/// A `Root=` field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RootField {
    /// No `Root=` line: 0 (HKCR, write).
    Absent,
    Number(u32),
    /// Not a decimal number: hive and operation unknown.
    Invalid,
}

impl RootField {
    /// The number, absent = 0; `None` when invalid.
    pub fn number(self) -> Option<u32> {
        match self {
            RootField::Absent => Some(0),
            RootField::Number(n) => Some(n),
            RootField::Invalid => None,
        }
    }

    /// The operation bits `Root & 0xE0`.
    pub fn op(self) -> RegOp {
        match self.number().map(|n| n & 0xE0) {
            Some(0) => RegOp::Write,
            Some(0x80) => RegOp::DeleteKey,
            Some(0xC0) => RegOp::DeleteValue,
            Some(other) => RegOp::Unknown(other),
            None => RegOp::Unknown(u32::MAX),
        }
    }
}

/// What a key does, from `Root & 0xE0`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RegOp {
    /// 0x00: create the key / set the value.
    Write,
    /// 0x80: delete the key tree.
    DeleteKey,
    /// 0xC0: delete the value.
    DeleteValue,
    /// Other operation bits, or `u32::MAX` for an unreadable `Root`.
    Unknown(u32),
}

/// An `Edit Registry` item.
#[derive(Clone, Copy, Debug)]
pub struct EditRegistry<'d> {
    doc: &'d Document,
    /// Preorder index of the item.
    pub item: u32,
    pub form: RegistryForm,
    /// The item's own `Total Keys=` line, if any.
    pub total_keys: Option<Property>,
}

/// One key of an `Edit Registry` item: the item itself (flat, Wise 5) or an `item: Key` child.
#[derive(Clone, Copy, Debug)]
pub struct RegKey<'d> {
    doc: &'d Document,
    /// The `Edit Registry` item.
    pub item: u32,
    /// The item holding the key's fields (`item` itself unless nested).
    pub holder: u32,
    /// Index among the item's keys (0 for flat and Wise 5).
    pub index: u32,
}

impl Document {
    /// The `Edit Registry` view of item `index`, if it is one.
    pub fn edit_registry(&self, text: &[u8], index: u32) -> Option<EditRegistry<'_>> {
        let item = self.item(index)?;
        if item.kind() != ItemKind::EditRegistry {
            return None;
        }
        let total_keys = self.prop(text, index, "Total Keys");
        let nested = self
            .children(index)
            .any(|c| self.item(c).is_some_and(|c| c.kind() == ItemKind::Key));
        let form = match (nested, total_keys) {
            (true, _) => RegistryForm::Nested,
            (false, Some(_)) => RegistryForm::Flat,
            (false, None) => RegistryForm::Wise5,
        };
        Some(EditRegistry {
            doc: self,
            item: index,
            form,
            total_keys,
        })
    }

    /// The `Create Service` view of item `index`, if it is one.
    pub fn create_service(&self, index: u32) -> Option<ServiceItem<'_>> {
        let item = self.item(index)?;
        (item.kind() == ItemKind::CreateService).then_some(ServiceItem {
            doc: self,
            item: index,
        })
    }
}

impl<'d> EditRegistry<'d> {
    /// The keys in order. Remarked `item: Key` children are included (they count for
    /// `Total Keys` positions); check [`RegKey::active`].
    pub fn keys(&self) -> impl Iterator<Item = RegKey<'d>> + 'd {
        let (doc, item, nested) = (self.doc, self.item, self.form == RegistryForm::Nested);
        let single = (!nested).then_some(item);
        let children = doc
            .children(item)
            .filter(move |&c| nested && doc.item(c).is_some_and(|c| c.kind() == ItemKind::Key));
        single
            .into_iter()
            .chain(children)
            .enumerate()
            .map(move |(index, holder)| RegKey {
                doc,
                item,
                holder,
                index: index as u32,
            })
    }

    pub fn key_count(&self) -> usize {
        self.keys().count()
    }

    /// The `Total Keys` value as written, if present and numeric.
    pub fn total_keys_value(&self, text: &[u8]) -> Option<u32> {
        parse_u32(self.total_keys?.value_bytes(text))
    }
}

/// All fields of a key, gathered in one pass over its properties (first occurrence wins,
/// except `New Value`, which is counted).
#[derive(Clone, Copy, Debug)]
pub struct KeyFields {
    pub key: Option<Property>,
    pub value_name: Option<Property>,
    pub root: RootField,
    /// `Data Type`: absent = 0; `None` when not a number.
    pub data_type: Option<u32>,
    pub x64: bool,
    pub first_new_value: Option<Property>,
    pub new_value_count: u32,
}

impl<'d> RegKey<'d> {
    /// Every field in one pass (what lowering uses; the accessors below scan per call).
    pub fn fields(&self, text: &[u8]) -> KeyFields {
        let mut f = KeyFields {
            key: None,
            value_name: None,
            root: RootField::Absent,
            data_type: Some(0),
            x64: false,
            first_new_value: None,
            new_value_count: 0,
        };
        let (mut root, mut data_type, mut x64) = (None, None, None);
        for p in self.doc.props_of(self.holder) {
            let k = p.key_bytes(text);
            let is = |name: &str| key_eq(k, name);
            // The length picks the candidate names, so each key is compared at most twice.
            match k.len() {
                9 if is("New Value") => {
                    f.first_new_value = f.first_new_value.or(Some(p));
                    f.new_value_count += 1;
                }
                3 if is("Key") => f.key = f.key.or(Some(p)),
                10 if is("Value Name") => f.value_name = f.value_name.or(Some(p)),
                4 if is("Root") => root = root.or(Some(p)),
                9 if is("Data Type") => data_type = data_type.or(Some(p)),
                11 if is("x64 Support") => x64 = x64.or(Some(p)),
                _ => {}
            }
        }
        if let Some(p) = root {
            f.root = parse_u32(p.value_bytes(text)).map_or(RootField::Invalid, RootField::Number);
        }
        if let Some(p) = data_type {
            f.data_type = parse_u32(p.value_bytes(text));
        }
        f.x64 = x64.is_some_and(|p| p.value_bytes(text) == b"1");
        f
    }

    fn field(&self, text: &[u8], key: &str) -> Option<Property> {
        self.doc.prop(text, self.holder, key)
    }

    /// The key's `Key=` line (the subkey path).
    pub fn key(&self, text: &[u8]) -> Option<Property> {
        self.field(text, "Key")
    }

    /// The `New Value=` lines in order.
    pub fn new_values<'t>(&self, text: &'t [u8]) -> impl Iterator<Item = Property> + 't
    where
        'd: 't,
    {
        self.doc
            .props_of(self.holder)
            .filter(move |p| p.key_is(text, "New Value"))
    }

    pub fn value_name(&self, text: &[u8]) -> Option<Property> {
        self.field(text, "Value Name")
    }

    pub fn root(&self, text: &[u8]) -> RootField {
        match self.field(text, "Root") {
            None => RootField::Absent,
            Some(p) => parse_u32(p.value_bytes(text)).map_or(RootField::Invalid, RootField::Number),
        }
    }

    pub fn op(&self, text: &[u8]) -> RegOp {
        self.root(text).op()
    }

    /// `Data Type=`: absent = 0; `None` when not a number.
    pub fn data_type(&self, text: &[u8]) -> Option<u32> {
        match self.field(text, "Data Type") {
            None => Some(0),
            Some(p) => parse_u32(p.value_bytes(text)),
        }
    }

    /// `x64 Support=1`: the 64-bit registry view.
    pub fn x64(&self, text: &[u8]) -> bool {
        self.field(text, "x64 Support")
            .is_some_and(|p| p.value_bytes(text) == b"1")
    }

    /// The `item: Key` block (nested) or the whole item (flat, Wise 5).
    pub fn record(&self) -> TextRange {
        self.doc
            .item(self.holder)
            .map_or_else(TextRange::default, |i| i.range())
    }

    /// Neither the key nor its item is remarked.
    pub fn active(&self) -> bool {
        self.doc.item(self.holder).is_some_and(|i| i.active())
    }
}

/// A `Create Service` item.
#[derive(Clone, Copy, Debug)]
pub struct ServiceItem<'d> {
    doc: &'d Document,
    pub item: u32,
}

impl<'d> ServiceItem<'d> {
    /// All properties in order, unknown ones included.
    pub fn fields(&self) -> PropIter<'d> {
        self.doc.props_of(self.item)
    }

    /// `Service Name=`.
    pub fn name(&self, text: &[u8]) -> Option<Property> {
        self.doc.prop(text, self.item, "Service Name")
    }
}

/// A decimal `u32` with nothing around it (no sign, no blanks).
pub fn parse_u32(bytes: &[u8]) -> Option<u32> {
    if bytes.is_empty() {
        return None;
    }
    bytes.iter().try_fold(0u32, |n, &b| {
        let digit = b.checked_sub(b'0').filter(|d| *d <= 9)?;
        n.checked_mul(10)?.checked_add(u32::from(digit))
    })
}
