//! Lowering `.reg` syntax to registry writes: which records are writes, their origins and the
//! ranges diagnostics and fixes rely on.

mod reg_common;

use std::borrow::Cow;

use reg_common::{lower_ansi, parse, s};
use svcscrub::model::{Data, Hive, OpKind, Operation, Origin};

const TEXT: &str = "Windows Registry Editor Version 5.00\r\n\r\n; header comment\r\n\r\n[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\svc]\r\n\"Type\"=dword:00000010\r\n; inner comment\r\n\"ImagePath\"=hex(2):43,00,3a,00,\\\r\n  5c,00,00,00\r\n\"Old\"=-\r\n@=\"default\"\r\n\r\n[-HKLM\\SOFTWARE\\Gone]\r\n\"ignored\"=\"1\"\r\n\r\n[HKCU\\Software\\Odd]] tail\r\n\"\"=dword:1\r\n\r\n[HKEY_NOWHERE\\X]\r\n\"v\"=\"1\"\r\n";

fn text_of(range: svcscrub::text::TextRange) -> &'static str {
    &TEXT[range.as_range()]
}

fn find<'m, 'a>(writes: &[&'m Operation<'a>], name: &str) -> &'m Operation<'a> {
    writes
        .iter()
        .find(|w| w.value.as_deref() == Some(name.as_bytes()))
        .unwrap_or_else(|| panic!("no write of {name}"))
}

#[test]
fn key_line_write() {
    let file = parse(TEXT);
    let model = lower_ansi(&file, TEXT);
    let key = model.writes().next().unwrap();
    assert_eq!(key.hive, Hive::LocalMachine);
    assert_eq!(&*key.key, b"SYSTEM\\CurrentControlSet\\Services\\svc");
    assert_eq!(
        text_of(key.key_range.unwrap()),
        "SYSTEM\\CurrentControlSet\\Services\\svc"
    );
    assert_eq!(key.value, None);
    assert_eq!(key.data, Data::None);
    assert_eq!(
        text_of(key.range),
        "[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\svc]"
    );
    assert_eq!(text_of(key.record), &format!("{}\r\n", text_of(key.range)));
    assert_eq!(
        key.origin,
        Origin {
            container: 0,
            index: Origin::KEY_LINE
        }
    );
    assert_eq!((key.block, key.wow64_64), (0, false));
}

#[test]
fn value_writes_with_origins_and_ranges() {
    let file = parse(TEXT);
    let model = lower_ansi(&file, TEXT);
    let ty = find(&model.writes().collect::<Vec<_>>(), "Type");
    assert_eq!(ty.data, Data::Dword(0x10));
    assert_eq!(
        ty.origin,
        Origin {
            container: 0,
            index: 0
        }
    );
    assert_eq!(text_of(ty.range), "\"Type\"=dword:00000010");
    assert_eq!(ty.key_range, model.writes().next().unwrap().key_range);

    let image = find(&model.writes().collect::<Vec<_>>(), "ImagePath");
    // Record index 2: the comment line is record 1.
    assert_eq!(
        image.origin,
        Origin {
            container: 0,
            index: 2
        }
    );
    assert_eq!(text_of(image.range), "\"ImagePath\"=hex(2):43,00,3a,00,\\");
    assert_eq!(
        text_of(image.record),
        "\"ImagePath\"=hex(2):43,00,3a,00,\\\r\n  5c,00,00,00\r\n"
    );
    // An 8-bit file: the hex string keeps its bytes (NULs inside, trailing ones stripped).
    assert_eq!(image.data, Data::ExpandSz(Cow::Owned(b"C\0:\0\\".to_vec())));

    let default = model
        .writes()
        .find(|w| w.value.as_deref() == Some(&b""[..]))
        .unwrap();
    assert_eq!(default.data.as_text(), Some(&b"default"[..]));
    assert_eq!(
        default.origin,
        Origin {
            container: 0,
            index: 4
        }
    );
}

