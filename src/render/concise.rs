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
    let paint = |style: &str, text: &str| {
        if color {
            format!("\x1b[{style}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    };
    let index = source.line_index();
    let text = source.text();
    let mut sorted: Vec<&Diagnostic> = diagnostics.iter().collect();
    sorted.sort_by_key(|d| (d.range.start, d.range.end, d.code));
    let path = paint("1", &source.path);
    let mut buf = String::new();
    for diagnostic in sorted {
        let at = match source.row_of(diagnostic.range) {
            Some(row) => row.to_string(),
            None => index.line_col(text, diagnostic.range.start).to_string(),
        };
        let code_style = match diagnostic.severity {
            crate::diagnostic::Severity::Error => "1;31",
            crate::diagnostic::Severity::Warning => "1;33",
        };
        buf.push_str(&format!(
            "{path}:{at}: {} {}",
            paint(code_style, diagnostic.code),
            one_line(&diagnostic.message)
        ));
        if is_fixable(diagnostic, unsafe_fixes) {
            buf.push(' ');
            buf.push_str(&paint("36", "[*]"));
        }
        buf.push('\n');
    }
    out.write_all(buf.as_bytes())
}

/// A message on one line: line breaks (and the indentation after them) become one space,
/// other control characters are dropped.
fn one_line(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    for (i, line) in message.lines().enumerate() {
        let line = if i == 0 { line.trim_end() } else { line.trim() };
        if line.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.extend(line.chars().filter(|c| !c.is_control()));
    }
    out
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
