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
//!
//! The touched runs are parsed on the rayon pool, and the new tree is built in the previous
//! tree's arrays, moved in place: for a big capture they are tens of megabytes, nearly all
//! copied, and a second set of arrays would be as much memory again, first touched page by
//! page.

use std::ops::Range;

use rayon::prelude::*;

use super::parser::{Tree, lines};
use super::views::Regions;
use super::{Document, Item, LongLine, NONE, OFFSET_BITS, OFFSET_MASK, parse};
use crate::syntax::{Replacement, SyntaxError};
use crate::text::TextRange;

/// See [`crate::syntax::reparse`]. The previous tree is taken: its arrays become the new one's.
pub fn reparse(
    previous: Document,
    text: &[u8],
    replacements: &[Replacement],
) -> Result<Document, SyntaxError> {
    let kind = previous.kind;
    match splice(previous, text, replacements) {
        Some(doc) => {
            debug_assert!(doc.print(text) == text, "spliced tree does not print back");
            Ok(doc)
        }
        None => parse(text, kind),
    }
}

/// The spliced tree, or `None` where only a full parse is certain to be right.
fn splice(previous: Document, text: &[u8], replacements: &[Replacement]) -> Option<Document> {
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
    // The previous text had no lone CR, so a new one stands in or just before a replacement:
    // a full parse reports it.
    let mut delta = 0i64;
    for r in replacements {
        let start = (r.old.start as i64 + delta) as usize;
        delta += r.len as i64 - r.old.len() as i64;
        if super::parser::find_lone_cr(text, start.saturating_sub(1)..start + r.len).is_some() {
            return None;
        }
    }

    // The header and anything before the first item are parsed only by a full parse.
    let first_start = items.first()?.head_start as usize;
    if replacements[0].old.start < first_start {
        return None;
    }
    // Blank lines between the header and the first item stay where they were.
    let before = previous.blanks.partition_point(|b| b.start < first_start);

    let touched = touched_slots(items, replacements);
    let runs = runs_of(text, replacements, items, &touched, old_len)?;
    let pieces = runs
        .par_iter()
        .map(|run| piece_of(&previous, text, run))
        .collect::<Option<Vec<Piece>>>()?;
    let (kind, header) = (previous.kind, previous.header);
    let mut out = join_in_place(previous, before, &pieces);

    let mut regions = Regions::default();
    let mut top = 0u32;
    while let Some(item) = out.items.get(top as usize) {
        let next = item.subtree_end;
        regions.close_top_level(&mut out.items, &out.own_lines, &out.long_lines, text, top);
        top = next;
    }
    Some(Document {
        kind,
        header,
        items: out.items,
        own_lines: out.own_lines,
        long_lines: out.long_lines,
        blanks: out.blanks,
        len: text.len(),
    })
}

/// The slots the replacements touch, as runs of adjacent slots: top-level items `first..end`
/// (`end` is the top-level item after the run, or the item count), in order. A replacement
/// touches the slot holding its start (an insertion at a slot's start goes before that slot's
/// item) through the last one starting before its end. Every replacement starts at or after
/// the first item.
///
/// Only the touched slots are visited, not every top-level item. The offsets come in order, so
/// one before the next top-level head is in the slot found last. Any other is in a later slot:
/// the top-level ancestor of the last item starting at or before it, found by a forward search
/// from the previous offset's item, then up the parents.
fn touched_slots(items: &[Item], replacements: &[Replacement]) -> Vec<(u32, u32)> {
    let mut cursor = 0usize;
    let mut last_slot: Option<u32> = None;
    let mut slot_at = |at: usize| -> u32 {
        if let Some(top) = last_slot {
            let next = items[top as usize].subtree_end as usize;
            if items.get(next).is_none_or(|n| at < n.head_start as usize) {
                return top;
            }
        }
        cursor = last_starting_by(items, cursor, at);
        let mut top = cursor as u32;
        while let Some(parent) = items[top as usize].parent() {
            top = parent;
        }
        last_slot = Some(top);
        top
    };
    let mut runs: Vec<(u32, u32)> = Vec::new();
    for r in replacements {
        let first = slot_at(r.old.start);
        let last = if r.old.is_empty() {
            first
        } else {
            slot_at(r.old.end - 1)
        };
        let end = items[last as usize].subtree_end;
        match runs.last_mut() {
            Some(run) if first <= run.1 => run.1 = run.1.max(end),
            _ => runs.push((first, end)),
        }
    }
    runs
}

