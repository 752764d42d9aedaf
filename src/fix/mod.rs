//! The `fix` stage: byte-range edits, their applicability, and applying them.
//!
//! After ruff: a [`Fix`] is a sorted list of [`Edit`]s with an [`Applicability`]. Edits address
//! the working text (see [`crate::source::SourceFile::text`]); applying them splices replacement
//! bytes into the untouched text between them, so every byte outside an edit is kept.

mod apply;
pub mod changes;
pub mod invariants;
pub mod proof;
pub mod suppress;

pub use apply::{EditConflict, apply_edits, apply_edits_in_place, undo_edits};

use crate::text::TextRange;

/// How safe a fix is to apply automatically. Ordered: `DisplayOnly < Unsafe < Safe`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Applicability {
    /// Never applied; the report shows the suggested change.
    DisplayOnly,
    /// Applied only with `--unsafe-fixes`: it changes what gets installed.
    Unsafe,
    /// Applied by `svcscrub fix`: the installed result is unchanged or strictly more correct.
    Safe,
}

impl Applicability {
    pub fn as_str(self) -> &'static str {
        match self {
            Applicability::DisplayOnly => "display-only",
            Applicability::Unsafe => "unsafe",
            Applicability::Safe => "safe",
        }
    }
}

/// Replace `range` of the working text with `content` (empty content = delete).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Edit {
    pub range: TextRange,
    pub content: Vec<u8>,
}

impl Edit {
    pub fn delete(range: TextRange) -> Self {
        Self {
            range,
            content: Vec::new(),
        }
    }

    pub fn replace(range: TextRange, content: impl Into<Vec<u8>>) -> Self {
        Self {
            range,
            content: content.into(),
        }
    }

    pub fn insert(at: usize, content: impl Into<Vec<u8>>) -> Self {
        Self {
            range: TextRange::empty(at),
            content: content.into(),
        }
    }
}

/// A finding's fix: a title for people, how safe it is, and the edits that make it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fix {
    pub applicability: Applicability,
    pub title: std::borrow::Cow<'static, str>,
    /// Sorted by range, non-overlapping.
    pub edits: Vec<Edit>,
}

pub mod msi;
pub mod reg;
pub mod wise;
pub mod wix;

use crate::model::Origin;

/// What a format's planner says about a fix beyond its edits.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Review {
    /// Why the fix changes more than its rule asks (a component's key path lost): it is then
    /// unsafe.
    pub unsafe_because: Option<String>,
    /// What else it does or leaves, for people: a key path moved, a component left empty, a
    /// signature invalidated.
    pub notes: Vec<String>,
}

impl Review {
    /// Nothing to say.
    pub fn is_empty(&self) -> bool {
        self.unsafe_because.is_none() && self.notes.is_empty()
    }
}

/// What a rule wants changed, in terms of the model. A format's planner ([`wise::plan`],
/// [`reg::plan`]) turns a set of changes into byte [`Edit`]s that keep the file well-formed
/// (`Total Keys` renumbered, empty items and key blocks removed, neighbours' line endings).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Change {
    /// Remove one registry write (a script key, a `.reg` value record or key line).
    RemoveWrite(Origin),
    /// Replace exact bytes inside one line (a `%NAME%` escaped, a suppression's codes).
    Replace(Edit),
    /// Rewrite the control-set segment of an operation's key path (`ControlSet001`) to
    /// `CurrentControlSet` where the path stands: `edit`, which every planner applies as a
    /// [`Change::Replace`]. For an operation of a path statement (a `.reg` key line and its
    /// values) the statement's path is rewritten, so all its operations move (what the proof
    /// of the fix reads).
    ToCurrentControlSet { op: Origin, edit: Edit },
    /// Write a string value's data as these bytes of 8-bit text (a `.reg` `hex(N):` value
    /// keeps its type and is wrapped as regedit wraps it).
    SetHexBytes { op: Origin, bytes: Vec<u8> },
    /// Set a field of a `Create Service` item: replace its value, or add the property line
    /// (in the item's field order, with its neighbours' indentation and line ending).
    SetServiceField {
        service: Origin,
        field: String,
        value: Vec<u8>,
    },
    /// Insert a new script item before item `before`: `item: <action>`, one `key=value`
    /// property line per field in the order given, and `end`, indented like `before` (fields
    /// one level deeper) and ended with its line ending. Scripts only; `.reg` files ignore it.
    InsertItem {
        before: Origin,
        action: String,
        fields: Vec<(String, Vec<u8>)>,
    },
}
