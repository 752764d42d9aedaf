//! Re-parsing an edited script by splicing. Each top-level item owns a slot of the text: from
//! its head line to the next top-level head (the last one to the end), blank lines after it
//! included. Runs of slots that no replacement touches are copied from the previous tree with
//! their offsets shifted; runs that one touches are parsed again, as pieces of a split parse
//! are. The control-flow regions are then assigned over the whole, as after a split parse.
//!
//! A fix pass edits a few thousand items of a capture of hundreds of thousands, so the second
//! pass of `svcscrub fix` copies most of the tree instead of parsing 60 MB again. Whenever
//! splicing is not certain to give the tree a full parse gives (a replacement before the first
//! item, a piece that does not parse or ends inside an item, a slot that would not start a
//! line), the text is parsed in full, so the tree and any error are exactly [`parse`]'s.

use super::parser::{Tree, lines};
use super::views::Regions;
use super::{Document, Item, LongLine, NONE, OFFSET_BITS, OFFSET_MASK, parse};
use crate::syntax::{Replacement, SyntaxError};
use crate::text::TextRange;

/// See [`crate::syntax::reparse`].
pub fn reparse(
    previous: &Document,
    text: &[u8],
    replacements: &[Replacement],
) -> Result<Document, SyntaxError> {
    match splice(previous, text, replacements) {
        Some(doc) => {
            debug_assert!(doc.print(text) == text, "spliced tree does not print back");
            Ok(doc)
        }
        None => parse(text, previous.kind),
    }
}

/// The spliced tree, or `None` where only a full parse is certain to be right.
fn splice(previous: &Document, text: &[u8], replacements: &[Replacement]) -> Option<Document> {
    let items = &previous.items;
    let old_len = previous.len;
    if replacements.is_empty() || text.len() >= 1 << OFFSET_BITS {
        return None;
    }
    // Sorted, inside the old text, and accounting for the new text's length.
    let mut pos = 0;
    let mut new_len = old_len as i64;
    for r in replacements {
        if r.old.start < pos || r.old.start > r.old.end || r.old.end > old_len {
            return None;
        }
        pos = r.old.end;
        new_len += r.len as i64 - r.old.len() as i64;
    }
    if new_len != text.len() as i64 {
        return None;
    }

    let tops: Vec<u32> = previous.top_level().collect();
    let starts: Vec<usize> = tops
        .iter()
        .map(|&t| items[t as usize].head_start as usize)
        .collect();
    let slot_end = |k: usize| starts.get(k + 1).copied().unwrap_or(old_len);
    // The header and anything before the first item are parsed only by a full parse.
    let first_start = *starts.first()?;
    if replacements[0].old.start < first_start {
        return None;
    }
    // Slots touched by a replacement: the one holding its start (an insertion at a slot's
    // start goes before that slot's item) through the last one starting before its end.
    let mut dirty = vec![false; tops.len()];
    for r in replacements {
        let first = starts.partition_point(|&s| s <= r.old.start) - 1;
        let last = if r.old.is_empty() {
            first
        } else {
            starts.partition_point(|&s| s < r.old.end) - 1
        };
        dirty[first..=last].fill(true);
    }

    let mut out = Tree {
        items: Vec::with_capacity(items.len() + items.len() / 64),
        own_lines: Vec::with_capacity(previous.own_lines.len() + previous.own_lines.len() / 64),
        long_lines: Vec::new(),
        blanks: Vec::with_capacity(previous.blanks.len()),
    };
    // Blank lines between the header and the first item stay where they were.
    let before = previous.blanks.partition_point(|b| b.start < first_start);
    out.blanks.extend_from_slice(&previous.blanks[..before]);

    let line_start = |at: usize| at == 0 || text.get(at - 1) == Some(&b'\n');
    let mut delta: i64 = 0;
    let mut next_replacement = 0;
    let mut k = 0;
    while k < tops.len() {
        let mut j = k + 1;
        while j < tops.len() && dirty[j] == dirty[k] {
            j += 1;
        }
        let (start, end) = (starts[k], slot_end(j - 1));
        let new_start = (start as i64 + delta) as usize;
        if !line_start(new_start) {
            return None;
        }
        if dirty[k] {
            // Replacements starting in the run (and insertions at the very end of the text).
            let mut run_delta = 0i64;
            while let Some(r) = replacements.get(next_replacement) {
                if r.old.start >= end && !(end == old_len && r.old.start == end) {
                    break;
                }
                run_delta += r.len as i64 - r.old.len() as i64;
                next_replacement += 1;
            }
            let new_end = (end as i64 + delta + run_delta) as usize;
            if new_end > new_start {
                out.append(lines(text.get(..new_end)?, new_start, false).ok()?);
            }
            delta += run_delta;
        } else {
            let next_top = tops.get(j).copied().unwrap_or(items.len() as u32);
            copy_run(previous, &mut out, (tops[k], next_top), (start, end), delta);
        }
        k = j;
    }
    if next_replacement != replacements.len() {
        return None;
    }

    let mut regions = Regions::default();
    let mut top = 0u32;
    while let Some(item) = out.items.get(top as usize) {
        let next = item.subtree_end;
        regions.close_top_level(&mut out.items, &out.own_lines, &out.long_lines, text, top);
        top = next;
    }
    Some(Document {
        kind: previous.kind,
        header: previous.header,
        items: out.items,
        own_lines: out.own_lines,
        long_lines: out.long_lines,
        blanks: out.blanks,
        len: text.len(),
    })
}

