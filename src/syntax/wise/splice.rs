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
//! The touched runs are parsed and the new tree's arrays filled on the rayon pool: for a big
//! capture they are tens of megabytes, nearly all copied from the previous tree.

use rayon::prelude::*;

use super::parser::{Tree, lines};
use super::views::Regions;
use super::{Document, Item, LongLine, NONE, OFFSET_BITS, OFFSET_MASK, parse};
use crate::syntax::{Replacement, SyntaxError};
use crate::text::TextRange;

/// Records per job when the spliced tree's arrays are filled on the pool.
const JOB_LEN: usize = 1 << 14;

/// See [`crate::syntax::reparse`].
pub fn reparse(
    previous: &Document,
    text: &[u8],
    replacements: &[Replacement],
) -> Result<Document, SyntaxError> {
    match splice(previous, text, replacements, JOB_LEN) {
        Some(doc) => {
            debug_assert!(doc.print(text) == text, "spliced tree does not print back");
            Ok(doc)
        }
        None => parse(text, previous.kind),
    }
}

/// The spliced tree, or `None` where only a full parse is certain to be right.
/// `job_len`: records per job when the arrays are filled on the pool.
fn splice(
    previous: &Document,
    text: &[u8],
    replacements: &[Replacement],
    job_len: usize,
) -> Option<Document> {
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

    // Blank lines between the header and the first item stay where they were.
    let before = previous.blanks.partition_point(|b| b.start < first_start);

    let runs = runs_of(
        text,
        replacements,
        (&tops, &starts, &dirty),
        old_len,
        items.len(),
    )?;
    let pieces = runs
        .par_iter()
        .map(|run| piece_of(previous, text, run))
        .collect::<Option<Vec<Piece>>>()?;
    let mut out = join_pieces(&previous.blanks[..before], &pieces, job_len);

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

/// The runs of the new tree, in order: top-level slots `starts` (of items `tops`, each ending
/// where the next starts or at `old_len`) are grouped into runs of touched (`dirty`) and
/// untouched slots. `None` if a run would not start a line of the new text, or the
/// replacements do not all fall in touched runs.
fn runs_of(
    text: &[u8],
    replacements: &[Replacement],
    (tops, starts, dirty): (&[u32], &[usize], &[bool]),
    old_len: usize,
    item_count: usize,
) -> Option<Vec<Run>> {
    let slot_end = |k: usize| starts.get(k + 1).copied().unwrap_or(old_len);
    let line_start = |at: usize| at == 0 || text.get(at - 1) == Some(&b'\n');
    let mut runs: Vec<Run> = Vec::new();
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
                text.get(..new_end)?;
                runs.push(Run::Parse {
                    from: new_start,
                    to: new_end,
                });
            }
            delta += run_delta;
        } else {
            let next_top = tops.get(j).copied().unwrap_or(item_count as u32);
            runs.push(Run::Copy {
                items: (tops[k], next_top),
                text: (start, end),
                delta,
            });
        }
        k = j;
    }
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
enum Piece<'d> {
    Copied {
        /// The index of the run's first item in the previous tree.
        first: u32,
        items: &'d [Item],
        /// The index of the run's first own-line record in the previous tree.
        lines_from: u32,
        own_lines: &'d [u16],
        long_lines: &'d [LongLine],
        blanks: &'d [TextRange],
        delta: i64,
    },
    Parsed(Tree),
}

/// The records of `run`, or `None` if its text does not parse as a piece (or a copied range
/// does not fit the previous tree).
fn piece_of<'d>(previous: &'d Document, text: &[u8], run: &Run) -> Option<Piece<'d>> {
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
    let items = previous.items.get(first as usize..end as usize)?;
    // A subtree's records are contiguous (an item's go to the array when it closes), so the
    // run's records end where those of the next subtree start.
    let lines_from = subtree_lines_from(items);
    let lines_to = match previous.items.get(end as usize) {
        Some(next) => subtree_lines_from(
            previous
                .items
                .get(end as usize..next.subtree_end as usize)?,
        ),
        None => previous.own_lines.len() as u32,
    };
    let long_from = previous
        .long_lines
        .partition_point(|l| (l.start as usize) < start);
    let long_to = previous
        .long_lines
        .partition_point(|l| (l.start as usize) < stop);
    let blanks_from = previous.blanks.partition_point(|b| b.start < start);
    let blanks_to = previous.blanks.partition_point(|b| b.start < stop);
    Some(Piece::Copied {
        first,
        items,
        lines_from,
        own_lines: previous
            .own_lines
            .get(lines_from as usize..lines_to as usize)?,
        long_lines: previous.long_lines.get(long_from..long_to.max(long_from))?,
        blanks: previous
            .blanks
            .get(blanks_from..blanks_to.max(blanks_from))?,
        delta,
    })
}

