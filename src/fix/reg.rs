//! Turning [`Change`]s into edits of a `.reg` export.
//!
//! Removals delete whole records (a value line with its continuation lines) and key lines.
//! A key line goes only when its removal was asked for AND every record regedit would apply
//! to that key (writes, deletions, opaque records) goes too; otherwise those records would
//! silently move under the previous key. Comments, junk and dropped value lines inside a
//! removed block are kept.
//!
//! Blank lines: the file is seen as a sequence of units (header, key lines, records). Each run
//! of deleted units, together with the blank lines around and between them, lies between two
//! kept units (or a kept unit and the end of the file). Of the two blank gaps around the run,
//! one survives and everything else in the run goes:
//! - before a kept unit, the larger gap survives (the earlier one on a tie), so a removed block
//!   in regedit's layout (one blank line before every key) leaves exactly one blank line;
//! - at the end of the file, the trailing gap survives, so the file ends as it did; when the
//!   deleted run had no final line break, the preceding line loses its break instead.

use std::collections::{BTreeMap, BTreeSet};

use super::{Change, Edit};
use crate::model::Origin;
use crate::syntax::reg::{RegFile, ValueData};
use crate::text::TextRange;

/// Plans the edits for `changes` on `file` (whose working text is `text`): sorted by range,
/// non-overlapping. Changes that do not apply to `.reg` files or name no write are ignored.
pub fn plan(file: &RegFile, text: &[u8], changes: &[Change]) -> Vec<Edit> {
    let units = Units { file, text };
    let mut removals: BTreeMap<usize, (bool, BTreeSet<usize>)> = BTreeMap::new();
    let mut replaces = Vec::new();
    for change in changes {
        match change {
            Change::RemoveWrite(origin) => {
                let b = origin.container as usize;
                let Some(block) = file.blocks.get(b).filter(|bl| !bl.key.delete) else {
                    continue;
                };
                let entry = removals.entry(b).or_default();
                if origin.index == Origin::KEY_LINE {
                    entry.0 = true;
                } else {
                    let i = origin.index as usize;
                    if file.block_record(block, i).is_some_and(|r| r.is_write()) {
                        entry.1.insert(i);
                    }
                }
            }
            Change::Replace(edit) => replaces.push(edit.clone()),
            Change::ToCurrentControlSet { edit, .. } => replaces.push(edit.clone()),
            Change::SetHexBytes { op, bytes } => {
                if let Some(edit) = hex_bytes(file, text, *op, bytes) {
                    replaces.push(edit);
                }
            }
            Change::SetServiceField { .. } | Change::InsertItem { .. } => {}
        }
    }

    let mut deleted = BTreeSet::new();
    for (&b, (key, records)) in &removals {
        let Some(block) = file.blocks.get(b) else {
            continue;
        };
        // Records are built one at a time, up to the first that stays (one fix per finding
        // is planned, so building the whole block each time would be quadratic).
        let everything_bound_goes = file
            .records
            .range(block.records.as_range())
            .enumerate()
            .all(|(i, r)| !r.binds_to_key() || records.contains(&i));
        if *key && everything_bound_goes {
            deleted.insert(units.key_unit(b));
        }
        for &i in records {
            deleted.insert(units.record_unit(block.records.start + i));
        }
    }

    let mut edits = region_edits(&units, &deleted);
    let removed = Removed::new(&edits);
    replaces.retain(|edit| {
        edit.range.start <= edit.range.end
            && edit.range.end <= text.len()
            && !removed.overlaps(edit.range)
            && !units.touches_opaque(edit.range)
    });
    replaces.sort();
    let mut last_end = None;
    for edit in replaces {
        let clear = match last_end {
            None => true,
            Some(end) => {
                edit.range.start > end || (edit.range.start == end && !edit.range.is_empty())
            }
        };
        if clear {
            last_end = Some(edit.range.end);
            edits.push(edit);
        }
    }
    edits.sort();
    edits
}

