use super::*;

const VIEW: &[u8] = b"Registry\tRoot\tKey\tName\tValue\tComponent_\r\n\
s72\ti2\tl255\tL255\tL0\ts72\r\n\
Registry\tRegistry\r\n\
regA\t2\tSYSTEM\\ControlSet001\\Services\\x\tStart\t#2\tC1\r\n\
regB\t-1\tSOFTWARE\\A\t\tline\x11\x19two\x15tab\tC1\r\n\
\r\n\
Component\tComponentId\tDirectory_\tAttributes\tCondition\tKeyPath\r\n\
s72\tS38\ts72\ti2\tS255\tS72\r\n\
Component\tComponent\r\n\
C1\t{X}\tINSTALLDIR\t4\t\tregA\r\n";

#[test]
fn tables_rows_and_cells_tile_the_view() {
    let view = parse(VIEW).unwrap();
    assert!(view.is_lossless(VIEW));
    let names: Vec<&[u8]> = view.tables.iter().map(|t| t.name.slice(VIEW)).collect();
    assert_eq!(names, [&b"Registry"[..], b"Component"]);
    let registry = view.table(VIEW, "Registry").unwrap();
    assert_eq!(registry.key_columns, [0]);
    assert_eq!(registry.rows.len(), 2);
    assert_eq!(registry.columns[1].kind, ColumnKind::Integer);
    assert!(!registry.columns[1].nullable && registry.columns[3].nullable);
    let row = &registry.rows[1];
    assert_eq!(registry.integer(VIEW, row, "Root"), Some(-1));
    assert_eq!(registry.cell(VIEW, row, "Name").as_deref(), Some(&b""[..]));
    // Tab, CR and LF come back from their .idt stand-ins.
    assert_eq!(
        registry.cell(VIEW, row, "Value").as_deref(),
        Some(&b"line\r\ntwo\ttab"[..])
    );
    let values = view.values(VIEW, registry, row).unwrap();
    assert_eq!(values[1], msi::Value::Int(-1));
    assert_eq!(values[3], msi::Value::Null);
}

#[test]
fn a_position_is_a_table_row_and_column() {
    let view = parse(VIEW).unwrap();
    let at = |needle: &[u8]| memchr::memmem::find(VIEW, needle).unwrap();
    let key = view.locate(at(b"SYSTEM\\Control")).unwrap();
    assert_eq!((key.table, key.row, key.column), (0, 0, 2));
    assert_eq!(view.table_name(VIEW, key), b"Registry");
    assert_eq!(view.column_name(key), "Key");
    assert_eq!(view.row_key(VIEW, key), "regA");
    let keypath = view.locate(at(b"regA\r\n")).unwrap();
    assert_eq!((keypath.table, keypath.row, keypath.column), (1, 0, 5));
    assert_eq!(view.column_name(keypath), "KeyPath");
    // Header lines and the empty line between tables are no row.
    assert_eq!(view.locate(0), None);
    assert_eq!(view.locate(at(b"\r\n\r\nComponent") + 2), None);
}

#[test]
fn views_that_are_not_tables_are_refused() {
    let refused = |text: &[u8], fragment: &str| {
        let e = parse(text).unwrap_err();
        assert!(e.message.contains(fragment), "{}", e.message);
        e.offset
    };
    let cut = &VIEW[..VIEW.len() - 2];
    let last_row = memchr::memmem::find(VIEW, b"C1\t{X}").unwrap();
    assert_eq!(refused(cut, "without its CRLF"), last_row);
    refused(b"T\tA\r\ns72\r\nT\tA\r\n", "at least two columns");
    refused(b"T\tA\r\ns72\tx9\r\nT\tA\r\n", "unknown column type");
    refused(
        b"T\tA\r\ns72\ti2\r\nT\tB\r\n",
        "primary key that is not a column",
    );
    refused(b"T\tA\r\ns72\ti2\r\nT\tA\r\nx\r\n", "a row of 1 cells");
    // A line after the last table is one of its rows.
    refused(&[VIEW, b"X\r\n"].concat(), "a row of 1 cells");
    let trailing = [VIEW, b"\r\n"].concat();
    assert_eq!(refused(&trailing, "empty line at the end"), VIEW.len());
}

#[test]
fn row_changes_are_deletions_and_cell_updates_only() {
    let registry_row_b = memchr::memmem::find(VIEW, b"regB").unwrap();
    let row_b_end =
        registry_row_b + memchr::memmem::find(&VIEW[registry_row_b..], b"\r\n").unwrap() + 2;
    let without_b = [&VIEW[..registry_row_b], &VIEW[row_b_end..]].concat();
    let changes = database::row_changes(VIEW, &without_b).unwrap();
    assert_eq!(
        changes.tables["Registry"].deleted,
        [vec![msi::Value::Str("regB".into())]]
    );
    assert!(changes.tables["Registry"].updated.is_empty());
    assert!(!changes.tables.contains_key("Component"));
    let rewritten = String::from_utf8_lossy(VIEW)
        .replace("ControlSet001", "CurrentControlSet")
        .into_bytes();
    let changes = database::row_changes(VIEW, &rewritten).unwrap();
    assert_eq!(
        changes.tables["Registry"].updated,
        [(
            vec![msi::Value::Str("regA".into())],
            "Key".to_string(),
            msi::Value::Str("SYSTEM\\CurrentControlSet\\Services\\x".into())
        )]
    );
    assert!(database::row_changes(VIEW, VIEW).unwrap().is_empty());
    // Anything else is refused: a row added, a key changed, a header changed, a bad integer.
    let refused = |after: Vec<u8>, fragment: &str| {
        let e = database::row_changes(VIEW, &after).unwrap_err();
        assert!(e.0.contains(fragment), "{}", e.0);
    };
    let text = String::from_utf8_lossy(VIEW).into_owned();
    refused(
        text.replace("regB", "regZ").into_bytes(),
        "row was added or its primary key changed",
    );
    refused(
        text.replace("l255", "s255").into_bytes(),
        "columns of table Registry changed",
    );
    refused(
        text.replace("\t2\tSYSTEM", "\tx\tSYSTEM").into_bytes(),
        "holds integers",
    );
    refused(
        text.replace("\tC1\r\n\r\n", "\t\r\n\r\n").into_bytes(),
        "must not be empty",
    );
    refused(
        text.replace("regB", "regA").into_bytes(),
        "two rows with one primary key",
    );
}
