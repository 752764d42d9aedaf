//! Windows Installer databases (`.msi`, `.msm`): the tables svcscrub reads, as a text.
//!
//! A database is a compound file of tables and streams, with no text and no lines. Its
//! *working text* ([`crate::source::Encoding::Database`]) is the view of the tables the rules
//! need ([`database::VIEW_TABLES`]: `Registry`, `RemoveRegistry`, `ServiceInstall`,
//! `ServiceControl`, `Component`, `InstallExecuteSequence`, `Property`, those the database has),
//! each in the tab-separated form of an `.idt` export (`msidb -e`, `msiinfo export`): a line of
//! column names, a line of column types, a line with the table's name and its primary key
//! columns, then one line per row; CRLF line ends; tables separated by an empty line. In a
//! cell, a tab, CR and LF are written as the bytes 0x15, 0x11 and 0x19, as `.idt` files do.
//!
//! So a position in a database is a row and a column of a table ([`View::locate`]), every
//! stage after this one works on it as on any text, and the diff of a fix is the diff of the
//! view, one hunk per table (a reading aid: the fix is written into the database, not as text).
//! Encoding a view back ([`database::encode`]) deletes the rows the view no longer has and sets
//! the cells it changed; every other table, stream and the summary information stay as they
//! were, and the written database is read back and checked.

pub mod database;

use std::borrow::Cow;

use super::SyntaxError;
use crate::text::TextRange;

/// The parsed view of a database.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct View {
    pub tables: Vec<Table>,
    /// Length of the parsed text.
    pub len: usize,
}

/// One table of the view.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Table {
    /// The table's name (in its third header line).
    pub name: TextRange,
    /// The three header lines, with their line ends.
    pub header: TextRange,
    pub columns: Vec<Column>,
    /// Indices of the primary key columns, in key order.
    pub key_columns: Vec<usize>,
    pub rows: Vec<Row>,
    /// The header and the rows (not the empty line after them).
    pub range: TextRange,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    pub kind: ColumnKind,
    pub nullable: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColumnKind {
    Integer,
    String,
    /// A binary stream (`v0`); the view's tables have none.
    Stream,
}

/// One row: its line and its cells.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// The whole line with its CRLF.
    pub line: TextRange,
    /// Each cell's bytes (escaped), one per column.
    pub cells: Vec<TextRange>,
}

/// Where a position of the view is in the database.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RowLocation {
    pub table: usize,
    pub row: usize,
    pub column: usize,
}

/// A position in a database as people and tools name it: `Registry/reg1A2B/Value` (the table,
/// the row's primary key, the column).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowName {
    pub table: String,
    /// The row's primary key, its cells joined with `/` when it has several.
    pub row: String,
    pub column: String,
}

impl std::fmt::Display for RowName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}/{}", self.table, self.row, self.column)
    }
}

/// Parses a view text (see the module docs).
pub fn parse(text: &[u8]) -> Result<View, SyntaxError> {
    let mut tables = Vec::new();
    let mut at = 0;
    while at < text.len() {
        if !tables.is_empty() {
            // A table ends at the end of the text or at an empty line, which a table follows.
            at += 2;
            if at >= text.len() {
                return Err(SyntaxError::new(
                    at - 2,
                    "an empty line at the end of the view",
                ));
            }
        }
        let table = parse_table(text, &mut at)?;
        tables.push(table);
    }
    Ok(View {
        tables,
        len: text.len(),
    })
}

/// The line starting at `at`: its content and its end after the CRLF.
fn line_at(text: &[u8], at: usize) -> Result<(TextRange, usize), SyntaxError> {
    match memchr::memmem::find(&text[at..], b"\r\n") {
        Some(len) => Ok((TextRange::new(at, at + len), at + len + 2)),
        None => Err(SyntaxError::new(at, "a line without its CRLF")),
    }
}

/// The tab-separated cells of a line.
fn cells(text: &[u8], line: TextRange) -> Vec<TextRange> {
    let mut out = Vec::new();
    let mut start = line.start;
    for tab in memchr::memchr_iter(b'\t', &text[line.as_range()]) {
        out.push(TextRange::new(start, line.start + tab));
        start = line.start + tab + 1;
    }
    out.push(TextRange::new(start, line.end));
    out
}

