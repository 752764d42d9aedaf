//! Planning `svcscrub suppress`: one suppression directive (see [`crate::model::suppress`])
//! for every finding, so that the findings a repository has today stop failing its gate and
//! only new ones do (ruff's `--add-noqa`).
//!
//! - Script: an `item: Remark` with `Text=svcscrub: ignore CODES` inserted directly before the
//!   top-level item that holds the findings (its indentation and line ending kept).
//! - `.reg`: a `; svcscrub: ignore CODES` comment line inserted directly before the key or
//!   value line a finding is on.
//!
//! Findings at one place share one directive, their codes sorted. SVC900 (an unused
//! directive) is never suppressed: its fix removes the directive instead.

use std::collections::BTreeMap;

use super::Edit;
use crate::diagnostic::Diagnostic;
use crate::pipeline::Loaded;
use crate::syntax::Syntax;

/// The insertions that suppress `diagnostics` (the findings of `loaded`), sorted; empty when
/// there is nothing to suppress or the format has no directives.
pub fn directive_edits(loaded: &Loaded, diagnostics: &[Diagnostic]) -> Vec<Edit> {
    let text = loaded.source.text();
    // Insertion point -> (indentation, line ending, codes).
    let mut at: BTreeMap<usize, (usize, &'static [u8], Vec<&'static str>)> = BTreeMap::new();
    for diagnostic in diagnostics {
        if diagnostic.code == crate::rules::svc900_unused_suppression::INFO.code {
            continue;
        }
        let offset = diagnostic.range.start;
        let place =
            match &loaded.syntax {
                Syntax::Script(doc) => {
                    let Some(mut index) = doc.items().iter().rposition(|item| {
                        item.range().start <= offset && offset < item.range().end
                    }) else {
                        continue;
                    };
                    while let Some(parent) = doc.items()[index].parent() {
                        index = parent as usize;
                    }
                    let item = &doc.items()[index];
                    let start = line_start(text, item.range().start);
                    (start, item.range().start - start)
                }
                Syntax::Reg(_) => (line_start(text, offset), 0),
                // No directive syntax (WiX sources report nothing yet; a database has no comments).
                Syntax::Wix(_) | Syntax::Msi(_) => continue,
            };
        let entry = at
            .entry(place.0)
            .or_insert_with(|| (place.1, line_ending(text, place.0), Vec::new()));
        if !entry.2.contains(&diagnostic.code) {
            entry.2.push(diagnostic.code);
        }
    }
    let script = matches!(loaded.syntax, Syntax::Script(_));
    at.into_iter()
        .map(|(offset, (indent, eol, mut codes))| {
            codes.sort_unstable();
            let list = codes.join(", ");
            let pad = " ".repeat(indent);
            let eol = String::from_utf8_lossy(eol);
            let content = if script {
                format!(
                    "{pad}item: Remark{eol}{pad}  Text=svcscrub: ignore {list}{eol}{pad}end{eol}"
                )
            } else {
                format!("; svcscrub: ignore {list}{eol}")
            };
            Edit::insert(offset, content)
        })
        .collect()
}

/// The start of the line holding `offset`.
fn line_start(text: &[u8], offset: usize) -> usize {
    text[..offset.min(text.len())]
        .iter()
        .rposition(|&b| b == b'\n' || b == b'\r')
        .map_or(0, |i| i + 1)
}

/// The line ending of the line starting at `start` (CRLF, LF or CR; CRLF for a last line
/// without one).
fn line_ending(text: &[u8], start: usize) -> &'static [u8] {
    let rest = &text[start.min(text.len())..];
    match rest.iter().position(|&b| b == b'\n' || b == b'\r') {
        Some(i) if rest[i] == b'\r' && rest.get(i + 1) == Some(&b'\n') => b"\r\n",
        Some(i) if rest[i] == b'\r' => b"\r",
        Some(_) => b"\n",
        None => b"\r\n",
    }
}
