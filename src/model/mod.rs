//! The `model` stage: what a package does to the registry, independent of its syntax.
//!
//! Each format lowers its syntax tree into a [`FileModel`]: the registry [`Operation`]s it
//! performs in order (key creation, value set, value deletion, key deletion), the
//! [`ServiceInstall`] items that create services, and the facts the rules need beyond them. The
//! [`state`] module computes from a package's models the registry state it installs. Rules read
//! only the model: a fact a rule needs about a file is a fact of the model, never a question
//! about which format it is reading (`ARCHITECTURE.md`, "When a format is added").
//!
//! Strings are bytes in the source's working-text encoding and borrow from it where they can;
//! [`name::Charset`] reads them as the Unicode text Windows installs.

pub mod installer;
pub mod msi;
pub mod name;
pub mod package;
pub mod path;
pub mod reg;
pub mod script;
pub mod service;
pub mod state;
pub mod suppress;
pub mod template;
pub mod wise;
pub mod wix;

use std::borrow::Cow;

pub use name::Charset;
pub use path::{ControlSet, Hive, SystemLocation};
pub use service::{NewService, ServiceField, ServiceInstall, ServiceValue, TextPiece};

use crate::text::TextRange;

/// Where an operation or item came from, in terms the format's fix planner understands: an
/// opaque handle for the rules. (Scripts: `container` = the item's index in the preorder
/// enumeration of all items, `index` = the key's index in its `Edit Registry` item. `.reg`:
/// `container` = the key block, `index` = the value record in it, or [`Origin::KEY_LINE`].
/// WiX sources and databases: see [`wix`] and [`msi`].) In every format, operations in order of
/// position ([`Operation::seq`]) are in order of origin.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Origin {
    pub container: u32,
    pub index: u32,
}

impl Origin {
    pub const KEY_LINE: u32 = u32::MAX;
}

/// What a registry operation does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OpKind {
    /// Creates the key (and, implied, its ancestors).
    CreateKey,
    /// Sets a value (creating its key).
    SetValue,
    /// Deletes a value.
    DeleteValue,
    /// Deletes the key with everything under it.
    DeleteKey,
}

impl OpKind {
    /// Creates a key or sets a value: what a capture records, and what rules report.
    pub fn is_write(self) -> bool {
        matches!(self, OpKind::CreateKey | OpKind::SetValue)
    }
}