/// The ranges of the removals, to tell which replacements they overlap without comparing each
/// replacement with every removal: a findings-dense export has about as many rewrites as
/// removals, and that comparison was quadratic.
struct Removed {
    /// Sorted by start.
    ranges: Vec<TextRange>,
    /// `reach[i]`: the largest end among `ranges[..=i]`.
    reach: Vec<usize>,
}

impl Removed {
    fn new(edits: &[Edit]) -> Self {
        let mut ranges: Vec<TextRange> = edits.iter().map(|e| e.range).collect();
        ranges.sort_unstable_by_key(|r| (r.start, r.end));
        let reach = ranges
            .iter()
            .scan(0, |end, r| {
                *end = r.end.max(*end);
                Some(*end)
            })
            .collect();
        Self { ranges, reach }
    }

    /// Whether a removal [`overlaps`] `range`. Only a removal that starts at or before the
    /// range's end and ends at or after its start can; walking back from the last that starts
    /// in time, the walk stops where no earlier removal reaches the range.
    fn overlaps(&self, range: TextRange) -> bool {
        let upto = self.ranges.partition_point(|r| r.start <= range.end);
        self.ranges[..upto]
            .iter()
            .zip(&self.reach[..upto])
            .rev()
            .take_while(|&(_, &reach)| reach >= range.start)
            .any(|(r, _)| overlaps(*r, range))
    }
}

/// regedit wraps hex data once a line reaches this many characters.
const MAX_HEX_CHARS: usize = 77;

/// The edit writing `bytes` as the data of the `hex(N):` value record `op`, wrapped as regedit
/// wraps it, with the record's own line ending; a trailing comment is kept.
fn hex_bytes(file: &RegFile, text: &[u8], op: Origin, bytes: &[u8]) -> Option<Edit> {
    let block = file.blocks.get(op.container as usize)?;
    let record = file.block_record(block, op.index as usize)?;
    let value = record.value()?;
    let ValueData::Hex { range, kind, .. } = value.data else {
        return None;
    };
    let kind = match kind {
        crate::syntax::reg::HexKind::Binary => "hex:".to_string(),
        crate::syntax::reg::HexKind::Typed(n) => format!("hex({n:x}):"),
    };
    let eol: &[u8] = if text.get(record.range.as_range())?.contains(&b'\r') {
        b"\r\n"
    } else {
        b"\n"
    };
    // Characters before the data on its line: `"name"=` and any blanks.
    let mut len = range.start - record.line.start + kind.len();
    let mut out = kind.into_bytes();
    for (i, b) in bytes.iter().enumerate() {
        out.extend_from_slice(format!("{b:02x}").as_bytes());
        if i + 1 == bytes.len() {
            break;
        }
        out.push(b',');
        len += 3;
        if len >= MAX_HEX_CHARS {
            out.push(b'\\');
            out.extend_from_slice(eol);
            out.extend_from_slice(b"  ");
            len = 2;
        }
    }
    Some(Edit::replace(range, out))
}

/// `a` and `b` share a byte, or one is an insertion strictly inside / at the start of the other.
fn overlaps(a: TextRange, b: TextRange) -> bool {
    if b.is_empty() {
        return a.start <= b.start && b.start < a.end;
    }
    if a.is_empty() {
        return b.start <= a.start && a.start < b.end;
    }
    a.start < b.end && b.start < a.end
}

