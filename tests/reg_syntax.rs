//! Behaviour of the `.reg` parser, one test per fact of `FORMATS.md` §2 (and the decisions
//! below it). Every test also checks that printing the tree gives back the input.

mod reg_common;

use std::borrow::Cow;

use reg_common::{parse, s, source, utf16};
use svcscrub::detect::RegVersion;
use svcscrub::model::Data;
use svcscrub::model::reg::{decode_value, key_hive, value_name};
use svcscrub::model::{Hive, reg::lower};
use svcscrub::source::Encoding;
use svcscrub::syntax::reg::{self, HexKind, RecordKind, RegFile, ValueData};

const H5: &str = "Windows Registry Editor Version 5.00\r\n\r\n";

/// (name, decoded data or `None` when the record is not a write) for every value record.
fn values(file: &RegFile, text: &str) -> Vec<(String, Option<Data<'static>>)> {
    file.records
        .iter()
        .filter_map(|r| r.value().copied())
        .map(|v| {
            let name = s(&value_name(&v, text.as_bytes()));
            let data = decode_value(&v, text.as_bytes(), Encoding::Ansi).map(owned);
            (name, data)
        })
        .collect()
}

fn owned(data: Data<'_>) -> Data<'static> {
    match data {
        Data::Sz(s) => Data::Sz(Cow::Owned(s.into_owned())),
        Data::ExpandSz(s) => Data::ExpandSz(Cow::Owned(s.into_owned())),
        Data::MultiSz(v) => {
            Data::MultiSz(v.into_iter().map(|s| Cow::Owned(s.into_owned())).collect())
        }
        Data::None => Data::None,
        Data::Dword(n) => Data::Dword(n),
        Data::Qword(n) => Data::Qword(n),
        Data::Binary(b) => Data::Binary(b),
        Data::Raw { kind, bytes } => Data::Raw { kind, bytes },
    }
}

fn sz(text: &str) -> Option<Data<'static>> {
    Some(Data::Sz(Cow::Owned(text.as_bytes().to_vec())))
}

fn kinds(file: &RegFile) -> Vec<&'static str> {
    file.records
        .iter()
        .map(|r| match r.kind {
            RecordKind::Blank => "blank",
            RecordKind::Comment => "comment",
            RecordKind::Junk => "junk",
            RecordKind::Value(v) => match v.data {
                ValueData::Delete { .. } => "delete",
                ValueData::String { .. } => "string",
                ValueData::Dword { .. } => "dword",
                ValueData::Hex { .. } => "hex",
                ValueData::MultiLineString { .. } => "multiline",
                ValueData::Invalid { .. } => "invalid",
                ValueData::Broken { .. } => "broken",
            },
        })
        .collect()
}

fn key_names(file: &RegFile, text: &str) -> Vec<String> {
    file.blocks
        .iter()
        .map(|b| s(&text.as_bytes()[b.key.name.as_range()]))
        .collect()
}

#[test]
fn header_with_leading_blanks_and_trailing_comment() {
    let text = "  Windows Registry Editor Version 5.00 ;exported\r\n[HKEY_CURRENT_USER\\A]\r\n";
    let file = parse(text);
    assert_eq!(file.version, RegVersion::Regedit5);
    assert_eq!(
        &text[file.header.name.as_range()],
        "Windows Registry Editor Version 5.00"
    );
    assert_eq!(file.header.range.end, text.find('[').unwrap());
    let text = "REGEDIT4\t\n";
    assert_eq!(parse(text).version, RegVersion::Regedit4);
}

#[test]
fn a_missing_header_is_the_only_error() {
    for text in ["", "\r\nREGEDIT4\r\n", "REGEDIT4 x\r\n", "regedit4\r\n"] {
        let err = reg::parse(text.as_bytes(), RegVersion::Regedit4).unwrap_err();
        assert_eq!(err.offset, 0, "{text:?}");
    }
    // After the header anything parses, including binary junk.
    let text = "REGEDIT4\n\u{1}\u{2}[\n@\n\"\n=\n]\n";
    let file = parse(text);
    assert_eq!(kinds(&file), ["junk", "junk", "junk", "junk", "junk"]);
}

