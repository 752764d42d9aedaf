//! Invariants a fixed script must keep before it is written.

use crate::syntax::wise::Document;

/// A description of the first Edit Registry item whose `Total Keys` disagrees with its keys.
pub fn total_keys_problem(_doc: &Document, _text: &[u8]) -> Option<String> {
    None
}
