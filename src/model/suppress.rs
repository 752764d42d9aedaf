//! Suppression directives (RULES.md, "Suppressions").
//!
//! - Script: an `item: Remark` whose `Text=` contains `svcscrub: ignore SVC010[, SVC020…]`
//!   suppresses those codes for the item directly after it (all its keys);
//!   `svcscrub: ignore-file SVC010` in any Remark suppresses them for the whole file.
//! - `.reg`: a comment `; svcscrub: ignore SVC010` directly before a key line suppresses them for
//!   that key's block, directly before a value line for that value; `; svcscrub: ignore-file …`
//!   anywhere for the file.
//!
//! Codes are rule codes or prefixes (`SVC0`), case-insensitive.

use crate::syntax::Syntax;
use crate::syntax::reg::{RecordKind, RegFile};
use crate::syntax::wise::{Document, ItemKind};
use crate::text::TextRange;

/// One `svcscrub: ignore…` directive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Directive {
    /// The codes as written, each with its range in the working text.
    pub codes: Vec<(String, TextRange)>,
    /// From the first code to the last (rewritten when some codes go unused).
    pub list: TextRange,
    /// What the directive covers; `None` for `ignore-file`.
    pub scope: Option<TextRange>,
    /// What removing the directive deletes: the comment line, the Remark's `Text=` line, or the
    /// whole Remark item when the directive is all it holds.
    pub removal: TextRange,
}

impl Directive {
    /// Whether code `code` (e.g. `SVC010`) is named by selector `i` of this directive.
    pub fn names(&self, i: usize, code: &str) -> bool {
        self.codes.get(i).is_some_and(|(sel, _)| {
            code.len() >= sel.len() && code[..sel.len()].eq_ignore_ascii_case(sel)
        })
    }

    /// Whether the directive applies at `offset`.
    pub fn covers(&self, offset: usize) -> bool {
        self.scope
            .is_none_or(|s| s.start <= offset && offset < s.end.max(s.start + 1))
    }
}

const MARKER: &[u8] = b"svcscrub:";

/// A parsed directive's text: file-wide or not, the codes with their ranges, the list range.
type Parsed = (bool, Vec<(String, TextRange)>, TextRange);

/// Parses the directive in `line` (the text of a comment or `Text=` value starting at
/// `offset`): `svcscrub: ignore CODES` or `svcscrub: ignore-file CODES`. Returns whether it is
/// file-wide, the codes with ranges, and the list range.
fn parse_directive(line: &[u8], offset: usize) -> Option<Parsed> {
    let at = memchr::memmem::find(line, MARKER)?;
    let mut i = at + MARKER.len();
    let skip_blanks = |i: &mut usize| {
        while line.get(*i).is_some_and(|b| matches!(b, b' ' | b'\t')) {
            *i += 1;
        }
    };
    skip_blanks(&mut i);
    let rest = &line[i..];
    let file_wide = if rest.starts_with(b"ignore-file") {
        i += b"ignore-file".len();
        true
    } else if rest.starts_with(b"ignore") {
        i += b"ignore".len();
        false
    } else {
        return None;
    };
    let keyword_end = i;
    let mut codes = Vec::new();
    loop {
        while line
            .get(i)
            .is_some_and(|b| matches!(b, b' ' | b'\t' | b','))
        {
            i += 1;
        }
        // A code or prefix: letters then at least one digit (`SVC010`, `SVC0`); anything else
        // ends the list, so prose may follow.
        let start = i;
        while line.get(i).is_some_and(u8::is_ascii_alphabetic) {
            i += 1;
        }
        let letters_end = i;
        while line.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if letters_end == start || i == letters_end {
            break;
        }
        let code = String::from_utf8_lossy(&line[start..i]).to_ascii_uppercase();
        codes.push((code, TextRange::new(offset + start, offset + i)));
    }
    // A directive that names no code is kept (it is reported: it suppresses nothing); its
    // list is the directive's own words then.
    let list = match (codes.first(), codes.last()) {
        (Some(first), Some(last)) => TextRange::new(first.1.start, last.1.end),
        _ => TextRange::new(offset + at, offset + keyword_end),
    };
    Some((file_wide, codes, list))
}

/// Every directive of a parsed file.
pub fn directives(syntax: &Syntax, text: &[u8]) -> Vec<Directive> {
    match syntax {
        // Only Remark items can hold one: walking the items is quicker than searching the text.
        Syntax::Script(doc) => script_directives(doc, text),
        // An export has a record per line, more to walk than its text to search; most have no
        // directive at all.
        Syntax::Reg(file) => {
            if memchr::memmem::find(text, MARKER).is_none() {
                return Vec::new();
            }
            reg_directives(file, text)
        }
        // No findings yet, so no directives to honour or report.
        Syntax::Wix(_) | Syntax::Msi(_) => Vec::new(),
    }
}