fn parse_table(text: &[u8], at: &mut usize) -> Result<Table, SyntaxError> {
    let start = *at;
    let (names_line, next) = line_at(text, start)?;
    let (types_line, next) = line_at(text, next)?;
    let (key_line, mut next) = line_at(text, next)?;
    let names = cells(text, names_line);
    let types = cells(text, types_line);
    if names.len() < 2 || types.len() != names.len() {
        return Err(SyntaxError::new(
            types_line.start,
            "a table needs at least two columns, each with a type",
        ));
    }
    let mut columns = Vec::with_capacity(names.len());
    for (name, code) in names.iter().zip(&types) {
        let (kind, nullable) = ColumnKind::of_type_code(code.slice(text))
            .ok_or_else(|| SyntaxError::new(code.start, "unknown column type"))?;
        columns.push(Column {
            name: String::from_utf8_lossy(name.slice(text)).into_owned(),
            kind,
            nullable,
        });
    }
    let key_cells = cells(text, key_line);
    let (name, keys) = key_cells
        .split_first()
        .ok_or_else(|| SyntaxError::new(key_line.start, "expected the table's name"))?;
    let mut key_columns = Vec::with_capacity(keys.len());
    for key in keys {
        let index = columns
            .iter()
            .position(|c| c.name.as_bytes() == key.slice(text))
            .ok_or_else(|| SyntaxError::new(key.start, "a primary key that is not a column"))?;
        key_columns.push(index);
    }
    if key_columns.is_empty() || name.is_empty() {
        return Err(SyntaxError::new(
            key_line.start,
            "expected the table's name and its primary key columns",
        ));
    }
    let header = TextRange::new(start, next);
    let mut rows = Vec::new();
    while next < text.len() && !text[next..].starts_with(b"\r\n") {
        let (line, after) = line_at(text, next)?;
        let row_cells = cells(text, line);
        if row_cells.len() != columns.len() {
            return Err(SyntaxError::new(
                line.start,
                format!(
                    "a row of {} cells in a table of {} columns",
                    row_cells.len(),
                    columns.len()
                ),
            ));
        }
        rows.push(Row {
            line: TextRange::new(line.start, after),
            cells: row_cells,
        });
        next = after;
    }
    *at = next;
    Ok(Table {
        name: *name,
        header,
        columns,
        key_columns,
        rows,
        range: TextRange::new(start, next),
    })
}

/// A cell's text written for the view: tab, CR and LF as 0x15, 0x11 and 0x19.
pub fn escape_cell(value: &[u8]) -> Cow<'_, [u8]> {
    if !value.iter().any(|b| matches!(b, b'\t' | b'\r' | b'\n')) {
        return Cow::Borrowed(value);
    }
    Cow::Owned(
        value
            .iter()
            .map(|&b| match b {
                b'\t' => 0x15,
                b'\r' => 0x11,
                b'\n' => 0x19,
                b => b,
            })
            .collect(),
    )
}

/// A cell's value from its view text (the reverse of [`escape_cell`]).
pub fn unescape_cell(cell: &[u8]) -> Cow<'_, [u8]> {
    if !cell.iter().any(|b| matches!(b, 0x15 | 0x11 | 0x19)) {
        return Cow::Borrowed(cell);
    }
    Cow::Owned(
        cell.iter()
            .map(|&b| match b {
                0x15 => b'\t',
                0x11 => b'\r',
                0x19 => b'\n',
                b => b,
            })
            .collect(),
    )
}

impl Table {
    /// The index of the column named `name`.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }

    /// The text of a row's cell in column `name` (unescaped; empty for NULL).
    pub fn cell<'t>(&self, text: &'t [u8], row: &Row, name: &str) -> Option<Cow<'t, [u8]>> {
        let range = row.cells.get(self.column(name)?)?;
        Some(unescape_cell(text.get(range.as_range())?))
    }

    /// A row's integer cell in column `name`; `None` when NULL or not a number.
    pub fn integer(&self, text: &[u8], row: &Row, name: &str) -> Option<i32> {
        std::str::from_utf8(&self.cell(text, row, name)?)
            .ok()?
            .parse()
            .ok()
    }
}

impl View {
    /// The table named `name`.
    pub fn table(&self, text: &[u8], name: &str) -> Option<&Table> {
        self.tables
            .iter()
            .find(|t| text.get(t.name.as_range()) == Some(name.as_bytes()))
    }