#[test]
fn key_lines_with_deletion_root_and_subkey() {
    let text = format!(
        "{H5}  [HKLM\\SYSTEM\\CurrentControlSet]\r\n[-hkey_local_machine\\X\\]\r\n[HKEY_USERS]\r\n"
    );
    let file = parse(&text);
    assert_eq!(file.blocks.len(), 3);
    let [a, b, c] = [
        &file.blocks.get(0).unwrap().key,
        &file.blocks.get(1).unwrap().key,
        &file.blocks.get(2).unwrap().key,
    ];
    assert!(!a.delete && b.delete && !c.delete);
    assert_eq!(&text[a.root.as_range()], "HKLM");
    assert_eq!(&text[a.subkey.as_range()], "SYSTEM\\CurrentControlSet");
    assert_eq!(key_hive(a, text.as_bytes()), Hive::LocalMachine);
    assert_eq!(key_hive(b, text.as_bytes()), Hive::LocalMachine);
    assert_eq!(&text[b.subkey.as_range()], "X\\");
    assert_eq!(key_hive(c, text.as_bytes()), Hive::Users);
    assert!(c.subkey.is_empty());
    assert_eq!(c.subkey.start, c.name.end);
}

#[test]
fn key_name_runs_to_the_last_bracket() {
    let text = format!("{H5}[HKCU\\a]b\";c]\r\n[HKCU\\d] trailing ; text\r\n");
    let file = parse(&text);
    assert_eq!(key_names(&file, &text), ["HKCU\\a]b\";c", "HKCU\\d"]);
    assert_eq!(
        &text[file.blocks.get(0).unwrap().key.trailer.as_range()],
        ""
    );
    assert_eq!(
        &text[file.blocks.get(1).unwrap().key.trailer.as_range()],
        " trailing ; text"
    );
}

#[test]
fn lines_that_are_not_keys() {
    // No `]`, or a blank right after `[`: junk, and the values stay with the previous key.
    let text = format!("{H5}[HKCU\\A]\r\n[HKCU\\B\r\n[ HKCU\\C]\r\n\"v\"=\"1\"\r\n");
    let file = parse(&text);
    assert_eq!(file.blocks.len(), 1);
    assert_eq!(kinds(&file), ["blank", "junk", "junk", "string"]);
    assert_eq!(file.block_records(file.blocks.get(0).unwrap()).len(), 3);
}

#[test]
fn value_names_escapes_and_default() {
    let text = format!(
        "{H5}[HKCU\\A]\r\n@=\"at\"\r\n\"\"=\"empty\"\r\n  \"a\\\\b\\\"c\" \t=  \"x\\\\y\\\"z\"\r\n\"semi;colon\"=\"v;w\" ;c\r\n"
    );
    let file = parse(&text);
    let vals = values(&file, &text);
    assert_eq!(
        vals,
        [
            ("".to_string(), sz("at")),
            ("".to_string(), sz("empty")),
            ("a\\b\"c".to_string(), sz("x\\y\"z")),
            ("semi;colon".to_string(), sz("v;w")),
        ]
    );
    let names: Vec<bool> = file
        .records
        .iter()
        .filter_map(|r| r.value().copied())
        .map(|v| v.name.is_default())
        .collect();
    assert_eq!(names, [true, true, false, false]);
}

#[test]
fn unknown_escapes_keep_the_backslash() {
    let text = format!("{H5}[HKCU\\A]\r\n\"p\"=\"C:\\Windows\\x\"\r\n");
    let file = parse(&text);
    assert_eq!(
        values(&file, &text),
        [("p".to_string(), sz("C:\\Windows\\x"))]
    );
}

