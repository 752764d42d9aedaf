//! A Windows Installer database in and out, through the `msi` crate: its tables decoded into the
//! view text (see the module docs of [`super`]), and a view whose rows were deleted or updated
//! encoded back into the database, every other table, stream and the summary information left
//! as they were.
//!
//! The `msi` crate panics on some malformed databases (it unwraps values of its system tables);
//! every call into it runs under [`guarded`], which turns a panic into an error for the file.

use std::collections::BTreeMap;
use std::io::Cursor;

use msi::{Delete, Expr, Package, PackageType, Select, Update, Value};

use super::{ColumnKind, View, escape_cell};

/// The tables the view holds, in this order, when the database has them.
pub const VIEW_TABLES: &[&str] = &[
    "Registry",
    "RemoveRegistry",
    "ServiceInstall",
    "ServiceControl",
    "Component",
    "InstallExecuteSequence",
    "Property",
];

/// What the source stage keeps of a database beside its view text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Database {
    /// The file's bytes as read.
    pub original: Vec<u8>,
    /// The view text of `original`: a text equal to it encodes to `original` itself.
    pub view: Vec<u8>,
    /// The package carries a digital signature (`\x05DigitalSignature`), which any change
    /// invalidates.
    pub signed: bool,
}

/// Why bytes are not a database svcscrub reads (one line, for the file's error).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DatabaseError(pub String);

/// Runs `work` on the `msi` crate, turning a panic inside it into an error.
fn guarded<T>(what: &str, work: impl FnOnce() -> std::io::Result<T>) -> Result<T, DatabaseError> {
    let outcome = crate::quiet_panics::catch(work);
    match outcome {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(DatabaseError(format!(
            "{what}: {}",
            one_line(&e.to_string())
        ))),
        Err(()) => Err(DatabaseError(format!(
            "{what}: the database is malformed (its system tables do not read)"
        ))),
    }
}

fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Decodes a compound file into a [`Database`] and its view text.
pub fn decode(raw: Vec<u8>) -> Result<Database, DatabaseError> {
    let (view, signed) = guarded("not a readable Windows Installer database", || {
        let mut package = Package::open(Cursor::new(&raw[..]))?;
        match package.package_type() {
            PackageType::Installer => {}
            PackageType::Transform => {
                return Err(std::io::Error::other(
                    "a transform (.mst) holds changes to another database, not tables of its own; apply it to its database first",
                ));
            }
            PackageType::Patch => {
                return Err(std::io::Error::other(
                    "a patch package (.msp) is not an installer database",
                ));
            }
        }
        let signed = package.has_digital_signature();
        Ok((view_of(&mut package)?, signed))
    })?;
    Ok(Database {
        original: raw,
        view,
        signed,
    })
}

/// The view text of an open package: the [`VIEW_TABLES`] it has, as tab-separated exports.
fn view_of<F: std::io::Read + std::io::Seek>(package: &mut Package<F>) -> std::io::Result<Vec<u8>> {
    let mut view = Vec::new();
    for &name in VIEW_TABLES {
        let Some(table) = package.get_table(name) else {
            continue;
        };
        let columns: Vec<msi::Column> = table.columns().to_vec();
        if columns.len() < 2 {
            return Err(std::io::Error::other(format!(
                "table {name} has {} column(s), expected at least 2",
                columns.len()
            )));
        }
        if !view.is_empty() {
            view.extend_from_slice(b"\r\n");
        }
        let names: Vec<&str> = columns.iter().map(|c| c.name()).collect();
        view.extend_from_slice(names.join("\t").as_bytes());
        view.extend_from_slice(b"\r\n");
        let types: Vec<String> = columns.iter().map(type_code).collect();
        view.extend_from_slice(types.join("\t").as_bytes());
        view.extend_from_slice(b"\r\n");
        view.extend_from_slice(name.as_bytes());
        for column in columns.iter().filter(|c| c.is_primary_key()) {
            view.push(b'\t');
            view.extend_from_slice(column.name().as_bytes());
        }
        view.extend_from_slice(b"\r\n");
        let rows = package.select_rows(Select::table(name))?;
        for row in rows {
            for i in 0..columns.len() {
                if i > 0 {
                    view.push(b'\t');
                }
                match &row[i] {
                    Value::Null | Value::Binary => {}
                    Value::Int(n) => view.extend_from_slice(n.to_string().as_bytes()),
                    Value::Str(s) => view.extend_from_slice(&escape_cell(s.as_bytes())),
                }
            }
            view.extend_from_slice(b"\r\n");
        }
    }
    Ok(view)
}

