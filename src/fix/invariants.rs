//! Invariants a fixed script must keep before it is written (RULES.md): `Total Keys` equals
//! the number of keys of every Edit Registry item, and a single key is in the flat form.

use crate::syntax::wise::{Document, RegistryForm};
use crate::text::TextRange;

/// Edit Registry items (by their head line) whose `Total Keys` disagrees with their keys, or
/// that are nested with a single key that could be flat.
pub fn total_keys_problems(doc: &Document, text: &[u8]) -> Vec<TextRange> {
    (0..doc.items().len() as u32)
        .filter_map(|index| {
            let item = doc.edit_registry(text, index)?;
            let keys = item.key_count();
            let bad = match item.form {
                RegistryForm::Wise5 => false,
                RegistryForm::Flat => item.total_keys_value(text) != Some(1),
                RegistryForm::Nested => {
                    // One key stays nested only when flattening would change it: a remarked key
                    // (flattening activates it) or one holding items of its own.
                    let flattenable = keys == 1
                        && item.keys().all(|k| {
                            k.active()
                                && doc
                                    .item(k.holder)
                                    .is_some_and(|i| i.subtree_end() == k.holder + 1)
                        });
                    flattenable || item.total_keys_value(text) != u32::try_from(keys).ok()
                }
            };
            bad.then(|| doc.item(index).map(|i| i.head())).flatten()
        })
        .collect()
}

/// A description of the problem if `fixed` has more inconsistent Edit Registry items than
/// `original` had (a hand-made inconsistency in the input is not the fix's fault).
pub fn total_keys_problem(
    original: (&Document, &[u8]),
    fixed: (&Document, &[u8]),
) -> Option<String> {
    let after = total_keys_problems(fixed.0, fixed.1);
    if after.is_empty() {
        // Nothing to compare (the usual case): the original need not be scanned.
        return None;
    }
    let before = total_keys_problems(original.0, original.1).len();
    (after.len() > before).then(|| {
        format!(
            "a fix left an Edit Registry item whose `Total Keys` does not match its keys (byte {})",
            after.first().map_or(0, |r| r.start)
        )
    })
}
