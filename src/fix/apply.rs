//! Splicing a set of edits into a text in one linear pass.
//!
//! The result is the untouched stretches of the text and the edits' contents, in order: in a
//! new text ([`apply_edits`]), or moved in the text's own buffer ([`apply_edits_in_place`], what
//! `fix` does to a big capture, whose second copy would cost a page fault per page).

use super::{Change, Edit};
use crate::text::TextRange;

/// A planner's `edits` (removals of whole elements or rows, and its own changes) joined by the
/// replacements of `changes` that none of them meets, sorted, without duplicates, and with the
/// first of any overlapping edits kept: a removal takes what a replacement inside it changed.
pub(super) fn with_replacements(
    text_len: usize,
    mut edits: Vec<Edit>,
    changes: &[Change],
) -> Vec<Edit> {
    let removed: Vec<TextRange> = edits.iter().map(|e| e.range).collect();
    for change in changes {
        if let Change::Replace(edit) | Change::ToCurrentControlSet { edit, .. } = change
            && edit.range.start <= edit.range.end
            && edit.range.end <= text_len
            && !removed.iter().any(|r| meets(*r, edit.range))
        {
            edits.push(edit.clone());
        }
    }
    edits.sort_by_key(|e| (e.range.start, e.range.end));
    edits.dedup();
    let mut kept: Vec<Edit> = Vec::with_capacity(edits.len());
    for edit in edits {
        if kept
            .last()
            .is_none_or(|last| last.range.end <= edit.range.start)
        {
            kept.push(edit);
        }
    }
    kept
}

/// `a` and `b` share a byte, or one is an insertion inside the other.
fn meets(a: TextRange, b: TextRange) -> bool {
    if b.is_empty() {
        return a.start < b.start && b.start < a.end;
    }
    a.start < b.end && b.start < a.end
}

/// Two edits touch the same bytes (or insert at the same point); the caller must not pass them
/// together.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("overlapping edits at byte {at}")]
pub struct EditConflict {
    pub at: usize,
}

/// Applies `edits` (any order) to `text`. Linear in `text.len()` plus the edits' size.
/// Edits must lie within the text and must not overlap; two inserts at one offset conflict.
pub fn apply_edits(text: &[u8], edits: &[Edit]) -> Result<Vec<u8>, EditConflict> {
    let sorted = sorted_edits(text, edits)?;
    let mut out = Vec::with_capacity(result_len(text, &sorted));
    for segment in segments(text, &sorted) {
        out.extend_from_slice(segment);
    }
    Ok(out)
}

/// [`apply_edits`] in place: `buf[base..]` is the text, and becomes the result (`buf[..base]`,
/// say a byte-order mark, is kept). Nothing is allocated unless the result is longer than the
/// text: a fix pass over a big capture moves the text once instead of first touching the pages
/// of a second copy. On error `buf` is unchanged.
pub fn apply_edits_in_place(
    buf: &mut Vec<u8>,
    base: usize,
    edits: &[Edit],
) -> Result<(), EditConflict> {
    let text_len = buf.len().saturating_sub(base);
    let sorted = sorted_edits(buf.get(base..).unwrap_or(&[]), edits)?;
    let len = result_len(buf.get(base..).unwrap_or(&[]), &sorted);
    // The untouched stretches: (start in the text, length, where it goes in the result).
    let mut stretches: Vec<(usize, usize, usize)> = Vec::with_capacity(sorted.len() + 1);
    let (mut pos, mut at) = (0, 0);
    for edit in &sorted {
        stretches.push((pos, edit.range.start - pos, at));
        at += edit.range.start - pos + edit.content.len();
        pos = edit.range.end;
    }
    stretches.push((pos, text_len - pos, at));
    buf.resize(base + len.max(text_len), 0);
    // A stretch moving left only overwrites bytes of stretches before it (moved already, in
    // this order) or of edited ranges; one moving right only bytes after it (moved already,
    // in the reverse order) or of edited ranges. The contents go in last.
    for &(from, n, to) in stretches.iter().filter(|s| s.2 < s.0) {
        buf.copy_within(base + from..base + from + n, base + to);
    }
    for &(from, n, to) in stretches.iter().rev().filter(|s| s.2 > s.0) {
        buf.copy_within(base + from..base + from + n, base + to);
    }
    for (edit, &(_, n, to)) in sorted.iter().zip(&stretches) {
        let at = base + to + n;
        buf[at..at + edit.content.len()].copy_from_slice(&edit.content);
    }
    buf.truncate(base + len);
    Ok(())
}