/// A column's type as `.idt` exports write it: `s72` (string of at most 72 characters), `S`
/// when nullable, `l`/`L` when localizable; `i2`/`i4` integers (`I` nullable); `v0` streams.
fn type_code(column: &msi::Column) -> String {
    let (letter, size) = match column.coltype() {
        msi::ColumnType::Int16 => ('i', 2),
        msi::ColumnType::Int32 => ('i', 4),
        msi::ColumnType::Str(len) => (if column.is_localizable() { 'l' } else { 's' }, len),
        msi::ColumnType::Binary => ('v', 0),
    };
    let letter = if column.is_nullable() {
        letter.to_ascii_uppercase()
    } else {
        letter
    };
    format!("{letter}{size}")
}

/// What a view changes in its database: per table, the rows (by primary key) to delete and
/// the cells to set.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RowChanges {
    pub tables: BTreeMap<String, TableChanges>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TableChanges {
    /// Primary keys (as values) of the rows removed.
    pub deleted: Vec<Vec<Value>>,
    /// Primary key, column name and new value of every changed cell.
    pub updated: Vec<(Vec<Value>, String, Value)>,
}

impl RowChanges {
    pub fn is_empty(&self) -> bool {
        self.tables
            .values()
            .all(|t| t.deleted.is_empty() && t.updated.is_empty())
    }
}

/// The row changes that turn the view `before` into `after`; an error when `after` is not
/// `before` with rows removed or cells changed (a table, column or row added, a header or a
/// key changed, a value that does not fit its column).
pub fn row_changes(before: &[u8], after: &[u8]) -> Result<RowChanges, DatabaseError> {
    let parse = |text: &[u8]| super::parse(text).map_err(|e| DatabaseError(e.message));
    let (old, new) = (parse(before)?, parse(after)?);
    let mut changes = RowChanges::default();
    let new_names: Vec<&[u8]> = new.tables.iter().map(|t| t.name.slice(after)).collect();
    let old_names: Vec<&[u8]> = old.tables.iter().map(|t| t.name.slice(before)).collect();
    if new_names != old_names {
        return Err(DatabaseError("the tables of the view changed".into()));
    }
    for (old_table, new_table) in old.tables.iter().zip(&new.tables) {
        let name = String::from_utf8_lossy(old_table.name.slice(before)).into_owned();
        if old_table.header.slice(before) != new_table.header.slice(after) {
            return Err(DatabaseError(format!(
                "the columns of table {name} changed"
            )));
        }
        let keyed = |view: &View, table: &super::Table, text: &[u8]| {
            let mut rows: BTreeMap<Vec<Value>, Vec<Value>> = BTreeMap::new();
            for row in &table.rows {
                let values = view
                    .values(text, table, row)
                    .map_err(|e| DatabaseError(format!("table {name}: {}", e.message)))?;
                let key: Vec<Value> = table
                    .key_columns
                    .iter()
                    .map(|&k| values[k].clone())
                    .collect();
                if rows.insert(key, values).is_some() {
                    return Err(DatabaseError(format!(
                        "table {name}: two rows with one primary key"
                    )));
                }
            }
            Ok(rows)
        };
        let old_rows = keyed(&old, old_table, before)?;
        let new_rows = keyed(&new, new_table, after)?;
        let mut table_changes = TableChanges::default();
        for (key, values) in &old_rows {
            match new_rows.get(key) {
                None => table_changes.deleted.push(key.clone()),
                Some(now) => {
                    for (c, (was, is)) in values.iter().zip(now).enumerate() {
                        if was != is {
                            let column = &old_table.columns[c];
                            table_changes.updated.push((
                                key.clone(),
                                column.name.clone(),
                                is.clone(),
                            ));
                        }
                    }
                }
            }
        }
        if new_rows.keys().any(|key| !old_rows.contains_key(key)) {
            return Err(DatabaseError(format!(
                "table {name}: a row was added or its primary key changed"
            )));
        }
        if !table_changes.deleted.is_empty() || !table_changes.updated.is_empty() {
            changes.tables.insert(name, table_changes);
        }
    }
    Ok(changes)
}