fn script_directives(doc: &Document, text: &[u8]) -> Vec<Directive> {
    let mut out = Vec::new();
    for (index, item) in doc.items().iter().enumerate() {
        if item.kind() != ItemKind::Remark || !item.active() {
            continue;
        }
        // Most Remarks are comments: look for the marker before collecting the properties.
        let marked = doc
            .props_of(index as u32)
            .any(|p| memchr::memmem::find(p.value_bytes(text), MARKER).is_some());
        if !marked {
            continue;
        }
        let props: Vec<_> = doc.props_of(index as u32).collect();
        for prop in &props {
            if !prop.key_is(text, "Text") {
                continue;
            }
            let value = prop.value_bytes(text);
            let Some((file_wide, codes, list)) = parse_directive(value, prop.value().start) else {
                continue;
            };
            let scope = if file_wide {
                None
            } else {
                // The next sibling: the first item after this Remark's subtree, if it has the
                // same parent.
                let next = doc
                    .item(item.subtree_end())
                    .filter(|n| n.parent() == item.parent());
                match next {
                    Some(next) => Some(next.range()),
                    None => Some(TextRange::empty(item.range().end)),
                }
            };
            let removal = if props.len() == 1 && item.subtree_end() == index as u32 + 1 {
                item.range()
            } else {
                prop.line()
            };
            out.push(Directive {
                codes,
                list,
                scope,
                removal,
            });
        }
    }
    out
}

fn reg_directives(file: &RegFile, text: &[u8]) -> Vec<Directive> {
    let mut out = Vec::new();
    let mut push = |record: &crate::syntax::reg::Record,
                    scope_of: &dyn Fn(bool) -> Option<TextRange>| {
        if !matches!(record.kind, RecordKind::Comment) {
            return;
        }
        let line = record.line.slice(text);
        if let Some((file_wide, codes, list)) = parse_directive(line, record.line.start) {
            out.push(Directive {
                codes,
                list,
                scope: scope_of(file_wide),
                removal: record.range,
            });
        }
    };
    // Comments in the preamble and inside blocks; the block or value after a directive is its
    // scope when it follows directly.
    for record in file.preamble() {
        let scope = |file_wide: bool| {
            if file_wide {
                None
            } else {
                file.blocks
                    .first()
                    .filter(|_| {
                        file.record_before_key(0)
                            .is_some_and(|r| r.range == record.range)
                    })
                    .map(|b| b.range)
                    .or(Some(TextRange::empty(record.range.end)))
            }
        };
        push(record, &scope);
    }
    for (b, block) in file.blocks.iter().enumerate() {
        let records = file.block_records(block);
        for (i, record) in records.iter().enumerate() {
            let scope = |file_wide: bool| {
                if file_wide {
                    return None;
                }
                if let Some(next) = records.get(i + 1) {
                    return Some(next.range);
                }
                // The last record of a block stands directly before the next key line.
                file.blocks
                    .get(b + 1)
                    .filter(|_| {
                        file.record_before_key(b + 1)
                            .is_some_and(|r| r.range == record.range)
                    })
                    .map(|next| next.range)
                    .or(Some(TextRange::empty(record.range.end)))
            };
            push(record, &scope);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_codes_and_their_ranges() {
        let (file_wide, codes, list) =
            parse_directive(b"; svcscrub: ignore SVC010, svc020 because vendor", 100).unwrap();
        assert!(!file_wide);
        assert_eq!(
            codes,
            [
                ("SVC010".to_string(), TextRange::new(119, 125)),
                ("SVC020".to_string(), TextRange::new(127, 133)),
            ]
        );
        assert_eq!(list, TextRange::new(119, 133));
        let (file_wide, codes, _) = parse_directive(b"svcscrub: ignore-file SVC0", 0).unwrap();
        assert!(file_wide);
        assert_eq!(codes[0].0, "SVC0");
        // No code: still a directive (reported as suppressing nothing), its words the list.
        let (_, codes, list) = parse_directive(b"; svcscrub: ignore this", 0).unwrap();
        assert!(codes.is_empty());
        assert_eq!(list, TextRange::new(2, 18));
        assert!(parse_directive(b"svcscrub: check SVC001", 0).is_none());
        assert!(parse_directive(b"nothing here", 0).is_none());
    }
}
