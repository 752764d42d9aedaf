//! `--format github`: GitHub Actions workflow commands, one annotation per finding:
//!
//! ```text
//! ::error file=PATH,line=L,col=C,endLine=EL,endColumn=EC,title=CODE name::message
//! ```
//!
//! (`::warning` for warnings); a finding in a database, which has no lines, is
//! `::error file=PATH,title=CODE name::TABLE/ROW/COLUMN: message`. Positions are 1-based, the end exclusive, as in the other
//! formats; PATH is the machine-facing path (relative to the project root, `/`-separated; see
//! [`crate::paths`]). Before the findings, each notice of the run gets one
//! too, so a failed run is never a clean-looking one: an input that could not be processed is
//! `::error file=PATH[,line=L,col=C],title=svcscrub::message`, a warning (an include that could
//! not be followed) the same with `::warning`. Escaping follows the Actions runner: in the message
//! `%`, `\r` and `\n` become `%25`, `%0D` and `%0A`; in property values `:` and `,` also become
//! `%3A` and `%2C`.

use std::io::{self, Write};

use super::Notice;
use super::json::{FileDiagnostics, Positions};
use crate::diagnostic::Severity;

fn command(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// Writes one workflow annotation line per notice, then per finding of `files`, in the order
/// given.
pub fn render(
    out: &mut dyn Write,
    files: &[FileDiagnostics],
    notices: &[Notice],
) -> io::Result<()> {
    for notice in notices {
        let problem = notice.problem;
        let at = problem
            .position
            .map(|at| format!(",line={},col={}", at.line, at.column))
            .unwrap_or_default();
        writeln!(
            out,
            "::{} file={}{at},title=svcscrub::{}",
            command(notice.severity),
            escape_property(&notice.path),
            escape_data(&problem.message),
        )?;
    }
    for file in files {
        let mut positions = Positions::new(file.source);
        let path = escape_property(file.path);
        for diag in file.diagnostics {
            let command = command(diag.severity);
            if let Some(row) = file.source.row_of(diag.range) {
                writeln!(
                    out,
                    "::{command} file={path},title={}::{}",
                    escape_property(&format!("{} {}", diag.code, diag.name)),
                    escape_data(&format!("{row}: {}", diag.message)),
                )?;
                continue;
            }
            let (start, end) = positions.range(diag.range.start, diag.range.end);
            writeln!(
                out,
                "::{command} file={path},line={},col={},endLine={},endColumn={},title={}::{}",
                start.line,
                start.column,
                end.line,
                end.column,
                escape_property(&format!("{} {}", diag.code, diag.name)),
                escape_data(&diag.message),
            )?;
        }
    }
    Ok(())
}

/// Escapes a workflow command's message: `%`, `\r`, `\n`.
pub fn escape_data(s: &str) -> String {
    escape(s, false)
}

/// Escapes a workflow command's property value: `%`, `\r`, `\n`, `:`, `,`.
pub fn escape_property(s: &str) -> String {
    escape(s, true)
}

fn escape(s: &str, property: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            ':' if property => out.push_str("%3A"),
            ',' if property => out.push_str("%2C"),
            c => out.push(c),
        }
    }
    out
}