/// Data of a value, decoded. Strings are in the working-text encoding, without the NUL
/// characters that end them (see [`Operation::nuls`]); NULs inside a string stay.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Data<'a> {
    /// No data: the operation is not a value write.
    None,
    Sz(Cow<'a, [u8]>),
    ExpandSz(Cow<'a, [u8]>),
    MultiSz(Vec<Cow<'a, [u8]>>),
    Dword(u32),
    Qword(u64),
    Binary(Vec<u8>),
    /// `hex(N):` of another type, or data the format could not decode: kept raw.
    Raw {
        kind: u32,
        bytes: Vec<u8>,
    },
}

/// Registry value types.
pub mod kind {
    pub const NONE: u32 = 0;
    pub const SZ: u32 = 1;
    pub const EXPAND_SZ: u32 = 2;
    pub const BINARY: u32 = 3;
    pub const DWORD: u32 = 4;
    pub const MULTI_SZ: u32 = 7;
    pub const QWORD: u32 = 0xb;
}

impl Data<'_> {
    /// The value as a number, for comparing `Type`/`Start`/`ErrorControl`: DWORD/QWORD, or a
    /// string holding a decimal number.
    pub fn as_number(&self) -> Option<u64> {
        match self {
            Data::Dword(n) => Some(u64::from(*n)),
            Data::Qword(n) => Some(*n),
            Data::Sz(s) | Data::ExpandSz(s) => std::str::from_utf8(s).ok()?.trim().parse().ok(),
            _ => None,
        }
    }

    /// The text of a REG_SZ / REG_EXPAND_SZ as Windows reads it: up to its first NUL.
    pub fn as_text(&self) -> Option<&[u8]> {
        match self {
            Data::Sz(s) | Data::ExpandSz(s) => {
                Some(s.split(|&b| b == 0).next().unwrap_or_default())
            }
            _ => None,
        }
    }

    /// The registry type.
    pub fn kind(&self) -> Option<u32> {
        Some(match self {
            Data::None => return None,
            Data::Sz(_) => kind::SZ,
            Data::ExpandSz(_) => kind::EXPAND_SZ,
            Data::MultiSz(_) => kind::MULTI_SZ,
            Data::Dword(_) => kind::DWORD,
            Data::Qword(_) => kind::QWORD,
            Data::Binary(_) => kind::BINARY,
            Data::Raw { kind, .. } => *kind,
        })
    }

    /// Every text of the data: a string, each string of a multi-string, raw bytes.
    pub fn texts(&self) -> Vec<&[u8]> {
        match self {
            Data::Sz(s) | Data::ExpandSz(s) => vec![s],
            Data::MultiSz(list) => list.iter().map(|s| &**s).collect(),
            Data::Raw { bytes, .. } => vec![bytes],
            Data::None | Data::Dword(_) | Data::Qword(_) | Data::Binary(_) => Vec::new(),
        }
    }

    /// The same data, owning its bytes.
    pub fn into_owned(self) -> Data<'static> {
        let own = |c: Cow<'_, [u8]>| Cow::Owned(c.into_owned());
        match self {
            Data::None => Data::None,
            Data::Sz(s) => Data::Sz(own(s)),
            Data::ExpandSz(s) => Data::ExpandSz(own(s)),
            Data::MultiSz(list) => Data::MultiSz(list.into_iter().map(own).collect()),
            Data::Dword(n) => Data::Dword(n),
            Data::Qword(n) => Data::Qword(n),
            Data::Binary(b) => Data::Binary(b),
            Data::Raw { kind, bytes } => Data::Raw { kind, bytes },
        }
    }
}

/// One registry operation, in the order the package performs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Operation<'a> {
    pub kind: OpKind,
    pub hive: Hive,
    /// The subkey path without the hive, as it is installed (a script's `%VAR%` holding a
    /// constant is put in by the package, see [`FileModel::resolve`]; trailing `\` kept).
    pub key: Cow<'a, [u8]>,
    /// Where the subkey path text stands in the working text (a `Key=` value, or the text
    /// between `[` and `]` after the hive name). `None` when it cannot be edited in place.
    pub key_range: Option<TextRange>,
    /// The key path holds an install-time reference (`%NAME%`) that does not resolve to a
    /// constant: the key could be any key.
    pub unresolved: bool,
    /// The value name of [`OpKind::SetValue`] and [`OpKind::DeleteValue`] (`""` for the
    /// default value); `None` for key operations.
    pub value: Option<Cow<'a, [u8]>>,
    pub data: Data<'a>,
    /// NUL characters after the string data as the registry receives it: 1 for a string's
    /// terminator, 2 after a multi-string's last string; a `hex(N):` string's own count.
    pub nuls: u8,
    /// What a diagnostic underlines: the `Key=` line (scripts) or the value / key line (`.reg`).
    pub range: TextRange,
    /// The whole record the operation comes from: the `item: Key` block or flat item
    /// (scripts), the value record with its continuation lines or the key line (`.reg`).
    pub record: TextRange,
    /// The 64-bit registry view (`x64 Support=1`).
    pub wow64_64: bool,
    pub origin: Origin,
    /// The control-flow region the operation sits in: 0 = it always runs; any other region
    /// (inside an `If`/`While` block, say) may or may not run.
    pub block: u32,
    /// Position in the file's order of operations and service installs.
    pub seq: u64,
    /// Operations whose key path is written once for all of them (a `.reg` key line and its
    /// values) share this id: editing the path edits all of them. `None`: the path is the
    /// operation's own.
    pub statement: Option<u32>,
}

impl Operation<'_> {
    pub fn is_write(&self) -> bool {
        self.kind.is_write()
    }

    /// The operation may not run (it sits in a conditional region).
    pub fn conditional(&self) -> bool {
        self.block != 0
    }
}