/// The last item at or after `from` whose head starts at or before `at`, given that
/// `items[from]`'s does: a galloping search forward, so offsets looked up in order cost the
/// logarithm of the distance between them, not of the tree's size.
fn last_starting_by(items: &[Item], from: usize, at: usize) -> usize {
    let starts_by = |item: &Item| item.head_start as usize <= at;
    let mut step = 1;
    while items.get(from + step).is_some_and(starts_by) {
        step *= 2;
    }
    let end = (from + step).min(items.len());
    // `items[from]` starts by `at`, so the point is at least 1.
    from + items[from..end]
        .partition_point(starts_by)
        .saturating_sub(1)
}

/// The runs of the new tree, in order: the `touched` runs of top-level slots (see
/// [`touched_slots`]) are parsed again, the slots between them copied. A slot runs from its
/// item's head to the next top-level head, or `old_len`. `None` if a run would not start a line
/// of the new text, or the replacements do not all fall in touched runs.
fn runs_of(
    text: &[u8],
    replacements: &[Replacement],
    items: &[Item],
    touched: &[(u32, u32)],
    old_len: usize,
) -> Option<Vec<Run>> {
    let slot_start = |top: u32| {
        items
            .get(top as usize)
            .map_or(old_len, |i| i.head_start as usize)
    };
    // Where slot `top` starts in the new text, if a line starts there.
    let new_line_start = |top: u32, delta: i64| {
        let at = (slot_start(top) as i64 + delta) as usize;
        (at == 0 || text.get(at - 1) == Some(&b'\n')).then_some(at)
    };
    let item_count = items.len() as u32;
    let mut runs: Vec<Run> = Vec::with_capacity(2 * touched.len() + 1);
    let mut delta: i64 = 0;
    let mut next_replacement = 0;
    let mut copied_from = 0u32;
    let copy_to = |runs: &mut Vec<Run>, from: u32, to: u32, delta: i64| -> Option<()> {
        if from < to {
            new_line_start(from, delta)?;
            runs.push(Run::Copy {
                items: (from, to),
                text: (slot_start(from), slot_start(to)),
                delta,
            });
        }
        Some(())
    };
    for &(first, end) in touched {
        copy_to(&mut runs, copied_from, first, delta)?;
        let new_start = new_line_start(first, delta)?;
        let end_at = slot_start(end);
        // Replacements starting in the run (and insertions at the very end of the text).
        let mut run_delta = 0i64;
        while let Some(r) = replacements.get(next_replacement) {
            if r.old.start >= end_at && !(end_at == old_len && r.old.start == end_at) {
                break;
            }
            run_delta += r.len as i64 - r.old.len() as i64;
            next_replacement += 1;
        }
        let new_end = (end_at as i64 + delta + run_delta) as usize;
        if new_end > new_start {
            text.get(..new_end)?;
            runs.push(Run::Parse {
                from: new_start,
                to: new_end,
            });
        }
        delta += run_delta;
        copied_from = end;
    }
    copy_to(&mut runs, copied_from, item_count, delta)?;
    (next_replacement == replacements.len()).then_some(runs)
}

/// A run of slots of the new tree, in text order.
enum Run {
    /// Whole top-level subtrees `items` of the previous tree, standing in `text` of the old
    /// text, to be copied with their offsets moved by `delta`.
    Copy {
        items: (u32, u32),
        text: (usize, usize),
        delta: i64,
    },
    /// `from..to` of the new text, to be parsed again.
    Parse { from: usize, to: usize },
}

/// A run's records, ready to be placed: offsets in the new text once moved, indices counting
/// from the run's first item and first own-line record.
enum Piece {
    Copied(Copied),
    Parsed(Tree),
}

/// Records of the previous tree, by index, whose offsets move by `delta`.
struct Copied {
    items: Range<usize>,
    own_lines: Range<usize>,
    long_lines: Range<usize>,
    blanks: Range<usize>,
    delta: i64,
}