/// The edits that turn the result of applying `edits` to `text` back into `text`. Edits that
/// meet in the result (two deletions side by side become one point) are merged, so the undo
/// edits never conflict.
pub fn undo_edits(text: &[u8], edits: &[Edit]) -> Result<Vec<Edit>, EditConflict> {
    let sorted = sorted_edits(text, edits)?;
    let mut undo: Vec<Edit> = Vec::with_capacity(sorted.len());
    let mut shift: isize = 0;
    for edit in sorted {
        let start = (edit.range.start as isize + shift) as usize;
        shift += edit.content.len() as isize - edit.range.len() as isize;
        let range = crate::text::TextRange::new(start, start + edit.content.len());
        match undo.last_mut() {
            Some(last) if last.range.end == start => {
                last.range = crate::text::TextRange::new(last.range.start, range.end);
                last.content.extend_from_slice(edit.range.slice(text));
            }
            _ => undo.push(Edit::replace(range, edit.range.slice(text))),
        }
    }
    Ok(undo)
}

/// The edits sorted by range, checked to lie within `text` and not to overlap.
pub(super) fn sorted_edits<'e>(
    text: &[u8],
    edits: &'e [Edit],
) -> Result<Vec<&'e Edit>, EditConflict> {
    let mut sorted: Vec<&Edit> = edits.iter().collect();
    sorted.sort_by_key(|e| (e.range.start, e.range.end));
    let mut pos = 0;
    let mut last_insert_at = None;
    for edit in &sorted {
        let (start, end) = (edit.range.start, edit.range.end);
        if start < pos
            || end > text.len()
            || (edit.range.is_empty() && last_insert_at == Some(start))
        {
            return Err(EditConflict { at: start });
        }
        if edit.range.is_empty() {
            last_insert_at = Some(start);
        }
        pos = end;
    }
    Ok(sorted)
}

/// The length of `text` with the (checked) `sorted` edits applied.
fn result_len(text: &[u8], sorted: &[&Edit]) -> usize {
    let removed: usize = sorted.iter().map(|e| e.range.len()).sum();
    let added: usize = sorted.iter().map(|e| e.content.len()).sum();
    text.len() - removed + added
}