/// Appends the items `first..end` of `previous` (whole top-level subtrees, standing in
/// `start..stop` of the old text), their own-line records, long lines and blank lines, with
/// offsets moved by `delta` and indices rebased onto `out`.
fn copy_run(
    previous: &Document,
    out: &mut Tree,
    (first, end): (u32, u32),
    (start, stop): (usize, usize),
    delta: i64,
) {
    let run = &previous.items[first as usize..end as usize];
    // A subtree's records are contiguous (an item's go to the array when it closes), so the
    // run's records end where those of the next subtree start.
    let lines_from = subtree_lines_from(run);
    let lines_to = match previous.items.get(end as usize) {
        Some(next) => subtree_lines_from(&previous.items[end as usize..next.subtree_end as usize]),
        None => previous.own_lines.len() as u32,
    };
    let item_base = out.items.len() as u32;
    let line_base = out.own_lines.len() as u32;
    let shift = |offset: u32| (i64::from(offset) + delta) as u32;
    out.items.extend(run.iter().map(|item| Item {
        head_start: shift(item.head_start),
        name_end_eol: (item.name_end_eol & !OFFSET_MASK) | shift(item.name_end_eol & OFFSET_MASK),
        end_start: shift(item.end_start),
        end_end: shift(item.end_end),
        parent: match item.parent {
            NONE => NONE,
            parent => parent - first + item_base,
        },
        subtree_end: item.subtree_end - first + item_base,
        first_line: item.first_line - lines_from + line_base,
        ..item.clone()
    }));
    out.own_lines
        .extend_from_slice(&previous.own_lines[lines_from as usize..lines_to as usize]);
    let long_from = previous
        .long_lines
        .partition_point(|l| (l.start as usize) < start);
    out.long_lines.extend(
        previous.long_lines[long_from..]
            .iter()
            .take_while(|l| (l.start as usize) < stop)
            .map(|l| LongLine {
                start: shift(l.start),
                eq: if l.eq == NONE { NONE } else { shift(l.eq) },
                content_end: shift(l.content_end),
                eol_len: l.eol_len,
            }),
    );
    let blanks_from = previous.blanks.partition_point(|b| b.start < start);
    out.blanks.extend(
        previous.blanks[blanks_from..]
            .iter()
            .take_while(|b| b.start < stop)
            .map(|b| TextRange::new(shift(b.start as u32) as usize, shift(b.end as u32) as usize)),
    );
}

/// Where the own-line records of whole subtrees `items` start: at their first item to close
/// (an item's records join the array when it closes, in order).
fn subtree_lines_from(items: &[Item]) -> u32 {
    items.iter().map(|i| i.first_line).min().unwrap_or(0)
}
