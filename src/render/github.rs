//! `--format github`: GitHub Actions workflow commands, one annotation per finding:
//!
//! ```text
//! ::error file=PATH,line=L,col=C,endLine=EL,endColumn=EC,title=CODE name::message
//! ```
//!
//! (`::warning` for warnings). Positions are 1-based, the end exclusive, as in the other
//! formats; PATH is the path as given. Escaping follows the Actions runner: in the message
//! `%`, `\r` and `\n` become `%25`, `%0D` and `%0A`; in property values `:` and `,` also become
//! `%3A` and `%2C`.

use std::io::{self, Write};

use super::json::{FileDiagnostics, Positions};
use crate::diagnostic::Severity;

/// Writes one workflow annotation line per finding of `files`, in the order given.
pub fn render(out: &mut dyn Write, files: &[FileDiagnostics]) -> io::Result<()> {
    for file in files {
        let mut positions = Positions::new(file.source);
        let path = escape_property(&file.source.path);
        for diag in file.diagnostics {
            let (start, end) = positions.range(diag.range.start, diag.range.end);
            let command = match diag.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            };
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
