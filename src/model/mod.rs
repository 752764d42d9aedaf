//! The `model` stage: what a file does to the registry, independent of its syntax.
//!
//! Each format lowers its syntax tree into a [`FileModel`]: the registry writes (deletions are
//! never reported or changed, so they are not modelled), the `Create Service` items, and for
//! scripts the block structure needed to order a write against a Create Service. Strings are
//! bytes in the source's working-text encoding and borrow from it where they can.

pub mod path;
pub mod reg;
pub mod script;
pub mod suppress;
pub mod wise;

use std::borrow::Cow;

pub use path::{ControlSet, Hive, SystemLocation};

use crate::text::TextRange;

/// Where a write or item came from, in terms the format's fix planner understands.
/// Scripts: `container` = index of the item in the preorder enumeration of ALL items of the
/// document (nested ones included), `index` = the key's index inside that `Edit Registry` item
/// (0 for flat and Wise 5 items). `.reg`: `container` =
/// index of the key block, `index` = the value record's index in it, or [`Origin::KEY_LINE`]
/// for the key line itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Origin {
    pub container: u32,
    pub index: u32,
}

impl Origin {
    pub const KEY_LINE: u32 = u32::MAX;
}

/// Data of a registry write, decoded. Strings are in the working-text encoding (UTF-8 for
/// UTF-16 files, the file's own 8-bit bytes otherwise).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Data<'a> {
    /// The write creates the key and sets no value.
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

impl Data<'_> {
    /// The value as a number, for comparing `Type`/`Start`/`ErrorControl` with Create Service
    /// fields: DWORD/QWORD, or a string holding a decimal number.
    pub fn as_number(&self) -> Option<u64> {
        match self {
            Data::Dword(n) => Some(u64::from(*n)),
            Data::Qword(n) => Some(*n),
            Data::Sz(s) | Data::ExpandSz(s) => std::str::from_utf8(s).ok()?.trim().parse().ok(),
            _ => None,
        }
    }

    /// The value as text (REG_SZ / REG_EXPAND_SZ), for `DisplayName`/`ObjectName`/`ImagePath`.
    pub fn as_text(&self) -> Option<&[u8]> {
        match self {
            Data::Sz(s) | Data::ExpandSz(s) => Some(s),
            _ => None,
        }
    }
}

/// One registry operation that creates a key or sets a value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegWrite<'a> {
    pub hive: Hive,
    /// The subkey path without the hive, as written (trailing `\` kept as written).
    pub key: Cow<'a, [u8]>,
    /// Where the subkey path text stands in the working text (a `Key=` value, or the text
    /// between `[` and `]` after the hive name). `None` when it cannot be edited in place.
    pub key_range: Option<TextRange>,
    /// The value name; `None` when the write only creates the key, `Some("")` for the default.
    pub value: Option<Cow<'a, [u8]>>,
    pub data: Data<'a>,
    /// What a diagnostic underlines: the key's `Key=` line (scripts) or the value/key line (`.reg`).
    pub range: TextRange,
    /// The whole record the write comes from: the `item: Key` block or flat item (scripts),
    /// the value record with its continuation lines or the key line (`.reg`).
    pub record: TextRange,
    /// The 64-bit registry view (`x64 Support=1`).
    pub wow64_64: bool,
    pub origin: Origin,
    /// Scripts: the control-flow region the write sits in (0 = top level).
    pub block: u32,
}

/// Which writes a lowering builds. It is asked before a write is built, from the key and the
/// data as written, so a write nobody reads costs neither a decode nor memory (most writes of a
/// capture are under `SOFTWARE` and no rule reads them). Create Service items and script facts
/// are always lowered.
pub trait Selection: Sync {
    /// Whether writes to `key` (the subkey path as written) of `hive` are wanted. In a `.reg`
    /// file this decides for the key line and every value of its block.
    fn key(&self, hive: Hive, key: &[u8]) -> bool;