/// One edit per run of deleted units, choosing which blank lines go (see the module docs).
fn region_edits(units: &Units<'_>, deleted: &BTreeSet<usize>) -> Vec<Edit> {
    let total = units.count();
    let mut edits = Vec::new();
    let mut iter = deleted.iter().copied().peekable();
    while let Some(first) = iter.next() {
        // The kept unit before the run (the header at worst, which is never deleted).
        let mut prev = first.saturating_sub(1);
        while prev > 0 && units.info(prev).is_some_and(|u| u.blank) {
            prev -= 1;
        }
        let mut last = first;
        let mut u = first + 1;
        let next = loop {
            if u >= total {
                break None;
            }
            if iter.peek() == Some(&u) {
                iter.next();
                last = u;
            } else if !units.info(u).is_some_and(|i| i.blank) {
                break Some(u);
            }
            u += 1;
        };
        let (Some(p), Some(f), Some(l)) = (units.info(prev), units.info(first), units.info(last))
        else {
            continue;
        };
        let gap_before = first - prev - 1;
        let range = match next {
            Some(n) => {
                let gap_after = n - last - 1;
                let Some(n) = units.info(n) else { continue };
                if gap_before >= gap_after {
                    TextRange::new(f.range.start, n.range.start)
                } else {
                    TextRange::new(p.range.end, l.range.end)
                }
            }
            None => {
                let gap_after = total - last - 1;
                let unterminated = l.content_end == l.range.end;
                let start = if gap_after == 0 && unterminated && !p.opaque {
                    p.content_end
                } else {
                    p.range.end
                };
                TextRange::new(start, l.range.end)
            }
        };
        edits.push(Edit::delete(range));
    }
    edits
}

/// What the planner needs to know about one unit.
#[derive(Clone, Copy, Debug)]
struct UnitInfo {
    /// With terminators.
    range: TextRange,
    /// End of the last physical line's content (before its terminator).
    content_end: usize,
    blank: bool,
    /// Must not be edited (split string, broken continuation).
    opaque: bool,
}

/// The file as a sequence of units: 0 is the header, then preamble records, then each block's
/// key line followed by its records. Indices are computed, not stored.
struct Units<'f> {
    file: &'f RegFile,
    text: &'f [u8],
}

