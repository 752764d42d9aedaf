//! Lossless WiseScript / SMS Installer parser (`FORMATS.md` §1).

use super::SyntaxError;
use crate::detect::ScriptKind;

/// A parsed script.
#[derive(Clone, Debug)]
pub struct Document {
    pub kind: ScriptKind,
}

pub fn parse(_text: &[u8], _kind: ScriptKind) -> Result<Document, SyntaxError> {
    Err(SyntaxError::new(
        0,
        "WiseScript parsing is not implemented yet",
    ))
}