    /// Every row's values, typed by its columns; an error for a cell that does not fit.
    pub fn values(
        &self,
        text: &[u8],
        table: &Table,
        row: &Row,
    ) -> Result<Vec<msi::Value>, SyntaxError> {
        let mut values = Vec::with_capacity(row.cells.len());
        for (column, range) in table.columns.iter().zip(&row.cells) {
            let cell = range.slice(text);
            let value = if cell.is_empty() {
                if !column.nullable {
                    return Err(SyntaxError::new(
                        range.start,
                        format!("column {} must not be empty", column.name),
                    ));
                }
                msi::Value::Null
            } else {
                match column.kind {
                    ColumnKind::Integer => std::str::from_utf8(cell)
                        .ok()
                        .and_then(|s| s.parse().ok())
                        .map(msi::Value::Int)
                        .ok_or_else(|| {
                            SyntaxError::new(
                                range.start,
                                format!("column {} holds integers", column.name),
                            )
                        })?,
                    ColumnKind::String => msi::Value::Str(
                        String::from_utf8(unescape_cell(cell).into_owned()).map_err(|_| {
                            SyntaxError::new(range.start, "a string that is not UTF-8")
                        })?,
                    ),
                    ColumnKind::Stream => msi::Value::Binary,
                }
            };
            values.push(value);
        }
        Ok(values)
    }

    /// The table, row and column at `offset` (a header line or the empty line between two
    /// tables has none).
    pub fn locate(&self, offset: usize) -> Option<RowLocation> {
        let table = self
            .tables
            .partition_point(|t| t.range.end <= offset)
            .min(self.tables.len().checked_sub(1)?);
        let t = &self.tables[table];
        let row = t.rows.partition_point(|r| r.line.end <= offset);
        let found = t.rows.get(row)?;
        if offset < found.line.start {
            return None;
        }
        let column = found
            .cells
            .partition_point(|c| c.end < offset)
            .min(found.cells.len() - 1);
        Some(RowLocation { table, row, column })
    }

    /// A row's primary key as people read it: the key cells joined with `/`.
    pub fn row_key(&self, text: &[u8], location: RowLocation) -> String {
        let Some(table) = self.tables.get(location.table) else {
            return String::new();
        };
        let Some(row) = table.rows.get(location.row) else {
            return String::new();
        };
        table
            .key_columns
            .iter()
            .filter_map(|&k| row.cells.get(k))
            .map(|c| String::from_utf8_lossy(&unescape_cell(c.slice(text))).into_owned())
            .collect::<Vec<_>>()
            .join("/")
    }

    /// The name of a location: table, primary key and column.
    pub fn row_name(&self, text: &[u8], location: RowLocation) -> RowName {
        RowName {
            table: String::from_utf8_lossy(self.table_name(text, location)).into_owned(),
            row: self.row_key(text, location),
            column: self.column_name(location).to_string(),
        }
    }

    /// The name of a location's table.
    pub fn table_name<'t>(&self, text: &'t [u8], location: RowLocation) -> &'t [u8] {
        self.tables
            .get(location.table)
            .and_then(|t| text.get(t.name.as_range()))
            .unwrap_or_default()
    }

    /// The name of a location's column.
    pub fn column_name(&self, location: RowLocation) -> &str {
        self.tables
            .get(location.table)
            .and_then(|t| t.columns.get(location.column))
            .map_or("", |c| c.name.as_str())
    }

    /// Whether the tree accounts for every byte: the tables and the empty lines between them
    /// tile the text, and each table's header and rows tile its range.
    pub fn is_lossless(&self, text: &[u8]) -> bool {
        if self.len != text.len() {
            return false;
        }
        let mut at = 0;
        for (i, table) in self.tables.iter().enumerate() {
            if i > 0 {
                if text.get(at..at + 2) != Some(b"\r\n") {
                    return false;
                }
                at += 2;
            }
            if table.range.start != at || table.header.start != at {
                return false;
            }
            let mut inner = table.header.end;
            for row in &table.rows {
                if row.line.start != inner {
                    return false;
                }
                inner = row.line.end;
            }
            if inner != table.range.end {
                return false;
            }
            at = table.range.end;
        }
        at == text.len()
    }
}

#[cfg(test)]
mod tests;