#[test]
fn dwords_take_one_to_eight_digits() {
    let text = format!(
        "{H5}[HKCU\\A]\r\n\"a\"=dword:1\r\n\"b\"=dword: FFFFFFFF\r\n\"c\"=dword:123456789\r\n\"d\"=dword:\r\n\"e\"=dword:0x1\r\n\"f\"=dword:1234;c\r\n\"g\"=dword:1234#c\r\n"
    );
    let file = parse(&text);
    assert_eq!(
        values(&file, &text),
        [
            ("a".to_string(), Some(Data::Dword(1))),
            ("b".to_string(), Some(Data::Dword(u32::MAX))),
            ("c".to_string(), None),
            ("d".to_string(), None),
            ("e".to_string(), None),
            ("f".to_string(), Some(Data::Dword(0x1234))),
            ("g".to_string(), None),
        ]
    );
    assert_eq!(kinds(&file)[3..5], ["invalid", "invalid"]);
}

#[test]
fn hex_bytes_of_one_or_two_digits() {
    let text = format!(
        "{H5}[HKCU\\A]\r\n\"a\"=hex:1,a,FF\r\n\"b\"=hex:\r\n\"c\"=hex:001\r\n\"d\"=hex:00,\r\n\"e\"=hex(100):01\r\n\"f\"=hex(0x2):01\r\n\"g\"=hex: 01 ;c\r\n\"h\"=hex:01 ,02\r\n"
    );
    let file = parse(&text);
    assert_eq!(
        values(&file, &text),
        [
            ("a".to_string(), Some(Data::Binary(vec![1, 0xa, 0xff]))),
            ("b".to_string(), Some(Data::Binary(vec![]))),
            ("c".to_string(), None),
            ("d".to_string(), Some(Data::Binary(vec![0]))),
            (
                "e".to_string(),
                Some(Data::Raw {
                    kind: 0x100,
                    bytes: vec![1]
                })
            ),
            ("f".to_string(), None),
            ("g".to_string(), Some(Data::Binary(vec![1]))),
            ("h".to_string(), None),
        ]
    );
}

#[test]
fn only_a_comment_may_follow_data() {
    let text = format!(
        "{H5}[HKCU\\A]\r\n\"a\"=\"x\" ; ok\r\n\"b\"=\"x\"#no\r\n\"c\"=\"x\"y\"\r\n\"d\"=- ;ok\r\n\"e\"=-x\r\n\"f\"=\r\n\"g\"=text\r\n"
    );
    let file = parse(&text);
    assert_eq!(
        kinds(&file),
        [
            "blank", "string", "invalid", "invalid", "delete", "invalid", "invalid", "invalid"
        ]
    );
}

#[test]
fn value_deletion_is_not_a_write() {
    let text = format!("{H5}[HKCU\\A]\r\n\"gone\"=-\r\n\"kept\"=\"1\"\r\n");
    let file = parse(&text);
    let model = reg_common::lower_ansi(&file, &text);
    let names: Vec<_> = model.writes().map(|w| w.value.as_deref().map(s)).collect();
    assert_eq!(names, [None, Some("kept".to_string())]);
}

#[test]
fn continuations_with_comments_and_blank_lines_inside() {
    let text = format!(
        "{H5}[HKCU\\A]\r\n\"m\"=hex(7):61,00,\\ ; first\r\n\r\n; a comment line\r\n  62,00,\\\r\n  \t\r\n  00,00\r\n\"next\"=dword:2\r\n"
    );
    let file = parse(&text);
    assert_eq!(kinds(&file), ["blank", "hex", "dword"]);
    let record = file.records.get(1).unwrap();
    assert!(text[record.range.as_range()].ends_with("  00,00\r\n"));
    assert_eq!(
        &text[record.line.as_range()],
        "\"m\"=hex(7):61,00,\\ ; first"
    );
    let ValueData::Hex { kind, count, .. } = record.value().unwrap().data else {
        panic!()
    };
    assert_eq!((kind, count), (HexKind::Typed(7), 6));
    assert_eq!(
        values(&file, &text)[0].1,
        Some(Data::MultiSz(vec![
            Cow::Owned(b"a".to_vec()),
            Cow::Owned(b"b".to_vec())
        ]))
    );
}

