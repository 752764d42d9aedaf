//! Composing the edits of several fix passes into the changed spans of the original text.
//!
//! The fix engine applies edits in passes: each pass's edits address the text the previous pass
//! produced. To render a diff (or to tell which original lines changed) we need to know, for the
//! original text and the final text, which byte ranges correspond. A [`ChangeMap`] keeps that as
//! a sorted list of [`Span`]s: outside the spans the two texts are byte-identical, and the bytes
//! between two consecutive spans sit at a constant offset from each other.
//!
//! Recording a pass is one merge of the (sorted) spans with the (sorted) edits: linear in the
//! number of spans plus edits, independent of the text's size.
//!
//! The map also keeps the original bytes of every span, so the original text is the final text
//! with each span's `new` bytes put back to its `old` bytes: a fix need not keep the original
//! text beside the fixed one (see [`original_text`]).

use super::{Edit, EditConflict, apply_edits};
use crate::text::TextRange;

/// One changed region: `old` in the original text corresponds to `new` in the final text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Span {
    /// The range in the original text.
    pub old: TextRange,
    /// The range in the current (after the last recorded pass, the final) text.
    pub new: TextRange,
}

/// The changed spans between an original text and the result of any number of edit passes.
///
/// Spans are sorted, non-overlapping and never touch (touching changes are merged), in both
/// coordinates. A span may cover bytes that ended up identical (e.g. an edit that replaced a
/// token with itself); the diff renderer shows only real differences.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChangeMap {
    spans: Vec<Span>,
    /// The original bytes of every span's `old` range, in span order.
    old_bytes: Vec<u8>,
}

/// A change region in the coordinates of the text before the pass being recorded.
#[derive(Clone, Copy)]
enum Piece {
    /// An existing span (its `new` range is in current coordinates) and where its original
    /// bytes start in `old_bytes`.
    Span(Span, usize),
    /// An edit of the pass: `range` in current coordinates, replaced by `len` bytes.
    Edit { range: TextRange, len: usize },
}

impl Piece {
    fn range(self) -> TextRange {
        match self {
            Piece::Span(span, _) => span.new,
            Piece::Edit { range, .. } => range,
        }
    }
}

impl ChangeMap {
    /// No changes yet: the current text is the original.
    pub fn new() -> Self {
        Self::default()
    }

    /// The changed spans so far, sorted.
    pub fn spans(&self) -> &[Span] {
        &self.spans
    }

    pub fn into_spans(self) -> Vec<Span> {
        self.spans
    }

    /// The original bytes of every span's `old` range, concatenated in span order.
    pub fn old_bytes(&self) -> &[u8] {
        &self.old_bytes
    }

    /// The spans and their original bytes (see [`ChangeMap::old_bytes`]).
    pub fn into_parts(self) -> (Vec<Span>, Vec<u8>) {
        (self.spans, self.old_bytes)
    }

    /// Nothing was recorded (or every edit was empty).
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Applies one pass of `edits` to `text` (the current text) and records it.
    pub fn apply_pass(&mut self, text: &[u8], edits: &[Edit]) -> Result<Vec<u8>, EditConflict> {
        let out = apply_edits(text, edits)?;
        self.record_pass(text, edits)?;
        Ok(out)
    }

    /// Records one pass of edits, given in the coordinates of the current text `text` (the
    /// result of the passes recorded so far). The edits may come in any order but must not
    /// overlap, and two inserts at one offset conflict (as for [`apply_edits`]); on error
    /// nothing is recorded.
    ///
    /// Cost: O(edits · log edits + spans), plus copying the original bytes of the spans.
    pub fn record_pass(&mut self, text: &[u8], edits: &[Edit]) -> Result<(), EditConflict> {
        *self = self.recorded(text, edits)?;
        Ok(())
    }