/// The condition that selects one row by its primary key.
fn key_condition(table: &msi::Table, key: &[Value]) -> Option<Expr> {
    let mut condition: Option<Expr> = None;
    let key_columns: Vec<&msi::Column> = table
        .columns()
        .iter()
        .filter(|c| c.is_primary_key())
        .collect();
    for (column, value) in key_columns.iter().zip(key) {
        let operand = match value {
            Value::Int(n) => Expr::integer(*n),
            Value::Str(s) => Expr::string(s.clone()),
            Value::Null | Value::Binary => Expr::null(),
        };
        let test = Expr::col(column.name()).eq(operand);
        condition = Some(match condition {
            Some(c) => c.and(test),
            None => test,
        });
    }
    condition
}

/// The database `original` with the view `view`'s changes (rows deleted, cells updated): the
/// original bytes themselves when the view is the original's. The result is read back and
/// checked: every table equals the original's but for exactly those changes.
pub fn encode(database: &Database, view: &[u8]) -> Result<Vec<u8>, DatabaseError> {
    if view == database.view.as_slice() {
        return Ok(database.original.clone());
    }
    let changes = row_changes(&database.view, view)?;
    if changes.is_empty() {
        return Ok(database.original.clone());
    }
    let header = pool_header(&database.original)?;
    check_strings_decode(&database.original, header)?;
    let counted = counted_references(&database.original)?;
    let written = guarded("could not write the database", || {
        let mut package = Package::open(Cursor::new(counted))?;
        for (name, table_changes) in &changes.tables {
            let Some(table) = package.get_table(name).cloned() else {
                return Err(std::io::Error::other(format!("no table {name}")));
            };
            if table_changes.deleted.len() + table_changes.updated.len() > FEW_CHANGES {
                rewrite_table(&mut package, &table, table_changes)?;
                continue;
            }
            for key in &table_changes.deleted {
                let condition = key_condition(&table, key)
                    .ok_or_else(|| std::io::Error::other("a table without a primary key"))?;
                package.delete_rows(Delete::from(name.as_str()).with(condition))?;
            }
            for (key, column, value) in &table_changes.updated {
                let condition = key_condition(&table, key)
                    .ok_or_else(|| std::io::Error::other("a table without a primary key"))?;
                package.update_rows(
                    Update::table(name.as_str())
                        .set(column.as_str(), value.clone())
                        .with(condition),
                )?;
            }
        }
        package.flush()?;
        Ok(package.into_inner()?.into_inner())
    })?;
    let written = keep_codepage(written, header)?;
    verify(&database.original, &written, &changes)?;
    // And the written database reads back as the view asked for (rows in any order): a string
    // the view cannot show exactly (one holding the bytes that stand for tab, CR and LF) would
    // otherwise make a change that selects no row look done.
    let reread = decode(written)?;
    if !same_rows(&reread.view, view) {
        return Err(DatabaseError(
            "the written database does not read back as the fixed view (a string in it cannot be shown exactly); nothing is written".into(),
        ));
    }
    Ok(reread.original)
}

/// Up to this many row changes in a table are made one query each; more rewrite the table
/// once. The `msi` crate reads and writes a whole table for every query, so a query per change
/// costs the table's size each time (20 000 deleted rows of a 20 000-row table: minutes); a
/// rewrite takes every kept row through the crate's validation again, which a few changes
/// need not.
const FEW_CHANGES: usize = 32;