/// The records of `run`, or `None` if its text does not parse as a piece (or a copied range
/// does not fit the previous tree).
fn piece_of(previous: &Document, text: &[u8], run: &Run) -> Option<Piece> {
    let (first, end, start, stop, delta) = match *run {
        Run::Parse { from, to } => {
            return lines(text.get(..to)?, from, false).ok().map(Piece::Parsed);
        }
        Run::Copy {
            items: (first, end),
            text: (start, stop),
            delta,
        } => (first, end, start, stop, delta),
    };
    previous.items.get(first as usize..end as usize)?;
    // A subtree's records are contiguous (an item's go to the array when it closes), so the
    // run's records end where those of the next subtree start.
    let lines_from = subtree_lines_from(&previous.items, first as usize)?;
    let lines_to = if (end as usize) < previous.items.len() {
        subtree_lines_from(&previous.items, end as usize)?
    } else {
        previous.own_lines.len() as u32
    };
    let long_from = previous
        .long_lines
        .partition_point(|l| (l.start as usize) < start);
    let long_to = previous
        .long_lines
        .partition_point(|l| (l.start as usize) < stop);
    let blanks_from = previous.blanks.partition_point(|b| b.start < start);
    let blanks_to = previous.blanks.partition_point(|b| b.start < stop);
    let own_lines = lines_from as usize..lines_to as usize;
    previous.own_lines.get(own_lines.clone())?;
    Some(Piece::Copied(Copied {
        items: first as usize..end as usize,
        own_lines,
        long_lines: long_from..long_to.max(long_from),
        blanks: blanks_from..blanks_to.max(blanks_from),
        delta,
    }))
}

/// Where a part of a joined array comes from.
enum Part<'t, T> {
    /// These elements of the array, moved.
    Moved(Range<usize>),
    /// These new elements (of a parsed piece).
    Made(&'t [T]),
}

impl<T> Part<'_, T> {
    fn len(&self) -> usize {
        match self {
            Part::Moved(range) => range.len(),
            Part::Made(elements) => elements.len(),
        }
    }

    /// Where a moved part's elements start in the previous array.
    fn old_start(&self) -> u32 {
        match self {
            Part::Moved(range) => range.start as u32,
            Part::Made(_) => 0,
        }
    }
}

/// Rebuilds `array` in place as its `parts` joined in order: part `p`'s elements are
/// `moved(p, element)` of the elements it names, or `made(p, element)` of its new ones. The
/// parts that name elements of the array name disjoint ranges, in order.
///
/// A part moving left only overwrites elements of parts before it, and those moving left are
/// moved in order; one moving right only those of parts after it, and those are moved in the
/// reverse order. So every element is read before anything is written over it, and nothing
/// is allocated unless the array grows.
fn join_parts_in_place<T: Clone>(
    array: &mut Vec<T>,
    parts: &[Part<'_, T>],
    moved: impl Fn(usize, &T) -> T,
    made: impl Fn(usize, &T) -> T,
) {
    let starts = starts_of(parts.iter().map(Part::len));
    let new_len = starts.last().copied().unwrap_or(0);
    if new_len > array.len() {
        // Some part is made (the moved ones fit in the array as it is): any element will do
        // to grow the array, as every one is written below.
        let filler = parts.iter().find_map(|part| match part {
            Part::Made(elements) => elements.first().cloned(),
            Part::Moved(_) => None,
        });
        if let Some(filler) = filler {
            array.resize(new_len, filler);
        }
    }
    for (p, part) in parts.iter().enumerate() {
        if let Part::Moved(from) = part
            && starts[p] <= from.start
        {
            for k in 0..from.len() {
                array[starts[p] + k] = moved(p, &array[from.start + k]);
            }
        }
    }
    for (p, part) in parts.iter().enumerate().rev() {
        if let Part::Moved(from) = part
            && starts[p] > from.start
        {
            for k in (0..from.len()).rev() {
                array[starts[p] + k] = moved(p, &array[from.start + k]);
            }
        }
    }
    for (p, part) in parts.iter().enumerate() {
        if let Part::Made(elements) = part {
            for (k, element) in elements.iter().enumerate() {
                array[starts[p] + k] = made(p, element);
            }
        }
    }
    array.truncate(new_len);
}

fn shift(offset: u32, delta: i64) -> u32 {
    (i64::from(offset) + delta) as u32
}

/// The parts of one of the tree's arrays: the `copied` range of each copied piece, the
/// `parsed` records of each parsed one.
fn parts_of<'t, T>(
    pieces: &'t [Piece],
    copied: fn(&Copied) -> &Range<usize>,
    parsed: fn(&'t Tree) -> &'t [T],
) -> Vec<Part<'t, T>> {
    pieces
        .iter()
        .map(|piece| match piece {
            Piece::Copied(run) => Part::Moved(copied(run).clone()),
            Piece::Parsed(tree) => Part::Made(parsed(tree)),
        })
        .collect()
}