#[test]
fn deletions_are_not_writes() {
    let file = parse(TEXT);
    let model = lower_ansi(&file, TEXT);
    let names: Vec<(u32, Option<String>)> = model
        .writes()
        .map(|w| (w.origin.container, w.value.as_deref().map(s)))
        .collect();
    assert_eq!(
        names,
        [
            (0, None),
            (0, Some("Type".into())),
            (0, Some("ImagePath".into())),
            (0, Some("".into())),
            (2, None),
            (2, Some("".into())),
            (3, None),
            (3, Some("v".into())),
        ]
    );
}

#[test]
fn odd_key_names_and_unknown_hives_still_lower() {
    let file = parse(TEXT);
    let model = lower_ansi(&file, TEXT);
    let odd = model.writes().find(|w| w.origin.container == 2).unwrap();
    assert_eq!(odd.hive, Hive::CurrentUser);
    assert_eq!(&*odd.key, b"Software\\Odd]");
    let empty_name = model
        .writes()
        .find(|w| w.origin.container == 2 && w.value.is_some())
        .unwrap();
    assert_eq!(empty_name.data, Data::Dword(1));
    let unknown = model.writes().find(|w| w.origin.container == 3).unwrap();
    assert_eq!(unknown.hive, Hive::Unknown);
    assert_eq!(&*unknown.key, b"X");
}

#[test]
fn names_and_strings_borrow_unless_escaped() {
    let text = "REGEDIT4\n[HKCU\\A]\n\"plain\"=\"x\"\n\"esc\\\\aped\"=\"y\\\"z\"\n";
    let file = parse(text);
    let model = lower_ansi(&file, text);
    assert!(matches!(
        model.writes().nth(1).unwrap().value,
        Some(Cow::Borrowed(b"plain"))
    ));
    assert!(matches!(
        model.writes().nth(1).unwrap().data,
        Data::Sz(Cow::Borrowed(b"x"))
    ));
    assert_eq!(
        model.writes().nth(2).unwrap().value.as_deref(),
        Some(&b"esc\\aped"[..])
    );
    assert_eq!(
        model.writes().nth(2).unwrap().data.as_text(),
        Some(&b"y\"z"[..])
    );
}

#[test]
fn operations_come_in_line_order_with_their_deletions() {
    let file = parse(TEXT);
    let model = lower_ansi(&file, TEXT);
    let ops: Vec<(OpKind, u32, Option<String>)> = model
        .ops
        .iter()
        .map(|o| (o.kind, o.origin.container, o.value.as_deref().map(s)))
        .collect();
    assert_eq!(
        ops,
        [
            (OpKind::CreateKey, 0, None),
            (OpKind::SetValue, 0, Some("Type".into())),
            (OpKind::SetValue, 0, Some("ImagePath".into())),
            (OpKind::DeleteValue, 0, Some("Old".into())),
            (OpKind::SetValue, 0, Some("".into())),
            // `[-HKLM\SOFTWARE\Gone]`: its value is ignored, as regedit ignores it.
            (OpKind::DeleteKey, 1, None),
            (OpKind::CreateKey, 2, None),
            (OpKind::SetValue, 2, Some("".into())),
            (OpKind::CreateKey, 3, None),
            (OpKind::SetValue, 3, Some("v".into())),
        ]
    );
    // A block's operations share its key line's path statement.
    assert!(
        model
            .ops
            .iter()
            .all(|o| o.statement == Some(o.origin.container))
    );
    assert!(model.ops.windows(2).all(|w| w[0].seq < w[1].seq));
    // A quoted string gets regedit's terminator; a hex string keeps its own NULs (8-bit
    // text here: `…5c,00,00,00` ends in three).
    assert_eq!(find(&model.writes().collect::<Vec<_>>(), "Type").nuls, 0);
    assert_eq!(
        find(&model.writes().collect::<Vec<_>>(), "ImagePath").nuls,
        3
    );
    assert_eq!(find(&model.writes().collect::<Vec<_>>(), "").nuls, 1);
}
