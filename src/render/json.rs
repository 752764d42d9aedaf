//! `--format json`: an array of finding objects, pretty-printed with two-space indentation.
//!
//! Keys come in a fixed order: `code`, `name`, `severity`, `message`, `path`, `line`, `column`,
//! `end_line`, `end_column`, `service`, `registry_key`, `value_name`, `fix`. Lines and columns
//! are 1-based (columns count characters; for 8-bit files a byte is a character) and the end is
//! exclusive. A fix is `{ "applicability", "message", "edits": [{ "start", "end", "content" }] }`
//! where `start`/`end` are byte offsets **in the file** (BOM and UTF-16 code units included), so
//! a tool can splice `content`, encoded in the file's encoding, into the raw bytes.
//! A finding in a database, which has no lines, has `null` lines and columns and three more keys
//! after `end_column`: `table`, `row` (the row's primary key) and `table_column`; its fix edits
//! address the database's view text (see [`crate::syntax::msi`]), not the file's bytes.
//! Files and findings are written in the order given.

use std::borrow::Cow;
use std::io::{self, Write};

use serde::Serialize;

use crate::diagnostic::{Diagnostic, Severity};
use crate::fix::{Applicability, Fix};
use crate::source::{Encoding, SourceFile, raw_offset, to_display};
use crate::text::LineCol;

/// One file's findings, as every machine-readable renderer takes them.
#[derive(Clone, Copy, Debug)]
pub struct FileDiagnostics<'a> {
    /// The file's machine-facing path ([`crate::paths::ProjectRoot::machine`]).
    pub path: &'a str,
    pub source: &'a SourceFile,
    pub diagnostics: &'a [Diagnostic],
}

#[derive(Serialize)]
struct JsonDiagnostic<'a> {
    code: &'a str,
    name: &'a str,
    severity: Severity,
    message: &'a str,
    path: &'a str,
    /// `null` in a database, which has no lines: `table`, `row` and `table_column` say where.
    line: Option<usize>,
    column: Option<usize>,
    end_line: Option<usize>,
    end_column: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    table: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    row: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    table_column: Option<String>,
    service: Option<&'a str>,
    registry_key: Option<&'a str>,
    value_name: Option<&'a str>,
    fix: Option<JsonFix<'a>>,
}

#[derive(Serialize)]
struct JsonFix<'a> {
    applicability: Applicability,
    message: &'a str,
    edits: Vec<JsonEdit<'a>>,
}

#[derive(Serialize)]
struct JsonEdit<'a> {
    start: usize,
    end: usize,
    content: Cow<'a, str>,
}

/// Writes every finding of `files` as one pretty JSON array, followed by a newline.
pub fn render(out: &mut dyn Write, files: &[FileDiagnostics]) -> io::Result<()> {
    let items = files.iter().flat_map(|file| {
        let mut positions = Positions::new(file.source);
        file.diagnostics
            .iter()
            .map(move |diag| json_diagnostic(file, &mut positions, diag))
    });
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"  ");
    let mut ser = serde_json::Serializer::with_formatter(&mut *out, formatter);
    serde::Serializer::collect_seq(&mut ser, items).map_err(io::Error::from)?;
    out.write_all(b"\n")
}

fn json_diagnostic<'a>(
    file: &FileDiagnostics<'a>,
    positions: &mut Positions<'_>,
    diag: &'a Diagnostic,
) -> JsonDiagnostic<'a> {
    let source = file.source;
    let row = source.row_of(diag.range);
    let (start, end) = match row {
        Some(_) => (None, None),
        None => {
            let (start, end) = positions.range(diag.range.start, diag.range.end);
            (Some(start), Some(end))
        }
    };
    let (table, row, table_column) = match row {
        Some(row) => (Some(row.table), Some(row.row), Some(row.column)),
        None => (None, None, None),
    };
    JsonDiagnostic {
        code: diag.code,
        name: diag.name,
        severity: diag.severity,
        message: &diag.message,
        path: file.path,
        line: start.map(|at| at.line),
        column: start.map(|at| at.column),
        end_line: end.map(|at| at.line),
        end_column: end.map(|at| at.column),
        table,
        row,
        table_column,
        service: diag.service.as_deref(),
        // `null` for a finding about no registry write (SVC900's unused directive).
        registry_key: (!diag.registry_key.is_empty()).then_some(diag.registry_key.as_str()),
        value_name: diag.value_name.as_deref(),
        fix: diag
            .fix
            .as_ref()
            .map(|fix| json_fix(source, positions, fix)),
    }
}

fn json_fix<'a>(source: &SourceFile, positions: &mut Positions<'_>, fix: &'a Fix) -> JsonFix<'a> {
    JsonFix {
        applicability: fix.applicability,
        message: &fix.title,
        edits: fix
            .edits
            .iter()
            .map(|edit| JsonEdit {
                start: positions.raw(edit.range.start),
                end: positions.raw(edit.range.end),
                content: to_display(source.encoding, &edit.content),
            })
            .collect(),
    }
}

/// Line:column and file byte offsets for one file (through the file's line index), and
/// UTF-16 byte offsets are computed incrementally from the previous one (so a file's findings,
/// usually in order, cost one pass rather than one pass each).
pub(crate) struct Positions<'s> {
    source: &'s SourceFile,
    /// UTF-16 only: the last (working-text offset, file offset) pair computed.
    last: (usize, usize),
}

impl<'s> Positions<'s> {
    pub(crate) fn new(source: &'s SourceFile) -> Self {
        Self {
            source,
            last: (0, source.encoding.bom().len()),
        }
    }

    pub(crate) fn encoding(&self) -> Encoding {
        self.source.encoding
    }

    pub(crate) fn source(&self) -> &'s SourceFile {
        self.source
    }

    /// The 1-based line:column of a working-text offset.
    pub(crate) fn line_col(&mut self, offset: usize) -> LineCol {
        self.source
            .line_index()
            .line_col(self.source.text(), offset)
    }

    /// The line:column of a range's start and (exclusive) end.
    pub(crate) fn range(&mut self, start: usize, end: usize) -> (LineCol, LineCol) {
        (self.line_col(start), self.line_col(end))
    }

    /// The offset in the file's bytes of a working-text offset (as [`raw_offset`]).
    pub(crate) fn raw(&mut self, offset: usize) -> usize {
        if self.source.encoding != Encoding::Utf16Le {
            return raw_offset(self.source, offset);
        }
        let text = self.source.text();
        let (from, from_raw) = self.last;
        let on_boundary = |at: usize| at >= text.len() || (text[at] as i8) >= -0x40;
        if offset < from || offset > text.len() || !on_boundary(offset) || !on_boundary(from) {
            return raw_offset(self.source, offset);
        }
        let units: usize = String::from_utf8_lossy(&text[from..offset])
            .chars()
            .map(char::len_utf16)
            .sum();
        let raw = from_raw + units * 2;
        self.last = (offset, raw);
        raw
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn incremental_raw_offsets_match_raw_offset() {
        let mut raw = crate::source::UTF16LE_BOM.to_vec();
        raw.extend(
            "aé\u{1F600}b\r\nx"
                .encode_utf16()
                .flat_map(u16::to_le_bytes),
        );
        let source = SourceFile::new("a.reg", raw).unwrap();
        let len = source.text().len();
        let mut positions = Positions::new(&source);
        let offsets = [0, 1, 3, 7, 8, 10, len, 3, 0, len, 2, 5];
        for offset in offsets {
            assert_eq!(
                positions.raw(offset),
                raw_offset(&source, offset),
                "{offset}"
            );
        }
    }
}