/// The tree of the pieces in order, after the first `head_blanks` blank lines of `previous`
/// (those before the first item), built in `previous`'s arrays (see [`join_parts_in_place`]).
fn join_in_place(previous: Document, head_blanks: usize, pieces: &[Piece]) -> Tree {
    let Document {
        mut items,
        mut own_lines,
        mut long_lines,
        mut blanks,
        ..
    } = previous;
    let delta = |p: usize| match &pieces[p] {
        Piece::Copied(run) => run.delta,
        Piece::Parsed(_) => 0,
    };
    let item_parts = parts_of(pieces, |run| &run.items, |t| &t.items);
    let line_parts = parts_of(pieces, |run| &run.own_lines, |t| &t.own_lines);
    // Where each piece's items and own-line records start, in the new tree and the old.
    let item_bases = starts_of(item_parts.iter().map(Part::len));
    let line_bases = starts_of(line_parts.iter().map(Part::len));
    let item_firsts: Vec<u32> = item_parts.iter().map(Part::old_start).collect();
    let line_firsts: Vec<u32> = line_parts.iter().map(Part::old_start).collect();
    let rebase = |p: usize, item: &Item| {
        // Indices counting from the piece's first item and record, then placed.
        let (base, line_base) = (item_bases[p] as u32, line_bases[p] as u32);
        let (first, lines_from) = (item_firsts[p], line_firsts[p]);
        Item {
            // A nested item's parent; a top-level item's region is assigned again below.
            link: match item.depth() {
                0 => item.link,
                _ => item.link - first + base,
            },
            subtree_end: item.subtree_end - first + base,
            first_line: item.first_line - lines_from + line_base,
            ..item.clone()
        }
    };
    join_parts_in_place(
        &mut items,
        &item_parts,
        |p, item| {
            let shift = |offset| shift(offset, delta(p));
            Item {
                head_start: shift(item.head_start),
                name_end_eol: (item.name_end_eol & !OFFSET_MASK)
                    | shift(item.name_end_eol & OFFSET_MASK),
                end_start: shift(item.end_start),
                end_end: shift(item.end_end),
                ..rebase(p, item)
            }
        },
        rebase,
    );
    join_parts_in_place(&mut own_lines, &line_parts, |_, &l| l, |_, &l| l);
    let long_parts = parts_of(pieces, |run| &run.long_lines, |t| &t.long_lines);
    join_parts_in_place(
        &mut long_lines,
        &long_parts,
        |p, l| LongLine {
            start: shift(l.start, delta(p)),
            eq: if l.eq == NONE {
                NONE
            } else {
                shift(l.eq, delta(p))
            },
            content_end: shift(l.content_end, delta(p)),
            eol_len: l.eol_len,
        },
        |_, &l| l,
    );
    // The blank lines before the first item stay where they are.
    let mut blank_parts = vec![Part::Moved(0..head_blanks)];
    blank_parts.extend(parts_of(pieces, |run| &run.blanks, |t| &t.blanks));
    join_parts_in_place(
        &mut blanks,
        &blank_parts,
        |p, b| match p.checked_sub(1) {
            Some(p) => TextRange::new(
                shift(b.start as u32, delta(p)) as usize,
                shift(b.end as u32, delta(p)) as usize,
            ),
            None => *b,
        },
        |_, &b| b,
    );
    Tree {
        items,
        own_lines,
        long_lines,
        blanks,
    }
}

/// Where each part starts when parts of `lens` elements are joined in order, then the total.
fn starts_of(lens: impl Iterator<Item = usize>) -> Vec<usize> {
    let mut starts = vec![0];
    let mut at = 0;
    for len in lens {
        at += len;
        starts.push(at);
    }
    starts
}