/// Rewrites `table` with `changes` applied: its rows read once, the deleted ones left out and
/// the changed cells set, then the table emptied and the rows inserted again.
fn rewrite_table<F: std::io::Read + std::io::Write + std::io::Seek>(
    package: &mut Package<F>,
    table: &msi::Table,
    changes: &TableChanges,
) -> std::io::Result<()> {
    let name = table.name().to_string();
    let key_columns = table.primary_key_indices();
    let deleted: std::collections::BTreeSet<&Vec<Value>> = changes.deleted.iter().collect();
    let mut updated: BTreeMap<&Vec<Value>, Vec<(usize, &Value)>> = BTreeMap::new();
    for (key, column, value) in &changes.updated {
        let Some(c) = table.columns().iter().position(|c| c.name() == column) else {
            return Err(std::io::Error::other(format!("no column {column}")));
        };
        updated.entry(key).or_default().push((c, value));
    }
    let mut rows: Vec<Vec<Value>> = Vec::new();
    for row in package.select_rows(Select::table(name.as_str()))? {
        let mut values: Vec<Value> = (0..row.len()).map(|i| row[i].clone()).collect();
        let key: Vec<Value> = key_columns.iter().map(|&k| values[k].clone()).collect();
        if deleted.contains(&key) {
            continue;
        }
        for &(c, value) in updated.get(&key).map_or(&[][..], Vec::as_slice) {
            values[c] = value.clone();
        }
        rows.push(values);
    }
    package.delete_rows(Delete::from(name.as_str()))?;
    if !rows.is_empty() {
        package.insert_rows(msi::Insert::into(name.as_str()).rows(rows))?;
    }
    Ok(())
}

/// A table's header lines and its rows' lines, sorted.
type SortedTable<'t> = (&'t [u8], Vec<&'t [u8]>);

/// Two views with the same tables, headers and rows, in any row order.
fn same_rows(a: &[u8], b: &[u8]) -> bool {
    fn rows(text: &[u8]) -> Option<Vec<SortedTable<'_>>> {
        let view = super::parse(text).ok()?;
        Some(
            view.tables
                .iter()
                .map(|t| {
                    let mut rows: Vec<&[u8]> = t.rows.iter().map(|r| r.line.slice(text)).collect();
                    rows.sort_unstable();
                    (t.header.slice(text), rows)
                })
                .collect(),
        )
    }
    matches!((rows(a), rows(b)), (Some(x), Some(y)) if x == y)
}

/// A copy of a database whose string pool counts every reference its tables make.
///
/// The `msi` crate frees a string when a deleted or updated row drops its reference count to
/// zero, so a count lower than the string's real number of references would blank the string
/// in every other row that uses it. Real databases have such counts (wixl writes 1 for strings
/// used many times, and Windows Installer does not mind), so before any change each count is
/// raised to the number of references the table streams hold. A count that is already higher
/// is kept (the string is then never freed: harmless).
fn counted_references(raw: &[u8]) -> Result<Vec<u8>, DatabaseError> {
    guarded("could not read the database's string pool", || {
        let tables: Vec<(String, Vec<msi::ColumnType>)> = {
            let package = Package::open(Cursor::new(raw))?;
            package
                .tables()
                .map(|t| {
                    (
                        t.name().to_string(),
                        t.columns().iter().map(|c| c.coltype()).collect(),
                    )
                })
                .collect()
        };
        let mut compound = cfb::CompoundFile::open(Cursor::new(raw.to_vec()))?;
        let pool_name = format!("/{}", stream_name("_StringPool", true));
        let mut pool = Vec::new();
        std::io::Read::read_to_end(&mut compound.open_stream(&pool_name)?, &mut pool)?;
        let bad_pool = || std::io::Error::other("malformed string pool");
        let header = u32::from_le_bytes(
            pool.get(..4)
                .ok_or_else(bad_pool)?
                .try_into()
                .map_err(|_| bad_pool())?,
        );
        let long_refs = header & 0x8000_0000 != 0;
        // Where each string's count is in the pool, and the count (string N is entry N - 1).
        let mut entries: Vec<(usize, u16)> = Vec::new();
        let mut at = 4;
        while at + 4 <= pool.len() {
            let length = u16::from_le_bytes([pool[at], pool[at + 1]]);
            let count = u16::from_le_bytes([pool[at + 2], pool[at + 3]]);
            entries.push((at + 2, count));
            at += 4;
            if length == 0 && count > 0 {
                at += 4;
            }
        }
        let mut references = vec![0u32; entries.len() + 1];
        let ref_width = if long_refs { 3 } else { 2 };
        for (name, columns) in &tables {
            let path = format!("/{}", stream_name(name, true));
            if !compound.is_stream(&path) {
                continue;
            }
            let mut data = Vec::new();
            std::io::Read::read_to_end(&mut compound.open_stream(&path)?, &mut data)?;
            let widths: Vec<usize> = columns
                .iter()
                .map(|c| match c {
                    msi::ColumnType::Int16 | msi::ColumnType::Binary => 2,
                    msi::ColumnType::Int32 => 4,
                    msi::ColumnType::Str(_) => ref_width,
                })
                .collect();
            let row_size: usize = widths.iter().sum();
            let rows = data.len().checked_div(row_size).unwrap_or(0);
            // Columns are stored one after the other, each with every row's value.
            let mut column_start = 0;
            for (column, width) in columns.iter().zip(&widths) {
                if matches!(column, msi::ColumnType::Str(_)) {
                    for row in 0..rows {
                        let at = column_start + row * width;
                        let mut index = usize::from(u16::from_le_bytes([data[at], data[at + 1]]));
                        if long_refs {
                            index |= usize::from(data[at + 2]) << 16;
                        }
                        if let Some(count) = references.get_mut(index).filter(|_| index > 0) {
                            *count += 1;
                        }
                    }
                }
                column_start += rows * width;
            }
        }
        let mut raised = false;
        for (entry, &(offset, count)) in entries.iter().enumerate() {
            let needed = u16::try_from(references[entry + 1]).unwrap_or(u16::MAX);
            if needed > count {
                if count == 0 {
                    // A free entry that rows refer to: its length field means something else.
                    return Err(std::io::Error::other(
                        "the string pool has a free entry that rows refer to",
                    ));
                }
                pool[offset..offset + 2].copy_from_slice(&needed.to_le_bytes());
                raised = true;
            }
        }
        if !raised {
            return Ok(raw.to_vec());
        }
        std::io::Write::write_all(&mut compound.create_stream(&pool_name)?, &pool)?;
        compound.flush()?;
        Ok(compound.into_inner().into_inner())
    })
}

