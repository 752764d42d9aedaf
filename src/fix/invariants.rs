//! Invariants a fixed script must keep before it is written (RULES.md): `Total Keys` equals
//! the number of keys of every Edit Registry item, and a single key is in the flat form.

use rayon::prelude::*;

use crate::syntax::wise::{Document, RegistryForm};
use crate::text::TextRange;

/// Items checked per job on the pool: a small script is checked by one job, a big capture (the
/// check of every fixed file, after the last pass) by all the pool's threads.
const ITEMS_PER_JOB: usize = 1 << 14;

/// Edit Registry items (by their head line) whose `Total Keys` disagrees with their keys, or
/// that are nested with a single key that could be flat. In file order.
pub fn total_keys_problems(doc: &Document, text: &[u8]) -> Vec<TextRange> {
    (0..doc.items().len() as u32)
        .into_par_iter()
        .with_min_len(ITEMS_PER_JOB)
        .filter_map(|index| total_keys_problem_of(doc, text, index))
        .collect()
}

/// The head line of item `index` if it is an inconsistent Edit Registry item.
fn total_keys_problem_of(doc: &Document, text: &[u8], index: u32) -> Option<TextRange> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::ScriptKind;

    #[test]
    fn problems_found_on_the_pool_are_those_found_in_order() {
        // Enough items for several jobs; three Edit Registry items in four are inconsistent.
        let mut text = b"Document Type: WSE\n".to_vec();
        for k in 0..3 * ITEMS_PER_JOB / 4 {
            let total = [2, 2, 1, 3][k % 4];
            text.extend_from_slice(b"item: Edit Registry\n");
            text.extend_from_slice(format!("  Total Keys={total}\n").as_bytes());
            for key in 0..2 - k % 2 {
                text.extend_from_slice(format!("  item: Key\n    Key=K{key}\n  end\n").as_bytes());
            }
            text.extend_from_slice(b"end\nitem: Remark\nend\n");
        }
        let doc = crate::syntax::wise::parse(&text, ScriptKind::Wse).unwrap();
        let in_order: Vec<TextRange> = (0..doc.items().len() as u32)
            .filter_map(|index| total_keys_problem_of(&doc, &text, index))
            .collect();
        assert!(in_order.len() > ITEMS_PER_JOB / 4, "{}", in_order.len());
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .unwrap();
        assert_eq!(pool.install(|| total_keys_problems(&doc, &text)), in_order);
    }
}