impl Piece<'_> {
    fn items_len(&self) -> usize {
        match self {
            Piece::Copied { items, .. } => items.len(),
            Piece::Parsed(tree) => tree.items.len(),
        }
    }

    fn own_lines(&self) -> &[u16] {
        match self {
            Piece::Copied { own_lines, .. } => own_lines,
            Piece::Parsed(tree) => &tree.own_lines,
        }
    }

    fn long_lines_len(&self) -> usize {
        match self {
            Piece::Copied { long_lines, .. } => long_lines.len(),
            Piece::Parsed(tree) => tree.long_lines.len(),
        }
    }

    fn blanks_len(&self) -> usize {
        match self {
            Piece::Copied { blanks, .. } => blanks.len(),
            Piece::Parsed(tree) => tree.blanks.len(),
        }
    }

    /// Item `k` of the run, placed with the run's first item at `item_base` and its first
    /// own-line record at `line_base`.
    fn item(&self, k: usize, item_base: u32, line_base: u32) -> Item {
        match self {
            Piece::Copied {
                first,
                items,
                lines_from,
                delta,
                ..
            } => {
                let item = &items[k];
                let shift = |offset| shift(offset, *delta);
                Item {
                    head_start: shift(item.head_start),
                    name_end_eol: (item.name_end_eol & !OFFSET_MASK)
                        | shift(item.name_end_eol & OFFSET_MASK),
                    end_start: shift(item.end_start),
                    end_end: shift(item.end_end),
                    parent: match item.parent {
                        NONE => NONE,
                        parent => parent - first + item_base,
                    },
                    subtree_end: item.subtree_end - first + item_base,
                    first_line: item.first_line - lines_from + line_base,
                    ..item.clone()
                }
            }
            Piece::Parsed(tree) => {
                let mut item = tree.items[k].clone();
                if item.parent != NONE {
                    item.parent += item_base;
                }
                item.subtree_end += item_base;
                item.first_line += line_base;
                item
            }
        }
    }

    fn long_line(&self, k: usize) -> LongLine {
        match self {
            Piece::Copied {
                long_lines, delta, ..
            } => {
                let l = long_lines[k];
                LongLine {
                    start: shift(l.start, *delta),
                    eq: if l.eq == NONE {
                        NONE
                    } else {
                        shift(l.eq, *delta)
                    },
                    content_end: shift(l.content_end, *delta),
                    eol_len: l.eol_len,
                }
            }
            Piece::Parsed(tree) => tree.long_lines[k],
        }
    }

    fn blank(&self, k: usize) -> TextRange {
        match self {
            Piece::Copied { blanks, delta, .. } => {
                let b = blanks[k];
                TextRange::new(
                    shift(b.start as u32, *delta) as usize,
                    shift(b.end as u32, *delta) as usize,
                )
            }
            Piece::Parsed(tree) => tree.blanks[k],
        }
    }
}

fn shift(offset: u32, delta: i64) -> u32 {
    (i64::from(offset) + delta) as u32
}