    /// The map with one more pass recorded (see [`ChangeMap::record_pass`]); `self` is left as
    /// it is, for a caller that keeps the pass only if what it makes parses.
    pub fn recorded(&self, text: &[u8], edits: &[Edit]) -> Result<ChangeMap, EditConflict> {
        let mut sorted: Vec<&Edit> = edits
            .iter()
            // An empty edit that inserts nothing changes nothing.
            .filter(|e| !(e.range.is_empty() && e.content.is_empty()))
            .collect();
        sorted.sort_by_key(|e| (e.range.start, e.range.end));
        for pair in sorted.windows(2) {
            let (a, b) = (pair[0].range, pair[1].range);
            if b.start < a.end || (a.is_empty() && b.is_empty() && a.start == b.start) {
                return Err(EditConflict { at: b.start });
            }
        }
        if let Some(outside) = sorted.iter().find(|e| e.range.end > text.len()) {
            return Err(EditConflict {
                at: outside.range.start,
            });
        }
        if sorted.is_empty() {
            return Ok(self.clone());
        }

        // Merge the existing spans and the edits into one stream ordered by start (current
        // coordinates), then group the pieces that overlap or touch.
        let mut pieces = Vec::with_capacity(self.spans.len() + sorted.len());
        let (mut i, mut j) = (0, 0);
        let mut old_at = 0;
        while i < self.spans.len() || j < sorted.len() {
            let take_span = match (self.spans.get(i), sorted.get(j)) {
                (Some(span), Some(edit)) => span.new.start <= edit.range.start,
                (Some(_), None) => true,
                _ => false,
            };
            if take_span {
                let span = self.spans[i];
                pieces.push(Piece::Span(span, old_at));
                old_at += span.old.len();
                i += 1;
            } else {
                let edit = sorted[j];
                pieces.push(Piece::Edit {
                    range: edit.range,
                    len: edit.content.len(),
                });
                j += 1;
            }
        }

        let mut out: Vec<Span> = Vec::with_capacity(pieces.len());
        let mut old_bytes: Vec<u8> = Vec::with_capacity(self.old_bytes.len());
        // Offset from original to current coordinates in the gap before the group (the delta
        // of the last old span seen), and the size change of the edits before the group.
        let mut gap_delta: isize = 0;
        let mut shift: isize = 0;
        let mut k = 0;
        while k < pieces.len() {
            let first = pieces[k].range();
            let (cur_start, mut cur_end) = (first.start, first.end);
            let mut group_delta = gap_delta;
            let mut edit_growth: isize = 0;
            // The group's original bytes: the current text, with the spans' own put back.
            let group_old_start = old_bytes.len();
            let mut copied_to = cur_start;
            while let Some(&piece) = pieces.get(k) {
                let range = piece.range();
                if range.start > cur_end {
                    break;
                }
                cur_end = cur_end.max(range.end);
                match piece {
                    Piece::Span(span, at) => {
                        group_delta = span_end_delta(span);
                        old_bytes.extend_from_slice(&text[copied_to..span.new.start]);
                        old_bytes.extend_from_slice(&self.old_bytes[at..at + span.old.len()]);
                        copied_to = span.new.end;
                    }
                    Piece::Edit { range, len } => {
                        edit_growth += len as isize - range.len() as isize;
                    }
                }
                k += 1;
            }
            old_bytes.extend_from_slice(&text[copied_to..cur_end]);
            let old = TextRange::new(offset(cur_start, -gap_delta), offset(cur_end, -group_delta));
            debug_assert_eq!(old_bytes.len() - group_old_start, old.len());
            let new_start = offset(cur_start, shift);
            let new_len = (cur_end - cur_start) as isize + edit_growth;
            let new = TextRange::new(new_start, offset(new_start, new_len));
            if !(old.is_empty() && new.is_empty()) {
                out.push(Span { old, new });
            }
            old_bytes.truncate(group_old_start + old.len());
            shift += edit_growth;
            gap_delta = group_delta;
        }
        debug_assert!(is_well_formed(&out));
        Ok(ChangeMap {
            spans: out,
            old_bytes,
        })
    }
}

