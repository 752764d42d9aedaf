//! Turning [`Change`]s into edits of a WiseScript document.

use super::{Change, Edit};
use crate::syntax::wise::Document;

/// Plans the edits for `changes` on `doc` (whose working text is `text`).
pub fn plan(_doc: &Document, _text: &[u8], _changes: &[Change]) -> Vec<Edit> {
    Vec::new()
}
