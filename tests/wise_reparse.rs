//! An edited script re-parsed by splicing (`syntax::reparse`: untouched top-level items reused,
//! touched ones parsed again) must give exactly the tree, or the error, of a parse from scratch.
//! Edits of every shape a fix makes and more: whole items and lines removed or inserted, values
//! rewritten, line breaks changed, bytes cut mid-line, items broken open, edits at the first
//! and last item and before the first item.

mod common;

use svcscrub::detect::{Format, ScriptKind};
use svcscrub::syntax::wise::Document;
use svcscrub::syntax::{self, Replacement, Syntax};
use svcscrub::text::TextRange;

/// A small deterministic generator (xorshift).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n.max(1) as u64) as usize
    }
}

const INSERTS: &[&[u8]] = &[
    b"",
    b"item: Remark\r\n  Text=added\r\nend\r\n",
    b"item: If/While Statement\r\n  Variable=X\r\n  Value=1\r\nend\r\n",
    b"item: End Block\r\nend\r\n",
    b"  Value Name=Start\r\n",
    b"end\r\n",
    b"\r\n",
    b"  \r\n",
    b"CurrentControlSet",
    b"garbage\r\n",
    b"item: Edit Registry\r\n  Total Keys=1\r\n  Key=SYSTEM\\CurrentControlSet\\Services\\S\r\n  Root=2\r\nend\r\n",
];

/// Where edits go: item ranges, line starts, and the values of property lines.
struct Targets {
    items: Vec<TextRange>,
    lines: Vec<usize>,
    values: Vec<TextRange>,
}

impl Targets {
    fn of(doc: &svcscrub::syntax::wise::Document, text: &[u8]) -> Self {
        let lines: Vec<usize> = std::iter::once(0)
            .chain(memchr::memchr_iter(b'\n', text).map(|i| i + 1))
            .filter(|&l| l < text.len())
            .collect();
        let values = lines
            .iter()
            .filter_map(|&l| {
                let end = memchr::memchr(b'\n', &text[l..]).map_or(text.len(), |i| l + i);
                let eq = memchr::memchr(b'=', &text[l..end])?;
                Some(TextRange::new(l + eq + 1, end))
            })
            .collect();
        Self {
            items: doc.items().iter().map(|i| i.range()).collect(),
            lines,
            values,
        }
    }
}

/// Sorted, non-overlapping replacements on `text`: mostly what fixes do (whole items removed,
/// items inserted before others, values rewritten), sometimes anything.
fn replacements(rng: &mut Rng, text: &[u8], at: &Targets) -> (Vec<u8>, Vec<Replacement>) {
    let count = 1 + rng.below(4);
    let mut planned: Vec<(TextRange, Vec<u8>)> = (0..count)
        .map(|_| match rng.below(8) {
            0 | 1 => (at.items[rng.below(at.items.len())], Vec::new()),
            2 | 3 => {
                let item = at.items[rng.below(at.items.len())];
                let content = INSERTS[1 + rng.below(3)].to_vec();
                (TextRange::new(item.start, item.start), content)
            }
            4 | 5 if !at.values.is_empty() => {
                let value = at.values[rng.below(at.values.len())];
                let cut = value.start + rng.below(value.end - value.start + 1);
                let content = [b"".as_slice(), b"CurrentControlSet", b"%SYS32%"][rng.below(3)];
                (TextRange::new(value.start, cut), content.to_vec())
            }
            _ => {
                let start = match rng.below(3) {
                    0 => rng.below(text.len() + 1),
                    _ => at.lines[rng.below(at.lines.len())],
                };
                let end = match rng.below(3) {
                    0 => start,
                    1 => {
                        let first = at.lines.partition_point(|&l| l <= start);
                        at.lines
                            .get(first + rng.below(6))
                            .copied()
                            .unwrap_or(text.len())
                    }
                    _ => start + rng.below(40),
                }
                .min(text.len());
                let content = match rng.below(4) {
                    // A copy of some other part of the script (lines moved around).
                    0 => {
                        let a = at.lines[rng.below(at.lines.len())];
                        let b = at.lines.partition_point(|&l| l <= a) + rng.below(12);
                        text[a..at.lines.get(b).copied().unwrap_or(text.len()).max(a)].to_vec()
                    }
                    _ => INSERTS[rng.below(INSERTS.len())].to_vec(),
                };
                (TextRange::new(start, end), content)
            }
        })
        .collect();
    planned.sort_by_key(|(r, _)| (r.start, r.end));
    let mut out = Vec::with_capacity(text.len() + 256);
    let mut reps = Vec::new();
    let mut pos = 0;
    for (range, content) in planned {
        // Overlapping ones (and a second insertion at one offset) are left out.
        if range.start < pos
            || (range.is_empty()
                && reps
                    .last()
                    .is_some_and(|r: &Replacement| r.old.start == range.start && r.old.is_empty()))
        {
            continue;
        }
        out.extend_from_slice(&text[pos..range.start]);
        out.extend_from_slice(&content);
        reps.push(Replacement {
            old: range,
            len: content.len(),
        });
        pos = range.end;
    }
    out.extend_from_slice(&text[pos..]);
    (out, reps)
}

