//! Splicing a set of edits into a text in one linear pass.
//!
//! The result is the untouched stretches of the text and the edits' contents, in order. A big
//! result is filled in pieces on the rayon pool: writing fresh memory costs a page fault per
//! page, which only spreads over the cores when the pages are first touched by several threads.

use rayon::prelude::*;

use super::Edit;

/// Two edits touch the same bytes (or insert at the same point); the caller must not pass them
/// together.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("overlapping edits at byte {at}")]
pub struct EditConflict {
    pub at: usize,
}

/// Results of at least this many bytes are built in pieces on the pool.
const PIECES_FROM: usize = 1 << 20;

/// Applies `edits` (any order) to `text`. Linear in `text.len()` plus the edits' size.
/// Edits must lie within the text and must not overlap; two inserts at one offset conflict.
pub fn apply_edits(text: &[u8], edits: &[Edit]) -> Result<Vec<u8>, EditConflict> {
    let threads = rayon::current_num_threads();
    let sorted = sorted_edits(text, edits)?;
    let len = result_len(text, &sorted);
    if len < PIECES_FROM || threads < 2 {
        return Ok(apply_in_one(text, &sorted, len));
    }
    Ok(apply_in_pieces(text, &sorted, len, threads * 4))
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

/// The result as consecutive byte slices, from the untouched stretch before `sorted[first]`:
/// stretch, content, stretch, content, ..., the text after the last edit.
fn segments<'a>(
    text: &'a [u8],
    sorted: &'a [&'a Edit],
    first: usize,
) -> impl Iterator<Item = &'a [u8]> + 'a {
    let stretch_start = |i: usize| match i {
        0 => 0,
        i => sorted[i - 1].range.end,
    };
    let edits = sorted[first..]
        .iter()
        .enumerate()
        .flat_map(move |(k, edit)| {
            let before = &text[stretch_start(first + k)..edit.range.start];
            [before, edit.content.as_slice()]
        });
    edits.chain(std::iter::once(&text[stretch_start(sorted.len())..]))
}

fn apply_in_one(text: &[u8], sorted: &[&Edit], len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len);
    for segment in segments(text, sorted, 0) {
        out.extend_from_slice(segment);
    }
    out
}

/// [`apply_in_one`] in (at most) `pieces` equal parts of the result, each filled by a worker
/// into its own slice of a zeroed buffer (whose pages are not touched until then).
fn apply_in_pieces(text: &[u8], sorted: &[&Edit], len: usize, pieces: usize) -> Vec<u8> {
    // Where each edit's untouched stretch starts in the result.
    let mut stretch_at = Vec::with_capacity(sorted.len());
    let (mut at, mut pos) = (0, 0);
    for edit in sorted {
        stretch_at.push(at);
        at += edit.range.start - pos + edit.content.len();
        pos = edit.range.end;
    }
    let mut out = vec![0u8; len];
    let piece_len = len.div_ceil(pieces.max(1)).max(1);
    out.par_chunks_mut(piece_len)
        .enumerate()
        .for_each(|(k, piece)| {
            let from = k * piece_len;
            // The first segment reaching into the piece: the stretch before the last edit whose
            // stretch starts at or before `from` (the text's start if none).
            let first = stretch_at
                .partition_point(|&at| at <= from)
                .saturating_sub(1);
            let skip = from - stretch_at.get(first).copied().unwrap_or(0);
            fill(piece, skip, segments(text, sorted, first));
        });
    out
}

/// Fills `out` with the concatenated `segments`, less their first `skip` bytes.
fn fill<'a>(out: &mut [u8], mut skip: usize, segments: impl Iterator<Item = &'a [u8]>) {
    let mut filled = 0;
    for segment in segments {
        if filled == out.len() {
            break;
        }
        if skip >= segment.len() {
            skip -= segment.len();
            continue;
        }
        let segment = &segment[skip..];
        skip = 0;
        let n = segment.len().min(out.len() - filled);
        out[filled..filled + n].copy_from_slice(&segment[..n]);
        filled += n;
    }
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

    #[test]
    fn a_big_result_is_the_same_in_pieces() {
        // Past the size where `apply_edits` builds in pieces; edits every few hundred bytes.
        let text: Vec<u8> = (0..3 * PIECES_FROM as u32)
            .map(|i| (i % 251) as u8)
            .collect();
        let edits: Vec<Edit> = (0..text.len() / 997)
            .map(|k| match k % 3 {
                0 => Edit::delete(TextRange::new(k * 997, k * 997 + 13)),
                1 => Edit::insert(k * 997, vec![b'x'; k % 50]),
                _ => Edit::replace(TextRange::new(k * 997, k * 997 + 5), "replaced"),
            })
            .collect();
        let sorted = sorted_edits(&text, &edits).unwrap();
        let whole = apply_in_one(&text, &sorted, result_len(&text, &sorted));
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .unwrap();
        assert_eq!(pool.install(|| apply_edits(&text, &edits)).unwrap(), whole);
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

            /// Filling the result in pieces gives the result built in one, whatever the
            /// number of pieces and wherever their borders fall (inside stretches, inside
            /// edit contents, on edit borders).
            #[test]
            fn pieces_equal_one_piece(
                text in vec(any::<u8>(), 0..200),
                seeds in vec((0usize..30, 0usize..8, vec(any::<u8>(), 0..12)), 0..12),
                pieces in 1usize..40,
                reverse in any::<bool>(),
            ) {
                let mut edits = edits_of(text.len(), &seeds);
                if reverse {
                    edits.reverse();
                }
                let sorted = sorted_edits(&text, &edits).unwrap();
                let len = result_len(&text, &sorted);
                let whole = apply_in_one(&text, &sorted, len);
                prop_assert_eq!(whole.len(), len);
                prop_assert_eq!(apply_in_pieces(&text, &sorted, len, pieces), whole);
            }

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
