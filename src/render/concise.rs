//! The `concise` format: one line per finding, `PATH:LINE:COL: CODE message [*]`; in a database,
//! `PATH:TABLE/ROW/COLUMN: CODE message [*]` (a database has no lines).
//!
//! `[*]` marks a finding that `svcscrub fix` would fix: a safe fix, or an unsafe one when unsafe
//! fixes are enabled.

use std::io::{self, Write};

use crate::diagnostic::Diagnostic;
use crate::fix::Applicability;
use crate::source::SourceFile;

/// Whether `svcscrub fix` (with `--unsafe-fixes` when `unsafe_fixes`) applies this finding's fix.
pub fn is_fixable(diagnostic: &Diagnostic, unsafe_fixes: bool) -> bool {
    match diagnostic.fix.as_ref().map(|f| f.applicability) {
        Some(Applicability::Safe) => true,
        Some(Applicability::Unsafe) => unsafe_fixes,
        Some(Applicability::DisplayOnly) | None => false,
    }
}

/// Writes one line per diagnostic of one file, in order of position. Builds the file's line
/// index once. With `color`, the path is bold, the code red (error) or yellow (warning) and
/// the `[*]` cyan, as ruff colours its concise output.
pub fn render(
    out: &mut dyn Write,
    source: &SourceFile,
    diagnostics: &[Diagnostic],
    unsafe_fixes: bool,
    color: bool,
) -> io::Result<()> {
    if diagnostics.is_empty() {
        return Ok(());
    }
    // Each line is written piece by piece: a report of a dense capture has hundreds of
    // thousands of lines, and a `format!` or a painted copy per line showed in its profile.
    let paint = |buf: &mut String, style: &str, text: &str| {
        if color {
            buf.push_str("\x1b[");
            buf.push_str(style);
            buf.push('m');
            buf.push_str(text);
            buf.push_str("\x1b[0m");
        } else {
            buf.push_str(text);
        }
    };
    let index = source.line_index();
    let text = source.text();
    let mut sorted: Vec<&Diagnostic> = diagnostics.iter().collect();
    sorted.sort_by_key(|d| (d.range.start, d.range.end, d.code));
    let mut path = String::new();
    paint(&mut path, "1", &source.path);
    let mut buf = String::new();
    for diagnostic in sorted {
        use std::fmt::Write as _;
        buf.push_str(&path);
        buf.push(':');
        // Writing to a `String` cannot fail.
        let _ = match source.row_of(diagnostic.range) {
            Some(row) => write!(buf, "{row}"),
            None => write!(buf, "{}", index.line_col(text, diagnostic.range.start)),
        };
        buf.push_str(": ");
        let code_style = match diagnostic.severity {
            crate::diagnostic::Severity::Error => "1;31",
            crate::diagnostic::Severity::Warning => "1;33",
        };
        paint(&mut buf, code_style, diagnostic.code);
        buf.push(' ');
        push_one_line(&mut buf, &diagnostic.message);
        if is_fixable(diagnostic, unsafe_fixes) {
            buf.push(' ');
            paint(&mut buf, "36", "[*]");
        }
        buf.push('\n');
        // Handed on a piece at a time: the whole report is never held twice.
        if buf.len() >= REPORT_PIECE {
            out.write_all(buf.as_bytes())?;
            buf.clear();
        }
    }
    out.write_all(buf.as_bytes())
}

/// Bytes of report lines gathered before they are written on.
const REPORT_PIECE: usize = 1 << 20;

/// A message on one line: line breaks (and the indentation after them) become one space,
/// other control characters are dropped.
#[cfg(test)]
fn one_line(message: &str) -> String {
    let mut out = String::new();
    push_one_line(&mut out, message);
    out
}

/// Appends `message` on one line (see [`one_line`]).
fn push_one_line(out: &mut String, message: &str) {
    // Control characters are C0 and DEL (single bytes) and C1 (`C2 80`-`C2 9F` in UTF-8):
    // nearly every message has none and is copied whole.
    let plain = !message
        .as_bytes()
        .iter()
        .any(|&b| b < 0x20 || b == 0x7F || b == 0xC2);
    if plain {
        out.push_str(message.trim_end());
        return;
    }
    let start = out.len();
    for (i, line) in message.lines().enumerate() {
        let line = if i == 0 { line.trim_end() } else { line.trim() };
        if line.is_empty() {
            continue;
        }
        if out.len() > start {
            out.push(' ');
        }
        out.extend(line.chars().filter(|c| !c.is_control()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_become_one_line() {
        assert_eq!(
            one_line("add this:\n  item: Create Service\n\n  end\n"),
            "add this: item: Create Service end"
        );
        assert_eq!(one_line("a\x1b[31mb"), "a[31mb");
    }
}
