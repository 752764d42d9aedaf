//! Turning [`Change`]s into edits of a WiseScript document.
//!
//! Removals are planned per `Edit Registry` item so the item stays well-formed (`RULES.md`
//! invariants): no key left → the item goes; one key left → the flat form; more → the removed
//! `item: Key` blocks go and `Total Keys` is renumbered from the keys actually present (even if
//! the old value disagreed). Edits are whole lines or exact value ranges, so bytes around them,
//! including every line ending, are untouched; a new line copies its neighbour's indentation
//! and terminator. Structural edits win over service-field edits, which win over pass-through
//! [`Change::Replace`]s: a conflicting later edit is dropped, and the fix loop reruns.

use std::collections::{BTreeMap, HashMap};

use rayon::prelude::*;

use super::{Change, Edit};
use crate::pieces::{REMOVALS_FROM, REMOVALS_PER_JOB};
use crate::syntax::wise::{Document, EditRegistry, Item, ItemKind, Property, RegKey, RegistryForm};
use crate::text::TextRange;

/// Plans the edits for `changes` on `doc` (whose working text is `text`). The result is sorted
/// and non-overlapping; changes whose origin does not name an active item (or key) are ignored,
/// and so are service fields that cannot be one property line (a line break, `=` in the name).
pub fn plan(doc: &Document, text: &[u8], changes: &[Change]) -> Vec<Edit> {
    Planner::new(doc, text).plan(changes)
}

/// Plans edits on one document, any number of times. The keys of an `Edit Registry` item are
/// listed once, on first use, so planning each finding's fix on its own (as `check` does)
/// costs the size of that fix, not the number of keys of its item: an item with N keys and a
/// finding per key stays linear.
pub struct Planner<'d> {
    doc: &'d Document,
    text: &'d [u8],
    /// `Edit Registry` item → its view and keys (`None`: not an Edit Registry item).
    items: HashMap<u32, Option<(EditRegistry<'d>, Vec<RegKey<'d>>)>>,
}

impl<'d> Planner<'d> {
    pub fn new(doc: &'d Document, text: &'d [u8]) -> Self {
        Self {
            doc,
            text,
            items: HashMap::new(),
        }
    }

    /// As [`plan`].
    pub fn plan(&mut self, changes: &[Change]) -> Vec<Edit> {
        let (doc, text) = (self.doc, self.text);
        let mut accepted = Accepted::default();

        let mut removals: Vec<(u32, u32)> = changes
            .iter()
            .filter_map(|c| match c {
                Change::RemoveWrite(o) => Some((o.container, o.index)),
                _ => None,
            })
            .collect();
        removals.sort_unstable();
        removals.dedup();
        let groups: Vec<&[(u32, u32)]> = removals.chunk_by(|a, b| a.0 == b.0).collect();
        for edit in self.plan_removals(&groups, REMOVALS_FROM) {
            accepted.try_add(edit);
        }

        for edit in plan_inserts(doc, text, changes) {
            accepted.try_add(edit);
        }

        for edit in plan_service_fields(doc, text, changes) {
            accepted.try_add(edit);
        }

        for change in changes {
            let edit = match change {
                Change::Replace(edit) => Some(edit.clone()),
                Change::ToCurrentControlSet { edit, .. } => Some(edit.clone()),
                _ => None,
            };
            if let Some(edit) = edit
                && edit.range.start <= edit.range.end
                && edit.range.end <= text.len()
            {
                accepted.try_add(edit);
            }
        }
        accepted.into_sorted()
    }