/// Which operations a lowering builds. It is asked before an operation is built, from the key
/// and the data as written, so an operation nobody reads costs neither a decode nor memory
/// (most operations of a capture are under `SOFTWARE` and no rule reads them). Service
/// installs and file facts are always lowered.
pub trait Selection: Sync {
    /// Whether operations on `key` (the subkey path as written) of `hive` are wanted. In a
    /// `.reg` file this decides for the key line and every value of its block.
    fn key(&self, hive: Hive, key: &[u8]) -> bool;

    /// Formats whose data text is written line by line and expands install-time references
    /// (scripts): whether an operation whose key is not wanted is wanted for one line of its
    /// data text (as written, before decoding).
    fn data_line(&self, line: &[u8]) -> bool;

    /// A cheaper test asked first: `false` when operations on `key` are wanted in no hive (so
    /// the hive need not be read).
    fn key_in_any_hive(&self, key: &[u8]) -> bool {
        let _ = key;
        true
    }

    /// A cheaper test asked first for [`Selection::data_line`], on the whole text of an
    /// operation's record: `false` when no data line in it can be wanted.
    fn data_record(&self, record: &[u8]) -> bool {
        let _ = record;
        true
    }
}

/// Every operation: the whole model, for the `registry` command and tests that read all of it.
#[derive(Clone, Copy, Debug, Default)]
pub struct All;

impl Selection for All {
    fn key(&self, _: Hive, _: &[u8]) -> bool {
        true
    }

    fn data_line(&self, _: &[u8]) -> bool {
        true
    }
}

/// How many pieces to lower a file of `text_len` bytes in (see [`crate::pieces`]).
fn piece_count(text_len: usize) -> usize {
    crate::pieces::count_for(text_len).unwrap_or(1)
}

/// Runs `f` over (at most) `count` consecutive ranges covering `0..len` (items or key blocks)
/// and returns the results in order; on the current rayon pool when there are several.
fn in_pieces<R: Send>(
    len: usize,
    count: usize,
    f: impl Fn(std::ops::Range<usize>) -> R + Sync,
) -> Vec<R> {
    let ranges = crate::pieces::ranges(len, count);
    if ranges.len() == 1 {
        return ranges.into_iter().map(f).collect();
    }
    use rayon::prelude::*;
    ranges.into_par_iter().map(&f).collect()
}

/// One definition of an install-time variable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Variable<'a> {
    /// The name as written (blanks around it trimmed).
    pub name: &'a [u8],
    /// What the variable holds, where the model knows.
    pub holds: Holds<'a>,
    /// Position in the file's order of operations (see [`Operation::seq`]).
    pub seq: u64,
    /// The control-flow region of the definition (0: always runs).
    pub block: u32,
}

/// What a variable definition sets the variable to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Holds<'a> {
    /// A constant text without references, set unconditionally of anything else.
    Constant(&'a [u8]),
    /// The Windows system directory (`System32`).
    SystemDirectory,
    /// Something known only at install time.
    Unknown,
}

/// A file another file pulls in (a script's `Include Script`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Include<'a> {
    /// The path as written; empty when the item has none.
    pub pathname: &'a [u8],
    /// The item's head line (without indentation and terminator).
    pub head: TextRange,
}

/// A data text of an operation as it stands in the file, for rules that look at the written
/// text of install-time references (one per line of a script's `New Value`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataLine<'a> {
    pub text: &'a [u8],
    pub range: TextRange,
    /// The whole statement without indentation and terminator (what a diagnostic underlines).
    pub line: TextRange,
}

/// Everything the rules need to know about one file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileModel<'a> {
    /// Operations in file order (those the lowering's [`Selection`] wanted).
    pub ops: Vec<Operation<'a>>,
    /// Service installs in file order.
    pub services: Vec<ServiceInstall<'a>>,
    /// How the working text reads as Unicode.
    pub charset: Charset,
    /// Strings (keys, names, data, service fields) are templates the installer expands at
    /// install time: `%NAME%` is a variable's value, `%%` a literal `%` (scripts). Otherwise
    /// every string is installed as written (`.reg`).
    pub templates: bool,
    /// Files this one pulls in, in file order.
    pub includes: Vec<Include<'a>>,
    /// What the format calls its service-install item (`Create Service`); `None` when the
    /// format has none (`.reg`).
    pub service_item: Option<&'static str>,
    /// The syntax the model came from, for facts read only when a rule needs them.
    pub(crate) tree: TreeRef<'a>,
}

