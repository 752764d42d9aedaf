//! Turning [`Change`]s into edits of a `.reg` export.

use super::{Change, Edit};
use crate::syntax::reg::RegFile;

/// Plans the edits for `changes` on `file` (whose working text is `text`).
pub fn plan(_file: &RegFile, _text: &[u8], _changes: &[Change]) -> Vec<Edit> {
    Vec::new()
}