/// The original text of a fixed `text` whose changes are `spans` with original bytes
/// `old_bytes` (see [`ChangeMap::into_parts`]), as pieces in order: the fixed text between the
/// changes and the changes' original bytes. `None` if the spans do not fit the texts.
pub fn original_pieces<'t>(
    text: &'t [u8],
    spans: &[Span],
    old_bytes: &'t [u8],
) -> Option<Vec<&'t [u8]>> {
    let mut pieces = Vec::with_capacity(2 * spans.len() + 1);
    let (mut pos, mut at) = (0, 0);
    for span in spans {
        pieces.push(text.get(pos..span.new.start)?);
        pieces.push(old_bytes.get(at..at + span.old.len())?);
        pos = span.new.end;
        at += span.old.len();
    }
    pieces.push(text.get(pos..)?);
    (at == old_bytes.len()).then_some(pieces)
}

/// [`original_pieces`] joined: the original whole, for the rare steps that need it (see
/// `pipeline::Fixed::original_text`).
pub fn original_text(text: &[u8], spans: &[Span], old_bytes: &[u8]) -> Option<Vec<u8>> {
    Some(original_pieces(text, spans, old_bytes)?.concat())
}

/// Which end of a range an offset is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    Start,
    End,
}

/// Where `offset` of the final text was in the original: exact outside the changed spans; an
/// offset inside a span (its start included for a range's start, excluded for its end) goes
/// to the start or end of the span's `old` range as `end` says, so a range mapped by its two
/// ends covers what the change replaced.
pub fn original_offset(spans: &[Span], offset: usize, end: End) -> usize {
    let before = spans.partition_point(|span| match end {
        End::Start => span.new.start <= offset,
        End::End => span.new.start < offset,
    });
    let Some(span) = before.checked_sub(1).map(|i| spans[i]) else {
        return offset;
    };
    if offset >= span.new.end {
        offset - span.new.end + span.old.end
    } else if end == End::Start {
        span.old.start
    } else {
        span.old.end
    }
}

/// The range of the original text that became `range` of the final text (see
/// [`original_offset`]).
pub fn original_range(spans: &[Span], range: TextRange) -> TextRange {
    let start = original_offset(spans, range.start, End::Start);
    let end = original_offset(spans, range.end, End::End).max(start);
    TextRange::new(start, end)
}

/// Whether `offset` of the final text lies strictly inside a changed span: a cut there has no
/// counterpart in the original.
pub fn inside_a_change(spans: &[Span], offset: usize) -> bool {
    let before = spans.partition_point(|span| span.new.start < offset);
    before
        .checked_sub(1)
        .is_some_and(|i| offset < spans[i].new.end)
}

/// Offset from original to current coordinates just after `span`.
fn span_end_delta(span: Span) -> isize {
    span.new.end as isize - span.old.end as isize
}

fn offset(at: usize, by: isize) -> usize {
    (at as isize + by) as usize
}

