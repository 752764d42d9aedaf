//! Invariants a fixed script must keep before it is written (RULES.md): `Total Keys` equals
//! the number of keys of every Edit Registry item, and a single key is in the flat form.

use rayon::prelude::*;

use crate::fix::changes::Span;
use crate::pieces::ITEMS_PER_JOB;
use crate::syntax::wise::{Document, RegistryForm};
use crate::text::TextRange;

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

/// The [`total_keys_problems`] of the items whose top-level item meets (overlaps or touches)
/// one of `changed` (sorted, non-overlapping ranges of the text).
fn total_keys_problems_meeting(
    doc: &Document,
    text: &[u8],
    changed: &[TextRange],
) -> Vec<TextRange> {
    // Whole top-level items: a change to an ancestor (say, its `remarked` prefix) can change
    // how an item's keys read. Items and changes are both in text order: one walk over both.
    let mut subtrees: Vec<std::ops::Range<u32>> = Vec::new();
    let mut top = 0u32;
    let mut k = 0;
    while let Some(item) = doc.item(top) {
        let end = item.subtree_end().max(top + 1);
        let range = item.range();
        // The first changed range that does not end before this item (nor before any later
        // one, as items come in order).
        while changed.get(k).is_some_and(|c| c.end < range.start) {
            k += 1;
        }
        if k == changed.len() {
            break;
        }
        if changed[k].start <= range.end {
            subtrees.push(top..end);
        }
        top = end;
    }
    subtrees
        .into_par_iter()
        .flat_map_iter(|subtree| {
            subtree.filter_map(|index| total_keys_problem_of(doc, text, index))
        })
        .collect()
}

/// A description of the problem if `fixed` has more inconsistent Edit Registry items than
/// the original had (a hand-made inconsistency in the input is not the fix's fault).
///
/// `spans` are what changed (see [`Span`]). A top-level item that meets no span is the same
/// bytes in both texts, and whether an item in it is consistent depends on that top-level item
/// alone, so such items count the same on both sides: only the items of top-level items that
/// meet a span are examined. `original` gives the original's tree and text; it is asked for
/// only when the fixed text has such an item (`None`: it cannot be had, and every such item
/// counts as new).
pub fn total_keys_problem(
    fixed: (&Document, &[u8]),
    spans: &[Span],
    original: impl FnOnce() -> Option<(Document, Vec<u8>)>,
) -> Option<String> {
    let new: Vec<TextRange> = spans.iter().map(|s| s.new).collect();
    let after = total_keys_problems_meeting(fixed.0, fixed.1, &new);
    if after.is_empty() {
        // Nothing to compare (the usual case): the original need not be looked at.
        return None;
    }
    let old: Vec<TextRange> = spans.iter().map(|s| s.old).collect();
    let before = original().map_or(0, |(doc, text)| {
        total_keys_problems_meeting(&doc, &text, &old).len()
    });
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

        // Restricted to the top-level items that meet a change: all of them for a change
        // covering the text, none for no change, the one holding a change otherwise (here
        // the inconsistent item that ends just where the change starts, and the one it is in).
        let whole = [TextRange::new(0, text.len())];
        assert_eq!(total_keys_problems_meeting(&doc, &text, &whole), in_order);
        assert_eq!(total_keys_problems_meeting(&doc, &text, &[]), Vec::new());
        let first = in_order[0];
        let item = (0..doc.items().len() as u32)
            .filter_map(|i| doc.item(i))
            .find(|i| i.head() == first)
            .unwrap();
        let touching = [TextRange::empty(item.range().end)];
        assert_eq!(
            total_keys_problems_meeting(&doc, &text, &touching),
            vec![first]
        );
    }

    #[test]
    fn a_broken_item_is_found_only_when_a_change_meets_it() {
        let original = b"Document Type: WSE\nitem: Edit Registry\n  Total Keys=2\n  item: Key\n    Key=A\n  end\n  item: Key\n    Key=B\n  end\nend\nitem: Remark\nend\n";
        // The second key removed, `Total Keys` left at 2: what a broken fix would write.
        let fixed = b"Document Type: WSE\nitem: Edit Registry\n  Total Keys=2\n  item: Key\n    Key=A\n  end\nend\nitem: Remark\nend\n";
        let parse = |t: &[u8]| crate::syntax::wise::parse(t, ScriptKind::Wse).unwrap();
        let (before, after) = (parse(original), parse(fixed));
        let removed = b"  item: Key\n    Key=B\n  end\n".len();
        let at = fixed.len() - b"end\nitem: Remark\nend\n".len();
        let span = Span {
            old: TextRange::new(at, at + removed),
            new: TextRange::empty(at),
        };
        let original_of = || Some((before.clone(), original.to_vec()));
        let problem = total_keys_problem((&after, fixed), &[span], original_of);
        assert!(problem.is_some_and(|p| p.contains("Total Keys")));
        // The same texts with the change said to be elsewhere (in the Remark): not examined,
        // and the original is not asked for.
        let elsewhere = Span {
            old: TextRange::empty(original.len() - 1),
            new: TextRange::empty(fixed.len() - 1),
        };
        let not_asked = || -> Option<(Document, Vec<u8>)> { panic!("original asked for") };
        assert_eq!(
            total_keys_problem((&after, fixed), &[elsewhere], not_asked),
            None
        );
        // An item that was already inconsistent in the original is not the fix's fault.
        let already_broken = || Some((after.clone(), fixed.to_vec()));
        assert_eq!(
            total_keys_problem((&after, fixed), &[span], already_broken),
            None
        );
    }
}