    /// The edits of each group of removals (`(container, index)`, one container per group),
    /// in group order. From `on_pool_from` groups, planned in parts on the pool, each with a
    /// planner of its own: a group reads only its own item, so the edits are the same.
    fn plan_removals(&mut self, groups: &[&[(u32, u32)]], on_pool_from: usize) -> Vec<Edit> {
        let plan_group = |planner: &mut Planner<'d>, group: &[(u32, u32)]| {
            let indices: Vec<u32> = group.iter().map(|&(_, i)| i).collect();
            group.first().map_or_else(Vec::new, |&(container, _)| {
                planner.plan_removal(container, &indices)
            })
        };
        if groups.len() < on_pool_from || !crate::pieces::pool_is_parallel() {
            return groups
                .iter()
                .flat_map(|group| plan_group(self, group))
                .collect();
        }
        let (doc, text) = (self.doc, self.text);
        let planned: Vec<Vec<Edit>> = groups
            .par_iter()
            .with_min_len(REMOVALS_PER_JOB)
            .map_init(
                || Planner::new(doc, text),
                |planner, group| plan_group(planner, group),
            )
            .collect();
        crate::pieces::concat(planned)
    }

    /// Removing keys `indices` (sorted, without duplicates) of the `Edit Registry` item
    /// `container`.
    fn plan_removal(&mut self, container: u32, indices: &[u32]) -> Vec<Edit> {
        let (doc, text) = (self.doc, self.text);
        let Some(item) = doc.item(container).filter(|i| i.active()) else {
            return Vec::new();
        };
        let listed = self.items.entry(container).or_insert_with(|| {
            let er = doc.edit_registry(text, container)?;
            Some((er, er.keys().collect()))
        });
        let Some((er, keys)) = listed.as_ref() else {
            return Vec::new();
        };
        // Remarked keys are never changed (and lowering never reports them). A key's `index`
        // is its position among the item's keys.
        let removed: Vec<u32> = indices
            .iter()
            .copied()
            .filter(|&i| keys.get(i as usize).is_some_and(RegKey::active))
            .collect();
        if removed.is_empty() {
            return Vec::new();
        }
        let is_removed = |i: usize| removed.binary_search(&(i as u32)).is_ok();
        let left = keys.len() - removed.len();
        if left == 0 || er.form != RegistryForm::Nested {
            return vec![Edit::delete(item.range())];
        }
        // A key with items of its own cannot be flattened: its children would become keys.
        let flat_safe = |k: &RegKey<'_>| {
            k.active()
                && doc
                    .item(k.holder)
                    .is_some_and(|item| item.subtree_end() == k.holder + 1)
        };
        if left == 1 {
            // The sole survivor is among the first `removed.len() + 1` positions.
            let kept = (0..keys.len()).find(|&i| !is_removed(i)).map(|i| &keys[i]);
            if kept.is_some_and(flat_safe) {
                let mask: Vec<bool> = (0..keys.len()).map(is_removed).collect();
                return flatten(doc, text, container, er.total_keys, keys, &mask)
                    .into_iter()
                    .collect();
            }
        }
        // Left nested (a remarked sole survivor stays nested: flattening would activate it; so
        // does one holding items of its own).
        let mut edits: Vec<Edit> = removed
            .iter()
            .map(|&i| Edit::delete(keys[i as usize].record()))
            .collect();
        let count = left.to_string();
        match er.total_keys {
            Some(p) if p.value_bytes(text) != count.as_bytes() => {
                edits.push(Edit::replace(p.value(), count));
            }
            Some(_) => {}
            None => {
                let mut line = vec![b' '; item.indent() + 2];
                line.extend_from_slice(b"Total Keys=");
                line.extend_from_slice(count.as_bytes());
                line.extend_from_slice(eol_of(text, item.head()));
                edits.push(Edit::insert(item.head().end, line));
            }
        }
        edits
    }
}

/// Edits accepted so far, keyed by range; a new edit that touches the same bytes (or inserts at
/// the same point, or inside a replaced range) is refused.
#[derive(Default)]
struct Accepted {
    edits: BTreeMap<(usize, usize), Vec<u8>>,
}