/// The syntax tree behind a model, for the facts [`FileModel`] computes on demand (a pass
/// over the document each). Never compared: the model is what it says.
#[derive(Clone, Copy, Default)]
pub(crate) enum TreeRef<'a> {
    #[default]
    None,
    Script(&'a crate::syntax::wise::Document, &'a [u8]),
    /// A WiX source: its service installs are `<ServiceInstall>` elements.
    Wix,
    /// A database: its service installs are `ServiceInstall` rows.
    Msi,
}

impl PartialEq for TreeRef<'_> {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for TreeRef<'_> {}

impl std::fmt::Debug for TreeRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TreeRef::None => "TreeRef::None",
            TreeRef::Script(..) => "TreeRef::Script",
            TreeRef::Wix => "TreeRef::Wix",
            TreeRef::Msi => "TreeRef::Msi",
        })
    }
}

impl<'a> FileModel<'a> {
    /// The operations that create keys or set values.
    pub fn writes(&self) -> impl Iterator<Item = &Operation<'a>> {
        self.ops.iter().filter(|op| op.is_write())
    }

    /// The install-time variables the file defines, in file order (none unless
    /// [`FileModel::templates`]). A pass over the file: rules ask only when a finding
    /// depends on it.
    pub fn variables(&self) -> Vec<Variable<'a>> {
        match self.tree {
            TreeRef::Script(doc, text) => script::variables(doc, text),
            TreeRef::None | TreeRef::Wix | TreeRef::Msi => Vec::new(),
        }
    }

    /// The data text of `op` as written, line by line (formats whose strings are templates).
    pub fn data_lines(&self, op: &Operation<'_>) -> Vec<DataLine<'a>> {
        match self.tree {
            TreeRef::Script(doc, text) => script::value_lines(doc, text, op),
            TreeRef::None | TreeRef::Wix | TreeRef::Msi => Vec::new(),
        }
    }

    /// How this file writes a new service install, if its format can hold one.
    pub fn service_syntax(&self) -> Option<service::ServiceSyntax<'a>> {
        match self.tree {
            TreeRef::Script(doc, text) => Some(service::ServiceSyntax::wise(doc, text, self)),
            TreeRef::Wix => Some(service::ServiceSyntax::wix()),
            TreeRef::Msi => Some(service::ServiceSyntax::msi()),
            TreeRef::None => None,
        }
    }

    /// The variable holding the Windows system directory that a definition before position
    /// `seq` sets, if any (the last one).
    pub fn system_directory_variable(&self, seq: u64) -> Option<&'a [u8]> {
        self.variables()
            .into_iter()
            .rev()
            .find(|v| v.seq < seq && v.holds == Holds::SystemDirectory)
            .map(|v| v.name)
    }

    /// Puts the package's constant variables into the keys and service names that refer to
    /// them (`%SVCNAME%` set once to `WspEventRouter` by `Set Variable`), and marks the ones
    /// that keep an unresolved reference. `constant` gives a variable's constant value.
    pub fn resolve(&mut self, constant: &dyn Fn(&[u8]) -> Option<Vec<u8>>) {
        if !self.templates {
            return;
        }
        for op in &mut self.ops {
            if memchr::memchr(b'%', &op.key).is_some() {
                match template::substitute(&op.key, constant) {
                    Some(key) => op.key = Cow::Owned(key),
                    None => op.unresolved = true,
                }
            }
            if let Some(value) = op.value.as_mut()
                && memchr::memchr(b'%', value).is_some()
            {
                match template::substitute(value, constant) {
                    Some(name) => *value = Cow::Owned(name),
                    None => op.unresolved = true,
                }
            }
        }
        for service in &mut self.services {
            if memchr::memchr(b'%', &service.name).is_none() {
                continue;
            }
            match template::substitute(&service.name, constant) {
                Some(name) => service.name = Cow::Owned(name),
                None => service.unresolved = true,
            }
        }
    }
}