#[test]
fn continuation_markers_need_a_comma_and_nothing_after() {
    let text = format!(
        "{H5}[HKCU\\A]\r\n\"a\"=hex:01\\\r\n  02\r\n\"b\"=hex:01,\\#x\r\n  02\r\n\"c\"=hex:\\\r\n  02\r\n"
    );
    let file = parse(&text);
    // `a` and `b` are dropped on their first line; their next lines are junk.
    assert_eq!(
        kinds(&file),
        ["blank", "invalid", "junk", "invalid", "junk", "hex"]
    );
    assert_eq!(values(&file, &text)[2].1, Some(Data::Binary(vec![2])));
}

#[test]
fn a_bad_continuation_line_drops_the_value() {
    let text = format!("{H5}[HKCU\\A]\r\n\"a\"=hex:01,\\\r\n  0g\r\n\"b\"=dword:1\r\n");
    let file = parse(&text);
    assert_eq!(kinds(&file), ["blank", "invalid", "dword"]);
    assert!(text[file.records.get(1).unwrap().range.as_range()].ends_with("  0g\r\n"));
}

#[test]
fn a_dangling_continuation_swallows_the_next_line() {
    let text = format!(
        "{H5}[HKCU\\A]\r\n\"a\"=hex:01,\\\r\n\r\n\"b\"=\"swallowed\"\r\n\"c\"=\"kept\"\r\n"
    );
    let file = parse(&text);
    assert_eq!(kinds(&file), ["blank", "broken", "string"]);
    let ValueData::Broken { swallowed, .. } = file.records.get(1).unwrap().value().unwrap().data
    else {
        panic!()
    };
    assert_eq!(&text[swallowed.as_range()], "\"b\"=\"swallowed\"\r\n");
    assert_eq!(values(&file, &text)[0].1, None);
}

#[test]
fn a_swallowed_key_line_does_not_start_a_block() {
    let text = format!(
        "{H5}[HKCU\\A]\r\n\"a\"=hex:01,\\\r\n[HKCU\\B]\r\n\"b\"=\"goes to A\"\r\n\r\n[HKCU\\C]\r\n"
    );
    let file = parse(&text);
    assert_eq!(key_names(&file, &text), ["HKCU\\A", "HKCU\\C"]);
    assert_eq!(kinds(&file), ["blank", "broken", "string", "blank"]);
    let model = reg_common::lower_ansi(&file, &text);
    let b = model
        .writes()
        .find(|w| w.value.as_deref() == Some(&b"b"[..]))
        .unwrap();
    assert_eq!(&*b.key, b"A");
    assert!(!model.writes().any(|w| &*w.key == b"B"));
}

#[test]
fn a_continuation_at_the_end_of_the_file_keeps_the_value() {
    let text = format!("{H5}[HKCU\\A]\r\n\"a\"=hex:01,\\\r\n\r\n; trailing\r\n");
    let file = parse(&text);
    // The skipped lines after the last data are ordinary records again.
    assert_eq!(kinds(&file), ["blank", "hex", "blank", "comment"]);
    assert_eq!(values(&file, &text)[0].1, Some(Data::Binary(vec![1])));
}

#[test]
fn raw_newline_string_is_one_opaque_record() {
    let text = format!(
        "{H5}[HKCU\\A]\r\n\"v\"=\"1.264 (0)\r\n\"\r\n\r\n\"w\"=\"two\r\nlines\r\nend\" ;c\r\n\"x\"=\"1\"\r\n"
    );
    let file = parse(&text);
    assert_eq!(
        kinds(&file),
        ["blank", "multiline", "blank", "multiline", "string"]
    );
    assert_eq!(
        &text[file.records.get(1).unwrap().range.as_range()],
        "\"v\"=\"1.264 (0)\r\n\"\r\n"
    );
    let model = reg_common::lower_ansi(&file, &text);
    let names: Vec<_> = model
        .writes()
        .filter_map(|w| w.value.as_deref().map(s))
        .collect();
    assert_eq!(names, ["x"]);
}