impl Accepted {
    fn try_add(&mut self, edit: Edit) -> bool {
        let r = edit.range;
        // Accepted edits do not overlap, so in key order their ends never decrease: walk back
        // from the last one starting at or before `r.end` until one ends before `r.start`.
        for (&(start, end), _) in self.edits.range(..=(r.end, usize::MAX)).rev() {
            if end < r.start {
                break;
            }
            if conflicts(TextRange::new(start, end), r) {
                return false;
            }
        }
        self.edits.insert((r.start, r.end), edit.content);
        true
    }

    fn into_sorted(self) -> Vec<Edit> {
        self.edits
            .into_iter()
            .map(|((start, end), content)| Edit::replace(TextRange::new(start, end), content))
            .collect()
    }
}

fn conflicts(a: TextRange, b: TextRange) -> bool {
    match (a.is_empty(), b.is_empty()) {
        (true, true) => a.start == b.start,
        (true, false) => b.start < a.start && a.start < b.end,
        (false, true) => a.start < b.start && b.start < a.end,
        (false, false) => a.start < b.end && b.start < a.end,
    }
}

/// The item rewritten in flat form: head line, `Total Keys=1`, the kept key's lines dedented by
/// one level (values verbatim), any other lines of the item as they were, the `end` line.
fn flatten(
    doc: &Document,
    text: &[u8],
    container: u32,
    total_keys: Option<Property>,
    keys: &[RegKey<'_>],
    removed: &[bool],
) -> Option<Edit> {
    let item = doc.item(container)?;
    let slice = |r: TextRange| text.get(r.as_range()).unwrap_or_default();
    let mut out = Vec::with_capacity(item.range().len());
    out.extend_from_slice(slice(item.head()));
    if total_keys.is_none() {
        out.resize(out.len() + item.indent() + 2, b' ');
        out.extend_from_slice(b"Total Keys=1");
        out.extend_from_slice(eol_of(text, item.head()));
    }
    // Key records in order, with whether each goes; a cursor walks them with the lines.
    let records: Vec<(TextRange, bool, Option<&Item>)> = keys
        .iter()
        .zip(removed)
        .map(|(k, &r)| (k.record(), r, doc.item(k.holder)))
        .collect();
    let mut cursor = 0;
    let mut pos = item.head().end;
    while pos < item.end_line().start {
        let rest = text.get(pos..item.end_line().start)?;
        let end = memchr::memchr(b'\n', rest).map_or(item.end_line().start, |p| pos + p + 1);
        let line = TextRange::new(pos, end);
        pos = end;
        while records
            .get(cursor)
            .is_some_and(|(r, _, _)| r.end <= line.start)
        {
            cursor += 1;
        }
        match records.get(cursor) {
            Some((r, gone, key)) if r.contains_range(line) => {
                let boundary = key.is_some_and(|k| k.head() == line || k.end_line() == line);
                if !*gone && !boundary {
                    let bytes = slice(line);
                    out.extend_from_slice(bytes.strip_prefix(b"  ").unwrap_or(bytes));
                }
            }
            _ => match total_keys {
                Some(p) if p.line() == line => {
                    out.extend_from_slice(slice(TextRange::new(p.line().start, p.value().start)));
                    out.push(b'1');
                    out.extend_from_slice(slice(p.eol()));
                }
                _ => out.extend_from_slice(slice(line)),
            },
        }
    }
    out.extend_from_slice(slice(item.end_line()));
    Some(Edit::replace(item.range(), out))
}

/// A line's terminator (`\r\n` or `\n`); `\r\n` (the native one) for a last line without one.
fn eol_of(text: &[u8], line: TextRange) -> &[u8] {
    let content_end = crate::syntax::wise::content_end(text, line);
    match text.get(content_end..line.end) {
        Some(eol) if !eol.is_empty() => eol,
        _ => b"\r\n",
    }
}

/// New items, merged per item they go before (in change order): each line indented like that
/// item (properties one level deeper) and ended with its head line's terminator. An item with
/// a line break in any part, or `=` in a field name, cannot be written and is dropped.
fn plan_inserts(doc: &Document, text: &[u8], changes: &[Change]) -> Vec<Edit> {
    let mut inserts: BTreeMap<usize, Vec<u8>> = BTreeMap::new();
    let breaks = |b: &[u8]| b.iter().any(|&c| c == b'\n' || c == b'\r');
    for change in changes {
        let Change::InsertItem {
            before,
            action,
            fields,
        } = change
        else {
            continue;
        };
        let Some(item) = doc.item(before.container) else {
            continue;
        };
        let bad_field = |(k, v): &(String, Vec<u8>)| {
            k.is_empty() || k.contains('=') || breaks(k.as_bytes()) || breaks(v)
        };
        if action.is_empty() || breaks(action.as_bytes()) || fields.iter().any(bad_field) {
            continue;
        }
        let head = item.head();
        let eol = eol_of(text, head);
        let indent = item.indent();
        let out = inserts.entry(head.start).or_default();
        let mut line = |depth: usize, parts: &[&[u8]]| {
            out.resize(out.len() + depth, b' ');
            for part in parts {
                out.extend_from_slice(part);
            }
            out.extend_from_slice(eol);
        };
        line(indent, &[b"item: ", action.as_bytes()]);
        for (key, value) in fields {
            line(indent + 2, &[key.as_bytes(), b"=", value]);
        }
        line(indent, &[b"end"]);
    }
    inserts
        .into_iter()
        .map(|(at, content)| Edit::insert(at, content))
        .collect()
}

/// `Create Service` fields in the order the editor writes them; `Display Name` includes its
/// language-suffixed forms (`Display Name English`).
pub const FIELD_ORDER: &[&str] = &[
    "Service Name",
    "Executable Path",
    "Login User",
    "Service Type",
    "Boot Type",
    "Error Type",
    "Display Name",
];

fn is_display_name(key: &[u8]) -> bool {
    key.eq_ignore_ascii_case(b"Display Name")
        || key
            .get(..13)
            .is_some_and(|p| p.eq_ignore_ascii_case(b"Display Name "))
}

fn field_rank(key: &[u8]) -> Option<usize> {
    if is_display_name(key) {
        return Some(FIELD_ORDER.len() - 1);
    }
    FIELD_ORDER
        .iter()
        .position(|f| key.eq_ignore_ascii_case(f.as_bytes()))
}

fn same_field(key: &[u8], field: &[u8]) -> bool {
    key.eq_ignore_ascii_case(field) || (is_display_name(key) && is_display_name(field))
}

/// Value replacements, and new property lines merged per insertion point (in field order).
fn plan_service_fields(doc: &Document, text: &[u8], changes: &[Change]) -> Vec<Edit> {
    let mut edits = Vec::new();
    // Insertion point → (rank, line) in change order; a field is set once per service.
    let mut inserts: BTreeMap<usize, Vec<(usize, Vec<u8>)>> = BTreeMap::new();
    let mut seen: Vec<(u32, &[u8])> = Vec::new();
    for change in changes {
        let Change::SetServiceField {
            service,
            field,
            value,
        } = change
        else {
            continue;
        };
        let field = field.as_bytes();
        // A line break in either, or `=` in the name, cannot be written as one property line.
        let breaks = |b: &[u8]| b.iter().any(|&c| c == b'\n' || c == b'\r');
        if field.is_empty() || field.contains(&b'=') || breaks(field) || breaks(value) {
            continue;
        }
        let container = service.container;
        let Some(item) = doc
            .item(container)
            .filter(|i| i.active() && i.kind() == ItemKind::CreateService)
        else {
            continue;
        };
        if seen
            .iter()
            .any(|&(c, f)| c == container && same_field(f, field))
        {
            continue;
        }
        seen.push((container, field));
        let props: Vec<Property> = doc.props_of(container).collect();
        if let Some(p) = props.iter().find(|p| same_field(p.key_bytes(text), field)) {
            edits.push(Edit::replace(p.value(), value.clone()));
            continue;
        }
        let rank = field_rank(field);
        let rank_of = |p: &&Property| field_rank(p.key_bytes(text));
        let earlier =
            rank.and_then(|r| props.iter().rfind(|p| rank_of(p).is_some_and(|pr| pr < r)));
        let later = rank.and_then(|r| props.iter().find(|p| rank_of(p).is_some_and(|pr| pr > r)));
        // After the last earlier field, else before the first later one, else at the end.
        let (at, indent, eol) = if let Some(p) = earlier {
            (p.line().end, p.indent(), eol_of(text, p.line()))
        } else if let Some(p) = later {
            (p.line().start, p.indent(), eol_of(text, p.line()))
        } else if let Some(p) = props.last() {
            (p.line().end, p.indent(), eol_of(text, p.line()))
        } else {
            let head = item.head();
            (head.end, item.indent() + 2, eol_of(text, head))
        };
        let mut line = vec![b' '; indent];
        line.extend_from_slice(field);
        line.push(b'=');
        line.extend_from_slice(value);
        line.extend_from_slice(eol);
        inserts
            .entry(at)
            .or_default()
            .push((rank.unwrap_or(usize::MAX), line));
    }
    for (at, mut lines) in inserts {
        lines.sort_by_key(|(rank, _)| *rank);
        let content: Vec<u8> = lines.into_iter().flat_map(|(_, l)| l).collect();
        edits.push(Edit::insert(at, content));
    }
    edits
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::ScriptKind;

    /// Removals planned on the pool, in parts with planners of their own, are those planned in
    /// order with one planner: nested items losing some keys (`Total Keys` rewritten or added),
    /// all but one (flattened, unless the survivor is remarked), or all; flat items.
    #[test]
    fn removals_planned_on_the_pool_equal_those_planned_in_order() {
        let mut text = b"Document Type: WSE\n".to_vec();
        for k in 0..1200 {
            let item = match k % 4 {
                0 => format!(
                    "item: Edit Registry\n  Total Keys=3\n  item: Key\n    Key=A{k}\n  end\n  item: Key\n    Key=B{k}\n  end\n  item: Key\n    Key=C{k}\n  end\nend\n"
                ),
                1 => format!(
                    "item: Edit Registry\n  item: Key\n    Key=A{k}\n  end\n  remarked item: Key\n    Key=B{k}\n  end\n  item: Key\n    Key=C{k}\n  end\nend\n"
                ),
                2 => format!("item: Edit Registry\n  Total Keys=1\n  Key=F{k}\n  Root=2\nend\n"),
                _ => format!("item: Remark\n  Text=R{k}\nend\n"),
            };
            text.extend_from_slice(item.as_bytes());
        }
        let doc = crate::syntax::wise::parse(&text, ScriptKind::Wse).unwrap();
        let containers: Vec<u32> = (0..doc.items().len() as u32)
            .filter(|&i| doc.edit_registry(&text, i).is_some())
            .collect();
        let removals: Vec<(u32, u32)> = containers
            .iter()
            .enumerate()
            .flat_map(|(n, &c)| {
                let indices: &[u32] = match n % 5 {
                    0 => &[0],
                    1 => &[0, 2],
                    2 => &[0, 1, 2],
                    3 => &[1],
                    _ => &[2],
                };
                indices.iter().map(move |&i| (c, i))
            })
            .collect();
        let groups: Vec<&[(u32, u32)]> = removals.chunk_by(|a, b| a.0 == b.0).collect();
        assert!(
            groups.len() > 3 * REMOVALS_PER_JOB,
            "{} groups",
            groups.len()
        );
        let in_order = Planner::new(&doc, &text).plan_removals(&groups, usize::MAX);
        assert!(in_order.len() > groups.len(), "{} edits", in_order.len());
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .unwrap();
        let on_pool = pool.install(|| Planner::new(&doc, &text).plan_removals(&groups, 0));
        assert_eq!(on_pool, in_order);
    }
}