/// Where the own-line records of the whole subtrees from item `from` on start: at the least
/// `first_line` of the first subtree's items, which is on its chain of first children.
///
/// The records of an item and its descendants are pushed after those of the subtrees before
/// it, and a first child's subtree before any later child's; the item's own may come first
/// (pushed as its lines are read) or last (set aside and pushed when it closes, if a child
/// came between its lines). So the least is the item's own or its first child subtree's.
fn subtree_lines_from(items: &[Item], from: usize) -> Option<u32> {
    let mut least = items.get(from)?.first_line;
    let mut i = from;
    while let Some(item) = items.get(i)
        && item.subtree_end as usize > i + 1
    {
        i += 1;
        least = least.min(items.get(i)?.first_line);
    }
    Some(least)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::ScriptKind;

    /// A script of `n` chunks of every shape (nested items, control flow, long lines, blank
    /// lines, CRLF and LF), and where each chunk starts (the last entry: the text's end).
    fn script(n: usize) -> (Vec<u8>, Vec<usize>) {
        let mut text = b"Document Type: WSE\n".to_vec();
        let mut starts = Vec::new();
        for k in 0..n {
            starts.push(text.len());
            let chunk = match k % 5 {
                0 => format!(
                    "item: Edit Registry\r\n  Total Keys=1\r\n  item: Key\r\n    Key=SOFTWARE\\K{k}\r\n    Root=2\r\n  end\r\nend\r\n"
                ),
                1 => format!("item: If/While Statement\n  Variable=V{k}\n  Value=1\nend\n"),
                2 => "item: End Block\nend\n".to_owned(),
                3 => format!(
                    "item: Set Variable\n  Variable=LONG{k}\n  Value={}\nend\n",
                    "x".repeat(600)
                ),
                _ => format!("\n  \nitem: Display Message\n  Title=T{k}\nend\n"),
            };
            text.extend_from_slice(chunk.as_bytes());
        }
        starts.push(text.len());
        (text, starts)
    }

    fn assert_same(spliced: &Document, parsed: &Document) {
        assert_eq!(spliced.kind, parsed.kind);
        assert_eq!(spliced.header, parsed.header);
        assert_eq!(spliced.len, parsed.len);
        assert_eq!(spliced.items, parsed.items);
        assert_eq!(spliced.own_lines, parsed.own_lines);
        assert_eq!(spliced.long_lines, parsed.long_lines);
        assert_eq!(spliced.blanks, parsed.blanks);
    }

    /// The spliced tree, built in the previous tree's arrays, is the tree a full parse of the
    /// edited text gives: items replaced, removed and inserted, so the arrays both shrink and
    /// grow in places.
    #[test]
    fn a_splice_equals_a_full_parse() {
        let (text, starts) = script(2000);
        let previous = parse(&text, ScriptKind::Wse).unwrap();
        for (replace, remove, insert) in [
            (7, 13, 29),
            (3, 1000, 1000),
            (1000, 2, 1000),
            (1000, 1000, 2),
        ] {
            let mut edited = text[..starts[0]].to_vec();
            let mut replacements = Vec::new();
            for k in 0..starts.len() - 1 {
                let old = TextRange::new(starts[k], starts[k + 1]);
                let chunk = &text[old.start..old.end];
                let new: Vec<u8> = if k % replace == 3 % replace {
                    format!("item: Remark\n  Text=changed {k}\n  Value=x\nend\n").into_bytes()
                } else if k % remove == 5 % remove {
                    Vec::new()
                } else if k % insert == 8 % insert {
                    [b"item: Remark\n  Text=inserted\nend\n", chunk].concat()
                } else {
                    edited.extend_from_slice(chunk);
                    continue;
                };
                replacements.push(Replacement {
                    old,
                    len: new.len(),
                });
                edited.extend_from_slice(&new);
            }
            let parsed = parse(&edited, ScriptKind::Wse).unwrap();
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(3)
                .build()
                .unwrap();
            let spliced = pool
                .install(|| splice(previous.clone(), &edited, &replacements))
                .expect("a splice, not a full parse");
            assert_same(&spliced, &parsed);
        }
    }

    /// The first own-line record of every subtree, found down its chain of first children, is
    /// the least of its items' (what scanning them all gives), also where an item's lines are
    /// set aside because a child came between them.
    #[test]
    fn a_subtree_s_records_start_at_the_least_of_its_items() {
        let mut text = script(40).0;
        text.extend_from_slice(
            b"item: Edit Registry\n  Total Keys=2\n  item: Key\n    Key=A\n  end\n  Late=1\n  item: Key\n    item: Key\n      Key=B\n    end\n    Late=2\n  end\n  Later=3\nend\n\
              item: Edit Registry\n  item: Key\n    item: Key\n    end\n  end\n  Only=after\nend\n",
        );
        let doc = parse(&text, ScriptKind::Wse).unwrap();
        let items = &doc.items;
        let spilled = (0..items.len()).filter(|&i| {
            let end = items[i].subtree_end as usize;
            (i + 1..end).any(|d| items[d].first_line < items[i].first_line)
        });
        assert!(spilled.count() >= 2, "the script sets lines aside");
        for i in 0..items.len() {
            let end = items[i].subtree_end as usize;
            let least = items[i..end].iter().map(|item| item.first_line).min();
            assert_eq!(subtree_lines_from(items, i), least, "subtree of item {i}");
        }
    }

    /// The touched slots are those a scan of every top-level slot marks: the slot holding a
    /// replacement's start through the last one starting before its end, adjacent ones joined.
    #[test]
    fn touched_slots_are_those_a_scan_of_every_slot_marks() {
        let (text, _) = script(300);
        let doc = parse(&text, ScriptKind::Wse).unwrap();
        let tops: Vec<u32> = doc.top_level().collect();
        let starts: Vec<usize> = tops
            .iter()
            .map(|&t| doc.items[t as usize].head_start as usize)
            .collect();
        let first = starts[0];
        // Replacements of every length, from every offset after the first item's start, in
        // steps that land on slot starts, inside items and on blank lines.
        for (step, len) in [(1, 0), (7, 1), (13, 40), (97, 0), (211, 600), (389, 5)] {
            let replacements: Vec<Replacement> = (first..text.len())
                .step_by(step + len)
                .map(|at| Replacement {
                    old: TextRange::new(at, (at + len).min(text.len())),
                    len: 3,
                })
                .collect();
            let mut dirty = vec![false; tops.len()];
            for r in &replacements {
                let from = starts.partition_point(|&s| s <= r.old.start) - 1;
                let to = if r.old.is_empty() {
                    from
                } else {
                    starts.partition_point(|&s| s < r.old.end) - 1
                };
                dirty[from..=to].fill(true);
            }
            let mut expected: Vec<(u32, u32)> = Vec::new();
            for (k, &top) in tops.iter().enumerate().filter(|&(k, _)| dirty[k]) {
                let end = tops.get(k + 1).copied().unwrap_or(doc.items.len() as u32);
                match expected.last_mut() {
                    Some(run) if run.1 == top => run.1 = end,
                    _ => expected.push((top, end)),
                }
            }
            assert_eq!(
                touched_slots(&doc.items, &replacements),
                expected,
                "step {step}, length {len}"
            );
        }
    }

    mod properties {
        use super::*;
        use proptest::collection::vec;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(2000))]

            /// Joining parts in place gives what joining them into a new array gives, however
            /// the parts move (left, right, not at all) and whatever is made between them.
            #[test]
            fn parts_joined_in_place_are_parts_joined(
                len in 0usize..40,
                seeds in vec((0usize..6, 0usize..8, vec(100u32..200, 0..6)), 0..10),
            ) {
                let array: Vec<u32> = (0..len as u32).collect();
                // Disjoint ranges in order, with made parts between them.
                let mut ranges = Vec::new();
                let mut made: Vec<Vec<u32>> = Vec::new();
                let mut pos = 0;
                for (gap, n, new) in &seeds {
                    let start = (pos + gap).min(len);
                    let end = (start + n).min(len);
                    ranges.push(start..end);
                    made.push(new.clone());
                    pos = end;
                }
                let mut parts: Vec<Part<'_, u32>> = Vec::new();
                let mut expected = Vec::new();
                for (range, new) in ranges.iter().zip(&made) {
                    let p = parts.len();
                    parts.push(Part::Moved(range.clone()));
                    expected.extend(array[range.clone()].iter().map(|&e| e * 10 + p as u32));
                    parts.push(Part::Made(new));
                    expected.extend(new.iter().map(|&e| e + 1000));
                }
                let mut joined = array.clone();
                join_parts_in_place(
                    &mut joined,
                    &parts,
                    |p, &e| e * 10 + p as u32,
                    |_, &e| e + 1000,
                );
                prop_assert_eq!(joined, expected);
            }
        }
    }
}