#[test]
fn an_unterminated_string_alone_is_invalid() {
    // The next quote does not close the string cleanly: the line alone is dropped.
    let text = format!("{H5}[HKCU\\A]\r\n\"v\"=\"open\r\n[HKCU\\B]\r\n\"w\"=\"1\"\r\n");
    let file = parse(&text);
    assert_eq!(key_names(&file, &text), ["HKCU\\A", "HKCU\\B"]);
    assert_eq!(kinds(&file), ["blank", "invalid", "string"]);
}

#[test]
fn values_after_a_key_deletion_or_before_any_key_are_not_writes() {
    let text = format!(
        "{H5}\"early\"=\"1\"\r\n[-HKCU\\A]\r\n\"skipped\"=\"\"\r\n\r\n[HKCU\\B]\r\n\"kept\"=\"2\"\r\n"
    );
    let file = parse(&text);
    assert_eq!(file.preamble_end, 2);
    let model = reg_common::lower_ansi(&file, &text);
    let writes: Vec<_> = model
        .writes()
        .map(|w| (s(&w.key), w.value.as_deref().map(s)))
        .collect();
    assert_eq!(
        writes,
        [
            ("B".to_string(), None),
            ("B".to_string(), Some("kept".to_string()))
        ]
    );
}

#[test]
fn repeated_keys_are_separate_blocks() {
    let text = format!("{H5}[HKCU\\R]\r\n\"a\"=\"1\"\r\n\r\n[hkcu\\r]\r\n\"b\"=\"2\"\r\n");
    let file = parse(&text);
    assert_eq!(file.blocks.len(), 2);
    let model = reg_common::lower_ansi(&file, &text);
    let origins: Vec<_> = model
        .writes()
        .map(|w| (w.origin.container, w.origin.index))
        .collect();
    assert_eq!(origins, [(0, u32::MAX), (0, 0), (1, u32::MAX), (1, 0)]);
}

#[test]
fn blank_lines_do_not_end_a_key() {
    let text = format!("{H5}[HKCU\\A]\r\n\r\n\r\n\"a\"=\"1\"\r\n");
    let file = parse(&text);
    let model = reg_common::lower_ansi(&file, &text);
    assert_eq!(model.writes().count(), 2);
    assert_eq!(&*model.writes().nth(1).unwrap().key, b"A");
}

#[test]
fn lone_cr_lf_and_mixed_line_endings() {
    let text = "REGEDIT4\r[HKCU\\A]\r\"a\"=hex:01,\\\r  02\n\"b\"=\"x\"\r\n";
    let file = parse(text);
    assert_eq!(kinds(&file), ["hex", "string"]);
    assert_eq!(
        &text[file.records.get(0).unwrap().range.as_range()],
        "\"a\"=hex:01,\\\r  02\n"
    );
    assert_eq!(
        &text[file.blocks.get(0).unwrap().key.range.as_range()],
        "[HKCU\\A]\r"
    );
}

#[test]
fn no_final_newline() {
    let text = format!("{H5}[HKCU\\A]\r\n\"a\"=dword:00000001");
    let file = parse(&text);
    assert_eq!(file.records.last().unwrap().range.end, text.len());
    assert_eq!(
        values(&file, &text),
        [("a".to_string(), Some(Data::Dword(1)))]
    );
    let text = "REGEDIT4";
    let file = parse(text);
    assert!(file.records.is_empty() && file.blocks.is_empty());
}

#[test]
fn utf16_input_decodes_wide_hex_strings() {
    let text = "Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\日本]\r\n\"名\"=\"値\"\r\n\"e\"=hex(2):25,00,41,00,25,00,00,00\r\n\"m\"=hex(7):61,00,00,00,42,30,00,00,00,00\r\n\"q\"=hex(b):01,00,00,00,00,00,00,00\r\n\r\n";
    let raw = utf16(text);
    let src = source(raw.clone());
    assert_eq!(src.encoding, Encoding::Utf16Le);
    let file = reg::parse(src.text(), RegVersion::Regedit5).unwrap();
    assert_eq!(src.encode(&file.print(src.text())), raw);
    let model = lower(&file, src.text(), src.encoding);
    assert_eq!(
        &*model.writes().next().unwrap().key,
        "SOFTWARE\\日本".as_bytes()
    );
    let data: Vec<_> = model.writes().collect::<Vec<_>>()[1..]
        .iter()
        .map(|w| (s(w.value.as_deref().unwrap()), w.data.clone()))
        .collect();
    assert_eq!(
        data,
        [
            ("名".to_string(), Data::Sz(Cow::Borrowed("値".as_bytes()))),
            ("e".to_string(), Data::ExpandSz(Cow::Owned(b"%A%".to_vec()))),
            (
                "m".to_string(),
                Data::MultiSz(vec![
                    Cow::Owned(b"a".to_vec()),
                    Cow::Owned("あ".as_bytes().to_vec())
                ])
            ),
            ("q".to_string(), Data::Qword(1)),
        ]
    );
}