    /// Scripts: whether a write whose key is not wanted is wanted for one line of its
    /// `New Value` text (as written, before decoding).
    fn script_value_line(&self, line: &[u8]) -> bool;

    /// A cheaper test asked first: `false` when writes to `key` are wanted in no hive (so the
    /// hive need not be read).
    fn key_in_any_hive(&self, key: &[u8]) -> bool {
        let _ = key;
        true
    }

    /// Scripts: a cheaper test asked first, on the whole text of a key's item (all its lines):
    /// `false` when no `New Value` line in it can be wanted.
    fn script_record(&self, record: &[u8]) -> bool {
        let _ = record;
        true
    }
}

/// Every write: the whole model, for tools and tests that read all of it.
#[derive(Clone, Copy, Debug, Default)]
pub struct All;

impl Selection for All {
    fn key(&self, _: Hive, _: &[u8]) -> bool {
        true
    }

    fn script_value_line(&self, _: &[u8]) -> bool {
        true
    }
}

/// Below this many bytes of text a file is lowered on the calling thread (as the parser splits
/// scripts from 4 MiB): smaller files gain less than handing work to the pool costs, and a
/// package's files are checked in parallel anyway.
const PARALLEL_FROM: usize = 4 << 20;

/// How many pieces to lower a file of `text_len` bytes in: one for a small file or a pool of
/// one thread, else a few per thread, so a thread that finishes early takes over work.
fn piece_count(text_len: usize) -> usize {
    let threads = rayon::current_num_threads();
    if text_len < PARALLEL_FROM || threads < 2 {
        1
    } else {
        threads * 4
    }
}

/// Runs `f` over (at most) `count` consecutive ranges covering `0..len` (items or key blocks)
/// and returns the results in order; on the current rayon pool when there are several.
fn in_pieces<R: Send>(
    len: usize,
    count: usize,
    f: impl Fn(std::ops::Range<usize>) -> R + Sync,
) -> Vec<R> {
    let count = count.clamp(1, len.max(1));
    if count == 1 {
        return vec![f(0..len)];
    }
    use rayon::prelude::*;
    let size = len.div_ceil(count);
    (0..len.div_ceil(size))
        .into_par_iter()
        .map(|k| f(k * size..((k + 1) * size).min(len)))
        .collect()
}

/// One property line of an item, as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field<'a> {
    pub key: &'a [u8],
    pub value: &'a [u8],
    /// The whole line, with indentation and terminator.
    pub line: TextRange,
    pub value_range: TextRange,
}

/// An active `Create Service` item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreateService<'a> {
    /// `Service Name=`; empty when absent.
    pub name: &'a [u8],
    /// The properties in file order (unknown ones included).
    pub fields: Vec<Field<'a>>,
    /// The `item: Create Service` line, for messages.
    pub head: TextRange,
    /// The whole item.
    pub range: TextRange,
    pub origin: Origin,
    pub block: u32,
}

impl<'a> CreateService<'a> {
    /// The first field whose key equals `key` (ASCII case-insensitive).
    pub fn field(&self, key: &str) -> Option<&Field<'a>> {
        self.fields
            .iter()
            .find(|f| f.key.eq_ignore_ascii_case(key.as_bytes()))
    }

    /// `Display Name` or a language-suffixed `Display Name <Language>`.
    pub fn display_name(&self) -> Option<&Field<'a>> {
        self.fields.iter().find(|f| {
            f.key.eq_ignore_ascii_case(b"Display Name")
                || (f.key.len() > 13 && f.key[..13].eq_ignore_ascii_case(b"Display Name "))
        })
    }
}

/// Everything the rules need to know about one file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileModel<'a> {
    /// Active writes in file order (those the lowering's [`Selection`] wanted).
    pub writes: Vec<RegWrite<'a>>,
    /// Active Create Service items in file order.
    pub services: Vec<CreateService<'a>>,
    /// Scripts: variables, `New Value` lines with a `%`, includes, language suffix (empty for
    /// `.reg` files).
    pub script: script::ScriptFacts<'a>,
}