/// The bit of the string pool's header that says string references take three bytes; the
/// bits below it are the database's code page.
const LONG_STRING_REFS: u32 = 0x8000_0000;

/// The first four bytes of a database's `_StringPool` stream: its code page and reference
/// width.
fn pool_header(raw: &[u8]) -> Result<u32, DatabaseError> {
    guarded("could not read the database's string pool", || {
        let mut compound = cfb::CompoundFile::open(Cursor::new(raw))?;
        let mut header = [0u8; 4];
        let pool_name = format!("/{}", stream_name("_StringPool", true));
        std::io::Read::read_exact(&mut compound.open_stream(&pool_name)?, &mut header)?;
        Ok(u32::from_le_bytes(header))
    })
}

/// The `msi` crate reads a database of the neutral code page (0) as UTF-8 and writes its
/// strings back so: a string in another encoding would come back changed (every other row's
/// text with it), and the crate's own reading would not see it. Such a database is refused
/// before anything is written.
fn check_strings_decode(raw: &[u8], header: u32) -> Result<(), DatabaseError> {
    if !matches!(header & !LONG_STRING_REFS, 0 | 65001) {
        return Ok(());
    }
    let valid = guarded("could not read the database's string pool", || {
        let mut compound = cfb::CompoundFile::open(Cursor::new(raw))?;
        let data_name = format!("/{}", stream_name("_StringData", true));
        let mut data = Vec::new();
        std::io::Read::read_to_end(&mut compound.open_stream(&data_name)?, &mut data)?;
        Ok(std::str::from_utf8(&data).is_ok())
    })?;
    if valid {
        Ok(())
    } else {
        Err(DatabaseError(
            "its strings are not UTF-8 although its code page is neutral or UTF-8: a rewrite could change them; nothing is written".into(),
        ))
    }
}

/// `written` with the code page of the original's string pool header `header`: the `msi`
/// crate writes UTF-8 (65001) for a database of the neutral code page (0), which would change
/// how Windows Installer reads its text. The reference width stays as written.
fn keep_codepage(written: Vec<u8>, header: u32) -> Result<Vec<u8>, DatabaseError> {
    let now = pool_header(&written)?;
    let wanted = (header & !LONG_STRING_REFS) | (now & LONG_STRING_REFS);
    if now == wanted {
        return Ok(written);
    }
    guarded("could not write the database", || {
        let mut compound = cfb::CompoundFile::open(Cursor::new(written))?;
        let pool_name = format!("/{}", stream_name("_StringPool", true));
        {
            let mut pool = compound.open_stream(&pool_name)?;
            std::io::Write::write_all(&mut pool, &wanted.to_le_bytes())?;
            std::io::Write::flush(&mut pool)?;
        }
        compound.flush()?;
        Ok(compound.into_inner().into_inner())
    })
}