impl Units<'_> {
    fn count(&self) -> usize {
        1 + self.file.records.len() + self.file.blocks.len()
    }

    fn key_unit(&self, b: usize) -> usize {
        1 + self.file.blocks.get(b).map_or(0, |bl| bl.records.start) + b
    }

    /// The unit of global record `r`.
    fn record_unit(&self, r: usize) -> usize {
        let keys_before = self.file.blocks.partition_point(|bl| bl.records.start <= r);
        1 + r + keys_before
    }

    fn info(&self, u: usize) -> Option<UnitInfo> {
        if u == 0 {
            let h = self.file.header;
            return Some(UnitInfo {
                range: h.range,
                content_end: h.line.end,
                blank: false,
                opaque: false,
            });
        }
        let blocks = &self.file.blocks;
        // Key lines at unit indices below or at `u`.
        let (mut lo, mut hi) = (0, blocks.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let records_start = blocks.get(mid).map_or(0, |bl| bl.records.start);
            if 1 + records_start + mid <= u {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        let keys = lo;
        if let Some(b) = keys.checked_sub(1)
            && self.key_unit(b) == u
        {
            let key = blocks.get(b)?.key;
            return Some(UnitInfo {
                range: key.range,
                content_end: key.line.end,
                blank: false,
                opaque: false,
            });
        }
        let record = self.file.records.get(u - 1 - keys)?;
        Some(UnitInfo {
            range: record.range,
            content_end: content_end(self.text, record.range),
            blank: record.is_blank(),
            opaque: record.value().is_some_and(|v| v.data.is_opaque()),
        })
    }

    /// `range` overlaps a record that must not be edited.
    fn touches_opaque(&self, range: TextRange) -> bool {
        let records = &self.file.records;
        let from = records
            .partition_point(|r| r.range.end <= range.start)
            .min(records.len());
        records
            .range(from..records.len())
            .take_while(|r| r.range.start <= range.end)
            .any(|r| {
                r.value().is_some_and(|v| {
                    matches!(
                        v.data,
                        ValueData::MultiLineString { .. } | ValueData::Broken { .. }
                    )
                }) && overlaps(r.range, range)
            })
    }
}

/// The end of a range's content: before a final `\r\n`, `\n` or `\r`.
fn content_end(text: &[u8], range: TextRange) -> usize {
    let bytes = text.get(range.as_range()).unwrap_or(&[]);
    let cut = match bytes {
        [.., b'\r', b'\n'] => 2,
        [.., b'\n'] | [.., b'\r'] => 1,
        _ => 0,
    };
    range.end - cut
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A naive oracle: some removal overlaps the range.
    fn overlaps_any(removed: &[TextRange], range: TextRange) -> bool {
        removed.iter().any(|r| overlaps(*r, range))
    }

    #[test]
    fn removals_overlapping_a_range_are_those_a_scan_finds() {
        // Removals that touch, nest, are empty and overlap, in no order.
        let removed: Vec<TextRange> = [(10, 20), (20, 20), (5, 40), (50, 60), (60, 61), (70, 70)]
            .iter()
            .map(|&(a, b)| TextRange::new(a, b))
            .collect();
        let edits: Vec<Edit> = removed.iter().map(|&r| Edit::delete(r)).collect();
        let index = Removed::new(&edits);
        let mut checked = 0;
        for start in 0..80 {
            for end in start..80 {
                let range = TextRange::new(start, end);
                assert_eq!(
                    index.overlaps(range),
                    overlaps_any(&removed, range),
                    "{start}..{end}"
                );
                checked += 1;
            }
        }
        assert!(checked > 3000);
    }

    /// An export of `pairs` pairs of key blocks: a service's Enum key (removed) and a
    /// `ControlSet002` key (its path rewritten), with the changes that say so.
    #[cfg(unix)]
    fn removals_and_rewrites(pairs: usize) -> (Vec<u8>, Vec<Change>) {
        let mut text = b"REGEDIT4\r\n".to_vec();
        let mut changes = Vec::new();
        for i in 0..pairs {
            let block = (2 * i) as u32;
            text.extend_from_slice(
                format!(
                    "\r\n[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\S{i}\\Enum]\r\n"
                )
                .as_bytes(),
            );
            changes.push(Change::RemoveWrite(Origin {
                container: block,
                index: Origin::KEY_LINE,
            }));
            let line =
                format!("\r\n[HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet002\\Services\\S{i}]\r\n");
            let at = text.len() + line.find("ControlSet002").unwrap_or(0);
            text.extend_from_slice(line.as_bytes());
            let range = TextRange::new(at, at + "ControlSet002".len());
            changes.push(Change::Replace(Edit::replace(range, "CurrentControlSet")));
        }
        (text, changes)
    }

    /// The CPU time this thread has used. The library's tests run side by side in one
    /// process, so wall time would also count the other tests' work, and the ratio below would
    /// measure the load (a loaded host once gave 13x for a linear planner).
    #[cfg(unix)]
    fn thread_cpu_time() -> std::time::Duration {
        let mut now = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `now` is a valid, writable timespec; the call only writes it.
        let status = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
        assert_eq!(status, 0, "the thread's CPU clock");
        std::time::Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
    }

    // Timed on the native build only: under Wine (the Windows build's test run) the times
    // would measure the emulator, and the planner's linearity does not depend on the platform.
    #[cfg(unix)]
    #[test]
    fn removals_and_rewrites_plan_in_linear_time() {
        let inputs = [5_000, 20_000].map(|pairs| {
            let (text, changes) = removals_and_rewrites(pairs);
            let file = crate::syntax::reg::parse(&text, crate::detect::RegVersion::Regedit4)
                .expect("header");
            (pairs, text, file, changes)
        });
        // The best of five runs of each size, the sizes taken in turn so that a busy moment
        // does not fall on one of them only.
        let mut best = [std::time::Duration::MAX; 2];
        for _ in 0..5 {
            for (slot, (pairs, text, file, changes)) in best.iter_mut().zip(&inputs) {
                let start = thread_cpu_time();
                let edits = plan(file, text, changes);
                let spent = thread_cpu_time().saturating_sub(start);
                // Every removal and every rewrite is planned: none overlaps another.
                assert_eq!(edits.len(), 2 * pairs);
                *slot = (*slot).min(spent);
            }
        }
        let [t1, t4] = best;
        let ratio = t4.as_secs_f64() / t1.as_secs_f64().max(1e-9);
        // Linear: about 4 (log factors, sorting); quadratic: about 16.
        assert!(
            ratio < 8.0,
            "{t1:?} for 5 000 pairs, {t4:?} for 20 000: {ratio:.1}x"
        );
    }
}