/// The two trees say the same about the text: every item (position, nesting, region, kind,
/// state) with its properties, the blank lines, the header. (Where the own-line records sit in
/// their array may differ: an item whose property follows a child leaves its first records
/// unused.)
fn same_tree(a: &Document, b: &Document) -> Result<(), String> {
    if a.header != b.header || a.text_len() != b.text_len() || a.kind != b.kind {
        return Err("headers differ".into());
    }
    if a.blank_lines() != b.blank_lines() {
        return Err("blank lines differ".into());
    }
    if a.items().len() != b.items().len() {
        return Err(format!(
            "{} items against {}",
            a.items().len(),
            b.items().len()
        ));
    }
    for (i, (x, y)) in a.items().iter().zip(b.items()).enumerate() {
        let shape = |it: &svcscrub::syntax::wise::Item, block: u32| {
            (
                (
                    it.range(),
                    it.head(),
                    it.name(),
                    it.prefix_range(),
                    it.end_line(),
                ),
                (it.parent(), it.subtree_end(), it.depth(), block),
                (it.kind(), it.prefix(), it.role(), it.active()),
            )
        };
        if shape(x, a.block(i as u32)) != shape(y, b.block(i as u32)) {
            return Err(format!("item {i} differs: {x:?} against {y:?}"));
        }
        let props = |d: &Document| d.props_of(i as u32).collect::<Vec<_>>();
        if props(a) != props(b) {
            return Err(format!("properties of item {i} differ"));
        }
    }
    Ok(())
}

fn check_script(name: &str, text: &[u8], kind: ScriptKind, cases: usize, seed: u64) {
    let format = Format::Script(kind);
    let Ok(previous) = syntax::parse(text, format) else {
        return;
    };
    let Syntax::Script(doc) = &previous else {
        return;
    };
    let targets = Targets::of(doc, text);
    if targets.items.is_empty() {
        return;
    }
    let mut rng = Rng(seed);
    let (mut parsed, mut refused) = (0, 0);
    for case in 0..cases {
        let (edited, reps) = replacements(&mut rng, text, &targets);
        let fresh = syntax::parse(&edited, format);
        let spliced = syntax::reparse(previous.clone(), &edited, format, &reps);
        match (&fresh, &spliced) {
            (Ok(Syntax::Script(a)), Ok(Syntax::Script(b))) => {
                parsed += 1;
                if let Err(what) = same_tree(a, b) {
                    panic!("{name} case {case}: {what} for {reps:?}");
                }
            }
            (Err(a), Err(b)) => {
                refused += 1;
                assert_eq!(a, b, "{name} case {case}: errors differ for {reps:?}");
            }
            _ => panic!(
                "{name} case {case}: parse {} but reparse {} for {reps:?}",
                if fresh.is_ok() { "succeeds" } else { "fails" },
                if spliced.is_ok() { "succeeds" } else { "fails" },
            ),
        }
    }
    // Both outcomes were exercised, mostly valid edits.
    assert!(
        parsed > cases / 3 && refused > 0,
        "{name}: {parsed} parsed, {refused} refused"
    );
}

/// Control-flow regions across items, nested and flat Edit Registry items, remarked items,
/// properties after a child item, blank lines, CRLF and LF.
fn generated() -> Vec<u8> {
    let mut out = b"Document Type: WSE\r\nitem: Global\r\n  Version=9.0\r\nend\r\n".to_vec();
    let mut rng = Rng(0x5DEE_CE66_D1CE_4E5B);
    for n in 0..400 {
        let item = match rng.below(10) {
            0 => format!("item: If/While Statement\r\n  Variable=V{n}\r\n  Value=1\r\nend\r\n"),
            1 => "item: End Block\r\nend\n".to_owned(),
            2 => "\r\n  \r\n".to_owned(),
            3 => format!(
                "remarked item: Edit Registry\r\n  Total Keys=1\r\n  Key=SOFTWARE\\R{n}\r\n  Root=2\r\nend\r\n"
            ),
            4..=6 => format!(
                "item: Edit Registry\r\n  Total Keys=2\r\n  item: Key\r\n    Key=SYSTEM\\CurrentControlSet\\Services\\S{n}\r\n    New Value=1\r\n    Value Name=Start\r\n    Root=2\r\n  end\r\n  remarked item: Key\r\n    Key=SOFTWARE\\K{n}\r\n    Root=2\r\n  end\r\nend\r\n"
            ),
            // A property after a child (the parser keeps the item's records together).
            7 => format!(
                "item: Edit Registry\r\n  Total Keys=1\r\n  item: Key\r\n    Key=SOFTWARE\\P{n}\r\n    Root=2\r\n  end\r\n  Flags=1\r\nend\r\n"
            ),
            _ => format!(
                "item: Install File\n  Source=C:\\src\\f{n}.dll\n  Destination=%MAINDIR%\\f{n}.dll\nend\n"
            ),
        };
        out.extend_from_slice(item.as_bytes());
    }
    out
}

#[test]
fn reparse_equals_parse_on_a_generated_script() {
    check_script(
        "generated",
        &generated(),
        ScriptKind::Wse,
        600,
        0x2545_F491_4F6C_DD1D,
    );
}

#[test]
fn reparse_equals_parse_on_the_corpus_scripts() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let mut checked = 0;
    for path in common::files_under(&corpus.join("wise"), true) {
        let raw = std::fs::read(&path).unwrap();
        let name = path.display().to_string();
        let Ok(loaded) = svcscrub::pipeline::load(&name, raw) else {
            continue;
        };
        let Format::Script(kind) = loaded.format else {
            continue;
        };
        check_script(&name, loaded.source.text(), kind, 60, 0x9E37_79B9_7F4A_7C15);
        checked += 1;
    }
    assert!(checked >= 8, "{checked} corpus scripts");
}