/// The name of a table's (or another) stream in the compound file, as Windows Installer encodes
/// it: two characters of `[0-9A-Za-z._]` in one code point from U+3800, one alone from U+4800,
/// and a table's name after U+4840.
fn stream_name(name: &str, is_table: bool) -> String {
    let b64 = |c: char| -> Option<u32> {
        match c {
            '0'..='9' => Some(c as u32 - '0' as u32),
            'A'..='Z' => Some(c as u32 - 'A' as u32 + 10),
            'a'..='z' => Some(c as u32 - 'a' as u32 + 36),
            '.' => Some(62),
            '_' => Some(63),
            _ => None,
        }
    };
    let mut out = String::new();
    if is_table {
        out.push('\u{4840}');
    }
    let mut chars = name.chars().peekable();
    while let Some(c) = chars.next() {
        match (b64(c), chars.peek().copied().and_then(b64)) {
            (Some(first), Some(second)) => {
                chars.next();
                out.extend(char::from_u32(0x3800 + (second << 6) + first));
            }
            (Some(first), None) => out.extend(char::from_u32(0x4800 + first)),
            (None, _) => out.push(c),
        }
    }
    out
}

/// Every table of a database, its rows sorted (a rewritten table's rows are stored in another
/// order), and the raw property-set streams (`\x05SummaryInformation`, a digital signature).
/// The other streams (cabinets, `Binary` and `Icon` entries) are compared by [`same_streams`].
type Contents = (BTreeMap<String, Vec<Vec<Value>>>, Vec<(String, Vec<u8>)>);

fn contents(raw: &[u8]) -> Result<Contents, DatabaseError> {
    guarded("could not read the written database back", || {
        let mut package = Package::open(Cursor::new(raw))?;
        let names: Vec<String> = package.tables().map(|t| t.name().to_string()).collect();
        let mut tables = BTreeMap::new();
        for name in names {
            let mut rows: Vec<Vec<Value>> = package
                .select_rows(Select::table(name.as_str()))?
                .map(|row| (0..row.len()).map(|i| row[i].clone()).collect())
                .collect();
            rows.sort();
            tables.insert(name, rows);
        }
        drop(package);
        let compound = cfb::CompoundFile::open(Cursor::new(raw))?;
        let names: Vec<String> = compound
            .walk()
            .filter(|e| e.is_stream() && e.name().starts_with('\u{5}'))
            .map(|e| e.path().to_string_lossy().into_owned())
            .collect();
        let mut compound = compound;
        let mut property_sets = Vec::new();
        for name in names {
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut compound.open_stream(&name)?, &mut bytes)?;
            property_sets.push((name, bytes));
        }
        property_sets.sort();
        Ok((tables, property_sets))
    })
}

/// Whether two databases have the same other streams (names and bytes), read a piece at a
/// time: a cabinet is most of a database, and is never held whole twice.
fn same_streams(original: &[u8], written: &[u8]) -> Result<bool, DatabaseError> {
    guarded("could not read the written database back", || {
        let mut a = Package::open(Cursor::new(original))?;
        let mut b = Package::open(Cursor::new(written))?;
        let mut names: Vec<String> = a.streams().collect();
        let mut others: Vec<String> = b.streams().collect();
        names.sort();
        others.sort();
        if names != others {
            return Ok(false);
        }
        const PIECE: usize = 64 * 1024;
        let (mut x, mut y) = (vec![0u8; PIECE], vec![0u8; PIECE]);
        for name in &names {
            let (mut ra, mut rb) = (a.read_stream(name)?, b.read_stream(name)?);
            loop {
                let n = read_full(&mut ra, &mut x)?;
                let m = read_full(&mut rb, &mut y)?;
                if n != m || x[..n] != y[..m] {
                    return Ok(false);
                }
                if n < PIECE {
                    break;
                }
            }
        }
        Ok(true)
    })
}