/// The tree of the pieces in order, after the blank lines `head_blanks` (those before the
/// first item). Its arrays are filled on the pool in jobs of `job_len` records: for a big
/// script they are tens of megabytes, most of it copied, and first writing fresh memory costs
/// a page fault per page, which only spreads over the cores when several threads write.
fn join_pieces(head_blanks: &[TextRange], pieces: &[Piece], job_len: usize) -> Tree {
    let item_bases = starts_of(pieces.iter().map(Piece::items_len));
    let line_bases = starts_of(pieces.iter().map(|p| p.own_lines().len()));
    let items = concat_on_pool(&item_bases, job_len, |p, k| {
        pieces[p].item(k, item_bases[p] as u32, line_bases[p] as u32)
    });
    let own_lines = copy_on_pool(
        &pieces.iter().map(Piece::own_lines).collect::<Vec<_>>(),
        job_len,
    );
    let long_bases = starts_of(pieces.iter().map(Piece::long_lines_len));
    let long_lines = concat_on_pool(&long_bases, job_len, |p, k| pieces[p].long_line(k));
    let blank_bases =
        starts_of(std::iter::once(head_blanks.len()).chain(pieces.iter().map(Piece::blanks_len)));
    let blanks = concat_on_pool(&blank_bases, job_len, |p, k| match p {
        0 => head_blanks[k],
        p => pieces[p - 1].blank(k),
    });
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

/// The elements of parts joined in order, made on the pool: part `p` has
/// `starts[p + 1] - starts[p]` elements, and `element(p, k)` makes its `k`-th.
fn concat_on_pool<T: Send>(
    starts: &[usize],
    job_len: usize,
    element: impl Fn(usize, usize) -> T + Sync,
) -> Vec<T> {
    let total = starts.last().copied().unwrap_or(0);
    let mut out = Vec::new();
    (0..total)
        .into_par_iter()
        .with_min_len(job_len.max(1))
        .map_init(
            || 0,
            |part: &mut usize, i| {
                // A job's elements come in order: the part of the last one usually holds this.
                if !(starts[*part] <= i && i < starts[*part + 1]) {
                    *part = starts.partition_point(|&s| s <= i) - 1;
                }
                element(*part, i - starts[*part])
            },
        )
        .collect_into_vec(&mut out);
    out
}

/// `slices` joined, copied into place on the pool in jobs of `job_len` records.
fn copy_on_pool(slices: &[&[u16]], job_len: usize) -> Vec<u16> {
    let starts = starts_of(slices.iter().map(|s| s.len()));
    let mut out = vec![0u16; starts.last().copied().unwrap_or(0)];
    out.par_chunks_mut(job_len.max(1))
        .enumerate()
        .for_each(|(j, chunk)| {
            let from = j * job_len.max(1);
            let mut part = starts.partition_point(|&s| s <= from) - 1;
            let mut filled = 0;
            while filled < chunk.len() {
                let Some(slice) = slices.get(part) else { break };
                let skip = (from + filled).saturating_sub(starts[part]);
                let take = slice.len().saturating_sub(skip).min(chunk.len() - filled);
                chunk[filled..filled + take].copy_from_slice(&slice[skip..skip + take]);
                filled += take;
                part += 1;
            }
        });
    out
}

/// Where the own-line records of whole subtrees `items` start: at their first item to close
/// (an item's records join the array when it closes, in order).
fn subtree_lines_from(items: &[Item]) -> u32 {
    items
        .par_iter()
        .with_min_len(JOB_LEN)
        .map(|i| i.first_line)
        .min()
        .unwrap_or(0)
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

    /// Whatever the size of the jobs that fill the arrays (one record, a few, more than the
    /// script has), the spliced tree is the tree a full parse of the edited text gives.
    #[test]
    fn a_splice_filled_in_jobs_of_any_size_equals_a_full_parse() {
        let (text, starts) = script(2000);
        let previous = parse(&text, ScriptKind::Wse).unwrap();
        let mut edited = text[..starts[0]].to_vec();
        let mut replacements = Vec::new();
        for k in 0..starts.len() - 1 {
            let old = TextRange::new(starts[k], starts[k + 1]);
            let chunk = &text[old.start..old.end];
            let new: Vec<u8> = if k % 7 == 3 {
                format!("item: Remark\n  Text=changed {k}\nend\n").into_bytes()
            } else if k % 13 == 5 {
                Vec::new()
            } else if k % 29 == 8 {
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
        for job_len in [1, 3, 64, JOB_LEN] {
            let spliced = pool
                .install(|| splice(&previous, &edited, &replacements, job_len))
                .expect("a splice, not a full parse");
            assert_same(&spliced, &parsed);
        }
    }
}
