//! The `syntax` stage: lossless trees over a working text. Printing a tree (concatenating the
//! byte ranges of its nodes in order) gives back the input byte for byte.

pub mod msi;
pub mod reg;
pub mod wise;
pub mod wix;

use crate::detect::Format;
use crate::text::TextRange;

/// A structural error: `offset` into the working text, and what was expected there.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SyntaxError {
    pub offset: usize,
    pub message: String,
}

impl SyntaxError {
    pub fn new(offset: usize, message: impl Into<String>) -> Self {
        Self {
            offset,
            message: message.into(),
        }
    }
}

/// A parsed file of either format.
#[derive(Clone, Debug)]
pub enum Syntax {
    Script(wise::Document),
    Reg(reg::RegFile),
    Wix(wix::WixDocument),
    /// The view of a database's tables.
    Msi(msi::View),
}

impl Syntax {
    /// The tree of an empty text: what a file holds while its tree is rebuilt.
    pub fn empty() -> Self {
        Syntax::Script(wise::Document::empty(crate::detect::ScriptKind::Wse))
    }
}

/// Parses a working text whose format [`crate::detect::detect`] has decided.
pub fn parse(text: &[u8], format: Format) -> Result<Syntax, SyntaxError> {
    match format {
        Format::Script(kind) => wise::parse(text, kind).map(Syntax::Script),
        Format::Reg(version) => reg::parse(text, version).map(Syntax::Reg),
        Format::Wix(schema) => wix::parse(text, schema).map(Syntax::Wix),
        Format::Msi => msi::parse(text).map(Syntax::Msi),
    }
}

/// One replacement that turned a previous text into the text being parsed: `old` in the
/// previous text became `len` bytes. Replacements are sorted and do not overlap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Replacement {
    pub old: TextRange,
    pub len: usize,
}

/// Parses `text`, the result of `replacements` on the text `previous` was parsed from: the
/// same tree as [`parse`] (errors included), built for a script by re-parsing only the
/// top-level items the replacements touch and moving the rest of `previous` into place (the
/// previous tree is taken: its arrays become the new tree's).
pub fn reparse(
    previous: Syntax,
    text: &[u8],
    format: Format,
    replacements: &[Replacement],
) -> Result<Syntax, SyntaxError> {
    match previous {
        Syntax::Script(doc) if format == Format::Script(doc.kind) => {
            wise::reparse(doc, text, replacements).map(Syntax::Script)
        }
        previous => {
            // Freed before the text is parsed again.
            drop(previous);
            parse(text, format)
        }
    }
}