fn is_well_formed(spans: &[Span]) -> bool {
    spans.windows(2).all(|w| {
        w[0].old.end < w[1].old.start
            && w[0].new.end < w[1].new.start
            && w[1].new.start as isize - w[0].new.end as isize
                == w[1].old.start as isize - w[0].old.end as isize
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn final_offsets_map_back_to_the_original() {
        // Original `aaXXbbYcc`, final `aabbZZZcc`: `XX` deleted at 2, `Y` replaced by `ZZZ`.
        let original = b"aaXXbbYcc";
        let edits = [
            Edit::delete(TextRange::new(2, 4)),
            Edit::replace(TextRange::new(6, 7), "ZZZ"),
        ];
        let mut map = ChangeMap::new();
        let fixed = map.apply_pass(original, &edits).unwrap();
        assert_eq!(fixed, b"aabbZZZcc");
        let spans = map.spans();
        let start = |o| original_offset(spans, o, End::Start);
        let end = |o| original_offset(spans, o, End::End);
        // Before, between and after the changes: exact.
        assert_eq!((start(0), start(1)), (0, 1));
        assert_eq!(original[start(2)], b'b');
        assert_eq!((start(3), end(3)), (5, 5));
        assert_eq!((start(7), start(8), end(9)), (7, 8, 9));
        // A range ending where the deletion was ends before it.
        assert_eq!(end(2), 2);
        // Inside the replacement: its start, or its end.
        assert_eq!((start(4), start(5), end(5), end(7)), (6, 6, 7, 7));
        assert_eq!(end(4), 6);
        assert_eq!(
            original_range(spans, TextRange::new(4, 7)),
            TextRange::new(6, 7)
        );
        assert_eq!(
            original_range(spans, TextRange::new(0, 9)),
            TextRange::new(0, 9)
        );
        assert!(inside_a_change(spans, 5) && inside_a_change(spans, 6));
        assert!(!inside_a_change(spans, 4) && !inside_a_change(spans, 7));
        assert!(!inside_a_change(spans, 2) && !inside_a_change(spans, 0));
    }

    fn span(old: (usize, usize), new: (usize, usize)) -> Span {
        Span {
            old: TextRange::new(old.0, old.1),
            new: TextRange::new(new.0, new.1),
        }
    }

    #[test]
    fn one_pass_maps_each_edit() {
        let mut map = ChangeMap::new();
        let text = b"0123456789";
        let out = map
            .apply_pass(
                text,
                &[
                    Edit::replace(TextRange::new(1, 3), "abcd"),
                    Edit::delete(TextRange::new(6, 8)),
                ],
            )
            .unwrap();
        assert_eq!(out, b"0abcd34589");
        assert_eq!(map.spans(), &[span((1, 3), (1, 5)), span((6, 8), (8, 8))]);
    }

    #[test]
    fn touching_edits_merge() {
        let mut map = ChangeMap::new();
        map.record_pass(
            b"012345",
            &[Edit::delete(TextRange::new(2, 4)), Edit::insert(4, "xy")],
        )
        .unwrap();
        assert_eq!(map.spans(), &[span((2, 4), (2, 4))]);
        assert_eq!(map.old_bytes(), b"23");
        map.record_pass(
            b"01xy45",
            &[
                Edit::insert(2, "a"),
                Edit::replace(TextRange::new(2, 3), "b"),
            ],
        )
        .unwrap();
        assert_eq!(map.spans(), &[span((2, 4), (2, 5))]);
        assert_eq!(map.old_bytes(), b"23");
    }

    #[test]
    fn overlapping_edits_are_refused_and_nothing_recorded() {
        let mut map = ChangeMap::new();
        let text = b"0123456789";
        map.record_pass(text, &[Edit::insert(1, "a")]).unwrap();
        let before = map.clone();
        assert_eq!(
            map.record_pass(
                text,
                &[
                    Edit::delete(TextRange::new(2, 5)),
                    Edit::delete(TextRange::new(4, 6)),
                ]
            ),
            Err(EditConflict { at: 4 })
        );
        assert_eq!(
            map.record_pass(text, &[Edit::insert(3, "x"), Edit::insert(3, "y")]),
            Err(EditConflict { at: 3 })
        );
        assert_eq!(
            map.record_pass(text, &[Edit::delete(TextRange::new(9, 11))]),
            Err(EditConflict { at: 9 })
        );
        assert_eq!(map, before);
    }

    #[test]
    fn later_passes_compose() {
        let mut map = ChangeMap::new();
        let text = b"aaaa\nbbbb\ncccc\n".to_vec();
        let t1 = map
            .apply_pass(&text, &[Edit::delete(TextRange::new(5, 10))])
            .unwrap();
        assert_eq!(t1, b"aaaa\ncccc\n");
        // Second pass edits both before and inside/around the first change.
        let t2 = map
            .apply_pass(
                &t1,
                &[
                    Edit::replace(TextRange::new(0, 1), "A"),
                    Edit::insert(5, "new\n"),
                    Edit::replace(TextRange::new(9, 10), "\r\n"),
                ],
            )
            .unwrap();
        assert_eq!(t2, b"Aaaa\nnew\ncccc\r\n");
        assert_eq!(
            map.spans(),
            &[
                span((0, 1), (0, 1)),
                span((5, 10), (5, 9)),
                span((14, 15), (13, 15))
            ]
        );
    }

    #[test]
    fn empty_edits_are_ignored_and_noops_vanish() {
        let mut map = ChangeMap::new();
        map.record_pass(b"0123", &[Edit::insert(3, "")]).unwrap();
        assert!(map.is_empty());
        map.record_pass(b"0123", &[Edit::insert(3, "xy")]).unwrap();
        map.record_pass(b"012xy3", &[Edit::delete(TextRange::new(3, 5))])
            .unwrap();
        assert!(map.is_empty());
        assert!(map.old_bytes().is_empty());
    }

    mod properties {
        use super::*;
        use proptest::collection::vec;
        use proptest::prelude::*;

        fn byte() -> impl Strategy<Value = u8> {
            prop_oneof![Just(b'a'), Just(b'b'), Just(b'\n'), Just(b'\r'), Just(0xE9),]
        }

        /// (position seed, bytes to delete, bytes to insert)
        type EditSpec = (u16, usize, Vec<u8>);

        fn edit_spec() -> impl Strategy<Value = EditSpec> {
            (any::<u16>(), 0usize..6, vec(byte(), 0..5))
        }

        /// Turns seeds into valid, non-overlapping edits of `text`.
        fn materialize(text: &[u8], specs: &[EditSpec], reverse: bool) -> Vec<Edit> {
            let mut positions: Vec<(usize, usize, &Vec<u8>)> = specs
                .iter()
                .map(|(seed, del, ins)| (*seed as usize % (text.len() + 1), *del, ins))
                .collect();
            positions.sort_by_key(|p| p.0);
            let mut edits = Vec::new();
            let mut cursor = 0;
            let mut last_insert = None;
            for (pos, del, ins) in positions {
                let start = pos.max(cursor);
                if start > text.len() {
                    continue;
                }
                let end = (start + del).min(text.len());
                if start == end && last_insert == Some(start) {
                    continue;
                }
                if start == end {
                    last_insert = Some(start);
                }
                edits.push(Edit::replace(TextRange::new(start, end), ins.clone()));
                cursor = end;
            }
            if reverse {
                edits.reverse();
            }
            edits
        }

        /// Replacing each span's `old` bytes with its `new` bytes gives the final text, and
        /// the bytes between spans are identical.
        fn check(original: &[u8], last: &[u8], spans: &[Span]) -> Result<(), TestCaseError> {
            let mut out = Vec::new();
            let (mut old_pos, mut new_pos) = (0, 0);
            for (k, span) in spans.iter().enumerate() {
                if k > 0 {
                    prop_assert!(span.old.start > old_pos, "spans touch in the original");
                    prop_assert!(span.new.start > new_pos, "spans touch in the final text");
                }
                prop_assert!(span.old.start >= old_pos && span.old.end <= original.len());
                prop_assert!(span.new.start >= new_pos && span.new.end <= last.len());
                prop_assert_eq!(
                    &original[old_pos..span.old.start],
                    &last[new_pos..span.new.start]
                );
                out.extend_from_slice(&original[old_pos..span.old.start]);
                out.extend_from_slice(span.new.slice(last));
                old_pos = span.old.end;
                new_pos = span.new.end;
            }
            prop_assert_eq!(&original[old_pos..], &last[new_pos..]);
            out.extend_from_slice(&original[old_pos..]);
            prop_assert_eq!(out, last);
            Ok(())
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(2000))]

            #[test]
            fn spans_reproduce_the_final_text(
                text in vec(byte(), 0..40),
                passes in vec((vec(edit_spec(), 0..6), any::<bool>()), 1..6),
            ) {
                let mut map = ChangeMap::new();
                let mut current = text.clone();
                // The same passes applied in place, after a byte-order mark.
                let mut in_place = [b"\xEF\xBB\xBF", text.as_slice()].concat();
                let mut in_place_map = ChangeMap::new();
                for (specs, reverse) in &passes {
                    let edits = materialize(&current, specs, *reverse);
                    current = map.apply_pass(&current, &edits).unwrap();
                    check(&text, &current, map.spans())?;
                    prop_assert_eq!(
                        original_text(&current, map.spans(), map.old_bytes()),
                        Some(text.clone())
                    );
                    in_place_map = in_place_map.recorded(&in_place[3..], &edits).unwrap();
                    crate::fix::apply_edits_in_place(&mut in_place, 3, &edits).unwrap();
                    prop_assert_eq!(&in_place[3..], current.as_slice());
                    prop_assert_eq!(&in_place_map, &map);
                }
            }
        }
    }
}