#[test]
fn utf8_bom_input_keeps_8bit_hex_strings() {
    let text = "Windows Registry Editor Version 5.00\n\n[HKCU\\A]\n\"e\"=hex(2):25,41,25,00\n\"é\"=\"ü\"\n";
    let mut raw = b"\xEF\xBB\xBF".to_vec();
    raw.extend_from_slice(text.as_bytes());
    let src = source(raw.clone());
    assert_eq!(src.encoding, Encoding::Utf8Bom);
    let file = reg::parse(src.text(), RegVersion::Regedit5).unwrap();
    assert_eq!(src.encode(&file.print(src.text())), raw);
    let model = lower(&file, src.text(), src.encoding);
    assert_eq!(
        model.writes().nth(1).unwrap().data,
        Data::ExpandSz(Cow::Owned(b"%A%".to_vec()))
    );
    assert_eq!(
        model.writes().nth(2).unwrap().value.as_deref(),
        Some("é".as_bytes())
    );
    assert_eq!(
        model.writes().nth(2).unwrap().data.as_text(),
        Some("ü".as_bytes())
    );
}

#[test]
fn ansi_bytes_pass_through_untouched() {
    let raw =
        b"REGEDIT4\r\n\r\n[HKCU\\Caf\xE9]\r\n\"n\xE9\"=\"\xE9t\xE9\"\r\n\"x\"=hex(2):e9,00\r\n"
            .to_vec();
    let src = source(raw.clone());
    assert_eq!(src.encoding, Encoding::Ansi);
    let file = reg::parse(src.text(), RegVersion::Regedit4).unwrap();
    assert_eq!(file.print(src.text()), raw);
    let model = lower(&file, src.text(), src.encoding);
    assert_eq!(&*model.writes().next().unwrap().key, b"Caf\xE9");
    assert_eq!(
        model.writes().nth(1).unwrap().data.as_text(),
        Some(&b"\xE9t\xE9"[..])
    );
    assert_eq!(
        model.writes().nth(2).unwrap().data,
        Data::ExpandSz(Cow::Owned(vec![0xE9]))
    );
}

#[test]
fn lines_directly_before_keys_and_values() {
    let text = format!(
        "{H5}; svcscrub: ignore SVC001\r\n[HKCU\\A]\r\n; svcscrub: ignore SVC010\r\n\"a\"=\"1\"\r\n[HKCU\\B]\r\n[HKCU\\C]\r\n"
    );
    let file = parse(&text);
    let line = |r: Option<svcscrub::syntax::reg::Record>| {
        r.map(|r| s(&text.as_bytes()[r.line.as_range()]))
    };
    assert_eq!(
        line(file.record_before_key(0)).as_deref(),
        Some("; svcscrub: ignore SVC001")
    );
    assert_eq!(
        line(file.record_before_value(0, 1)).as_deref(),
        Some("; svcscrub: ignore SVC010")
    );
    assert_eq!(line(file.record_before_value(0, 0)), None);
    assert_eq!(
        line(file.record_before_key(1)).as_deref(),
        Some("\"a\"=\"1\"")
    );
    // The key line of B, not a record, comes right before C.
    assert_eq!(line(file.record_before_key(2)), None);
    let bare = parse("REGEDIT4\n[HKCU\\A]\n");
    assert!(bare.record_before_key(0).is_none());
}