/// The result as consecutive byte slices: stretch, content, stretch, content, ..., the text
/// after the last edit.
fn segments<'a>(text: &'a [u8], sorted: &'a [&'a Edit]) -> impl Iterator<Item = &'a [u8]> + 'a {
    let stretch_start = |i: usize| match i {
        0 => 0,
        i => sorted[i - 1].range.end,
    };
    let edits = sorted.iter().enumerate().flat_map(move |(k, edit)| {
        let before = &text[stretch_start(k)..edit.range.start];
        [before, edit.content.as_slice()]
    });
    edits.chain(std::iter::once(&text[stretch_start(sorted.len())..]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::TextRange;

    #[test]
    fn applies_in_any_order() {
        let edits = [
            Edit::replace(TextRange::new(6, 11), "there"),
            Edit::delete(TextRange::new(0, 1)),
            Edit::insert(5, ","),
        ];
        assert_eq!(
            apply_edits(b"hello world!", &edits).unwrap(),
            b"ello, there!"
        );
    }

    #[test]
    fn refuses_overlaps() {
        let edits = [
            Edit::delete(TextRange::new(0, 5)),
            Edit::delete(TextRange::new(4, 6)),
        ];
        assert_eq!(
            apply_edits(b"0123456789", &edits),
            Err(EditConflict { at: 4 })
        );
        let inserts = [Edit::insert(3, "a"), Edit::insert(3, "b")];
        assert!(apply_edits(b"0123", &inserts).is_err());
        let outside = [Edit::delete(TextRange::new(2, 9))];
        assert!(apply_edits(b"0123", &outside).is_err());
    }

    #[test]
    fn in_place_refuses_what_apply_edits_refuses_and_keeps_the_text() {
        let mut buf = b"BOM0123456789".to_vec();
        let overlapping = [
            Edit::delete(TextRange::new(0, 5)),
            Edit::replace(TextRange::new(4, 6), "x"),
        ];
        let outside = [Edit::delete(TextRange::new(0, 1)), Edit::insert(11, "x")];
        for edits in [&overlapping[..], &outside] {
            let refused = apply_edits(b"0123456789", edits).unwrap_err();
            assert_eq!(apply_edits_in_place(&mut buf, 3, edits), Err(refused));
            assert_eq!(buf, b"BOM0123456789");
        }
        let edits = [
            Edit::delete(TextRange::new(0, 1)),
            Edit::insert(5, "long insertion"),
            Edit::replace(TextRange::new(8, 10), ""),
        ];
        apply_edits_in_place(&mut buf, 3, &edits).unwrap();
        assert_eq!(buf, b"BOM1234long insertion567");
    }

    #[test]
    fn adjacent_edits_are_fine() {
        let edits = [
            Edit::delete(TextRange::new(0, 2)),
            Edit::replace(TextRange::new(2, 4), "X"),
        ];
        assert_eq!(apply_edits(b"0123", &edits).unwrap(), b"X");
    }

    mod properties {
        use super::*;
        use proptest::collection::vec;
        use proptest::prelude::*;

        /// Valid edits of a text of `len` bytes from (gap, deleted, inserted) seeds.
        fn edits_of(len: usize, seeds: &[(usize, usize, Vec<u8>)]) -> Vec<Edit> {
            let mut edits = Vec::new();
            let mut pos = 0;
            for (gap, del, ins) in seeds {
                let start = pos + gap;
                if start > len {
                    break;
                }
                let end = (start + del).min(len);
                // Two inserts at one offset conflict: keep only the first.
                if start == end
                    && edits
                        .last()
                        .is_some_and(|e: &Edit| e.range == TextRange::empty(start))
                {
                    continue;
                }
                edits.push(Edit::replace(TextRange::new(start, end), ins.clone()));
                pos = end;
            }
            edits
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(1000))]

            /// Applying in place gives what applying into a new text gives, after any
            /// prefix, whether the result grows, shrinks or both in turn.
            #[test]
            fn in_place_equals_a_new_text(
                prefix in vec(any::<u8>(), 0..4),
                text in vec(any::<u8>(), 0..200),
                seeds in vec((0usize..30, 0usize..8, vec(any::<u8>(), 0..12)), 0..12),
                reverse in any::<bool>(),
            ) {
                let mut edits = edits_of(text.len(), &seeds);
                if reverse {
                    edits.reverse();
                }
                let expected = apply_edits(&text, &edits).unwrap();
                let mut buf = [prefix.as_slice(), &text].concat();
                apply_edits_in_place(&mut buf, prefix.len(), &edits).unwrap();
                prop_assert_eq!(&buf[..prefix.len()], prefix.as_slice());
                prop_assert_eq!(&buf[prefix.len()..], expected.as_slice());
                // And undone.
                let undo = undo_edits(&text, &edits).unwrap();
                apply_edits_in_place(&mut buf, prefix.len(), &undo).unwrap();
                prop_assert_eq!(&buf[prefix.len()..], text.as_slice());
            }
        }
    }
}