/// Reads until `buf` is full or the stream ends; returns how much was read.
fn read_full(reader: &mut impl std::io::Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

/// Checks that `written` is `original` with exactly `changes` applied.
fn verify(original: &[u8], written: &[u8], changes: &RowChanges) -> Result<(), DatabaseError> {
    let (mut expected, property_sets) = contents(original)?;
    let got = contents(written)?;
    for (name, table_changes) in &changes.tables {
        let Some(rows) = expected.get_mut(name) else {
            return Err(DatabaseError(format!("no table {name}")));
        };
        let key_columns = key_columns_of(original, name)?;
        let key_of = |row: &Vec<Value>| -> Vec<Value> {
            key_columns.iter().map(|&k| row[k].clone()).collect()
        };
        rows.retain(|row| !table_changes.deleted.contains(&key_of(row)));
        let columns = column_names_of(original, name)?;
        for (key, column, value) in &table_changes.updated {
            let c = columns
                .iter()
                .position(|n| n == column)
                .ok_or_else(|| DatabaseError(format!("no column {column}")))?;
            for row in rows.iter_mut().filter(|row| key_of(row) == *key) {
                row[c] = value.clone();
            }
        }
        rows.sort();
    }
    let mismatch = |what: &str| {
        DatabaseError(format!(
            "internal error: the written database differs from the original in {what}; nothing is written (please report this)"
        ))
    };
    if got.0 != expected {
        let table = expected
            .iter()
            .find(|(name, rows)| got.0.get(*name) != Some(rows))
            .map_or_else(
                || "its table list".to_string(),
                |(name, _)| format!("table {name}"),
            );
        return Err(mismatch(&table));
    }
    if !same_streams(original, written)? {
        return Err(mismatch("its streams"));
    }
    if got.1 != property_sets {
        return Err(mismatch("its summary information or signature"));
    }
    if pool_header(original)? & !LONG_STRING_REFS != pool_header(written)? & !LONG_STRING_REFS {
        return Err(mismatch("its code page"));
    }
    Ok(())
}

fn key_columns_of(raw: &[u8], table: &str) -> Result<Vec<usize>, DatabaseError> {
    guarded("could not read the database", || {
        let package = Package::open(Cursor::new(raw))?;
        let table = package
            .get_table(table)
            .ok_or_else(|| std::io::Error::other("no such table"))?;
        Ok(table.primary_key_indices())
    })
}

fn column_names_of(raw: &[u8], table: &str) -> Result<Vec<String>, DatabaseError> {
    guarded("could not read the database", || {
        let package = Package::open(Cursor::new(raw))?;
        let table = package
            .get_table(table)
            .ok_or_else(|| std::io::Error::other("no such table"))?;
        Ok(table
            .columns()
            .iter()
            .map(|c| c.name().to_string())
            .collect())
    })
}

impl ColumnKind {
    /// The kind of an `.idt` type code (`s72`, `I2`, …).
    pub fn of_type_code(code: &[u8]) -> Option<(ColumnKind, bool)> {
        let (&letter, size) = code.split_first()?;
        if size.is_empty() || !size.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let kind = match letter.to_ascii_lowercase() {
            b'i' => ColumnKind::Integer,
            b's' | b'l' => ColumnKind::String,
            b'v' => ColumnKind::Stream,
            _ => return None,
        };
        Some((kind, letter.is_ascii_uppercase()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database with one `Binary.x` stream holding `bytes`.
    fn with_stream(bytes: &[u8]) -> Vec<u8> {
        let mut package = Package::create(PackageType::Installer, Cursor::new(Vec::new())).unwrap();
        std::io::Write::write_all(&mut package.write_stream("Binary.x").unwrap(), bytes).unwrap();
        package.into_inner().unwrap().into_inner()
    }

    #[test]
    fn streams_are_compared_byte_for_byte_across_pieces() {
        let long: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let mut late = long.clone();
        *late.last_mut().unwrap() ^= 1;
        let a = with_stream(&long);
        assert!(same_streams(&a, &with_stream(&long)).unwrap());
        assert!(!same_streams(&a, &with_stream(&late)).unwrap());
        assert!(!same_streams(&a, &with_stream(&long[..150_000])).unwrap());
        let mut none = Package::create(PackageType::Installer, Cursor::new(Vec::new())).unwrap();
        none.flush().unwrap();
        assert!(!same_streams(&a, &none.into_inner().unwrap().into_inner()).unwrap());
    }
}
