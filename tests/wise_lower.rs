//! Lowering WiseScript documents to registry writes and Create Service items.

use std::borrow::Cow;

use svcscrub::detect::ScriptKind;
use svcscrub::model::{
    Data, FileModel, Hive, OpKind, Operation, Origin, ServiceValue, wise::lower,
};
use svcscrub::syntax::wise;

fn model(text: &[u8]) -> FileModel<'_> {
    // The model borrows the tree: kept for the test's life.
    let doc = Box::leak(Box::new(
        wise::parse(text, ScriptKind::Wse).unwrap_or_else(|e| panic!("{}", e.message)),
    ));
    lower(doc, text, svcscrub::model::Charset::Ansi)
}

fn b(s: &str) -> Cow<'_, [u8]> {
    Cow::Borrowed(s.as_bytes())
}

/// One flat Edit Registry item per `fields` string (`|`-separated property lines).
fn flat(items: &[&str]) -> String {
    let mut text = String::from("Document Type: WSE\r\n");
    for fields in items {
        text.push_str("item: Edit Registry\r\n  Total Keys=1\r\n");
        for f in fields.split('|') {
            text.push_str(&format!("  {f}\r\n"));
        }
        text.push_str("end\r\n");
    }
    text
}

fn data_of(fields: &str) -> Data<'static> {
    let text: &'static str = Box::leak(flat(&[fields]).into_boxed_str());
    let m = model(text.as_bytes());
    assert_eq!(m.writes().count(), 1, "{fields}");
    m.writes().next().unwrap().data.clone()
}

#[test]
fn data_types() {
    assert_eq!(data_of("Key=K|New Value=v|Root=2"), Data::Sz(b("v")));
    // The final empty New Value line is the text box's trailing line break, not data.
    assert_eq!(data_of("Key=K|New Value=v|New Value="), Data::Sz(b("v")));
    assert_eq!(
        data_of("Key=K|New Value=a|New Value=b|New Value="),
        Data::Sz(Cow::Owned(b"a\r\nb".to_vec()))
    );
    assert_eq!(data_of("Key=K|New Value=|Value Name=E"), Data::Sz(b("")));
    assert_eq!(
        data_of("Key=K|New Value=%SystemRoot%\\x|Data Type=1"),
        Data::ExpandSz(b("%SystemRoot%\\x"))
    );
    assert_eq!(
        data_of("Key=K|New Value=a|New Value= b |New Value=|Data Type=2"),
        Data::MultiSz(vec![b("a"), b(" b ")])
    );
    assert_eq!(
        data_of("Key=K|New Value=1440|Data Type=3"),
        Data::Dword(1440)
    );
    assert_eq!(
        data_of("Key=K|New Value=%AUSLOG%|Data Type=3"),
        Data::Raw {
            kind: 3,
            bytes: b"%AUSLOG%".to_vec()
        }
    );
    assert_eq!(
        data_of("Key=K|New Value=0100ff80|Data Type=4"),
        Data::Binary(vec![1, 0, 0xff, 0x80])
    );
    assert_eq!(
        data_of("Key=K|New Value=01 00 04 80|Data Type=4"),
        Data::Binary(vec![1, 0, 4, 0x80])
    );
    assert_eq!(
        data_of("Key=K|New Value=xyz|Data Type=4"),
        Data::Raw {
            kind: 4,
            bytes: b"xyz".to_vec()
        }
    );
    assert_eq!(
        data_of("Key=K|New Value=q|Data Type=5"),
        Data::Raw {
            kind: 5,
            bytes: b"q".to_vec()
        }
    );
    assert_eq!(
        data_of("Key=K|New Value=q|Data Type=two"),
        Data::Raw {
            kind: u32::MAX,
            bytes: b"q".to_vec()
        }
    );
}

#[test]
fn value_names_and_key_only_writes() {
    let text = flat(&[
        "Key=A|Root=2",
        "Key=B|Value Name=|New Value=x|Root=2",
        "Key=C|New Value=x|Root=2",
        "Key=D|Value Name=Name|Root=2",
    ]);
    let m = model(text.as_bytes());
    let got: Vec<_> = m
        .writes()
        .map(|w| (w.key.as_ref(), w.value.as_deref(), w.data.clone()))
        .collect();
    assert_eq!(
        got,
        [
            (&b"A"[..], None, Data::None),
            (b"B", Some(&b""[..]), Data::Sz(b("x"))),
            (b"C", Some(b""), Data::Sz(b("x"))),
            (b"D", Some(b"Name"), Data::Sz(b(""))),
        ]
    );
}

#[test]
fn hives_and_deletions() {
    let text = flat(&[
        "Key=R",
        "Key=U|Root=1",
        "Key=M|Root=2",
        "Key=S|Root=3",
        "Key=del tree|Root=130",
        "Key=del value|Value Name=V|Root=194",
        "Key=odd|Root=9",
        "Key=bad|Root=x",
    ]);
    let m = model(text.as_bytes());
    let got: Vec<_> = m.writes().map(|w| (w.key.as_ref(), w.hive)).collect();
    assert_eq!(
        got,
        [
            (&b"R"[..], Hive::ClassesRoot),
            (b"U", Hive::CurrentUser),
            (b"M", Hive::LocalMachine),
            (b"S", Hive::Users),
            (b"odd", Hive::Unknown),
        ]
    );
    // Deletions are operations too (`Root & 0xE0`: 0x80 the key tree, 0xC0 the value), in
    // item order; an unreadable `Root` is none.
    let ops: Vec<_> = m
        .ops
        .iter()
        .map(|o| (o.key.as_ref(), o.kind, o.value.as_deref()))
        .collect();
    assert_eq!(
        ops[4..],
        [
            (&b"del tree"[..], OpKind::DeleteKey, None),
            (b"del value", OpKind::DeleteValue, Some(&b"V"[..])),
            (b"odd", OpKind::CreateKey, None),
        ]
    );
    assert!(m.ops.windows(2).all(|w| w[0].seq < w[1].seq));
}

const NESTED: &str = concat!(
    "Document Type: WSE\r\n",
    "item: Remark\r\n",
    "end\r\n",
    "item: If/While Statement\r\n",
    "  Variable=X\r\n",
    "end\r\n",
    "item: Edit Registry\r\n",
    "  Total Keys=3\r\n",
    "  item: Key\r\n",
    "    Key=Software\\A\r\n",
    "    New Value=1\r\n",
    "    Value Name=One\r\n",
    "    Root=2\r\n",
    "    Data Type=3\r\n",
    "    x64 Support=1\r\n",
    "  end\r\n",
    "  remarked item: Key\r\n",
    "    Key=Software\\B\r\n",
    "    Root=2\r\n",
    "  end\r\n",
    "  item: Key\r\n",
    "    Key=Software\\C\r\n",
    "    Root=2\r\n",
    "  end\r\n",
    "end\r\n",
    "item: End Block\r\n",
    "end\r\n",
    "remarked item: Edit Registry\r\n",
    "  Total Keys=1\r\n",
    "  Key=Software\\Remarked\r\n",
    "end\r\n",
    "item: Custom Dialog Set\r\n",
    "  item: Dialog\r\n",
    "    item: Edit Registry\r\n",
    "      Total Keys=1\r\n",
    "      Key=Software\\InDialog\r\n",
    "      Root=1\r\n",
    "    end\r\n",
    "  end\r\n",
    "end\r\n",
    "remarked item: Custom Dialog Set\r\n",
    "  item: Edit Registry\r\n",
    "    Key=Software\\UnderRemarked\r\n",
    "  end\r\n",
    "end\r\n",
);

fn write<'a>(m: &'a FileModel<'a>, key: &str) -> &'a Operation<'a> {
    m.writes()
        .find(|w| w.key.as_ref() == key.as_bytes())
        .unwrap_or_else(|| panic!("no write of {key}"))
}

#[test]
fn nested_keys_origins_ranges_and_blocks() {
    let text = NESTED.as_bytes();
    let m = model(text);
    let keys: Vec<&[u8]> = m.writes().map(|w| w.key.as_ref()).collect();
    assert_eq!(
        keys,
        [&b"Software\\A"[..], b"Software\\C", b"Software\\InDialog"],
        "remarked keys and items (and items under remarked ones) are skipped"
    );

    let a = write(&m, "Software\\A");
    assert_eq!(
        a.origin,
        Origin {
            container: 2,
            index: 0
        }
    );
    assert_eq!(a.block, 1);
    assert!(a.wow64_64);
    assert_eq!(a.value.as_deref(), Some(&b"One"[..]));
    assert_eq!(a.data, Data::Dword(1));
    assert_eq!(&text[a.key_range.unwrap().as_range()], b"Software\\A");
    assert_eq!(&text[a.range.as_range()], b"Key=Software\\A");
    assert!(text[a.record.as_range()].starts_with(b"  item: Key\r\n    Key=Software\\A"));
    assert!(text[a.record.as_range()].ends_with(b"x64 Support=1\r\n  end\r\n"));

    let c = write(&m, "Software\\C");
    assert_eq!(
        c.origin,
        Origin {
            container: 2,
            index: 2
        },
        "the remarked key keeps its position"
    );
    assert_eq!((c.value.clone(), c.data.clone()), (None, Data::None));
    assert!(!c.wow64_64);

    // Preorder index: Remark 0, If 1, ER 2, keys 3-5, End Block 6, remarked ER 7, set 8,
    // dialog 9, ER 10.
    let d = write(&m, "Software\\InDialog");
    assert_eq!(
        d.origin,
        Origin {
            container: 10,
            index: 0
        }
    );
    assert_eq!(d.hive, Hive::CurrentUser);
    assert_eq!(d.block, 0);
    assert!(text[d.record.as_range()].starts_with(b"    item: Edit Registry\r\n"));
}

#[test]
fn create_service_items() {
    let text = concat!(
        "Document Type: IPF\r\n",
        "item: Check Configuration\r\n",
        "  Flags=10111011\r\n",
        "end\r\n",
        "item: Create Service\r\n",
        "  Service Name=WspEventRouter\r\n",
        "  Executable Path=%MAINDIR%\\WspEventRouter.exe\r\n",
        "  Login User=NT AUTHORITY\\NetworkService\r\n",
        "  Service Type=16\r\n",
        "  Display Name English=Wsp Event Router\r\n",
        "  Unknown Field=kept\r\n",
        "end\r\n",
        "item: End Block\r\n",
        "end\r\n",
        "remarked item: Create Service\r\n",
        "  Service Name=Off\r\n",
        "end\r\n",
        "item: Create Service\r\n",
        "end\r\n",
    )
    .as_bytes();
    let m = model(text);
    assert_eq!(m.services.len(), 2);
    let s = &m.services[0];
    assert_eq!(&*s.name, b"WspEventRouter");
    let keys: Vec<&[u8]> = s.fields.iter().map(|f| f.label).collect();
    assert_eq!(
        keys,
        [
            &b"Service Name"[..],
            b"Executable Path",
            b"Login User",
            b"Service Type",
            b"Display Name English",
            b"Unknown Field"
        ]
    );
    // Typed as the Service Control Manager takes them; absent numbers are 0.
    assert_eq!(s.field(ServiceValue::Type).unwrap().value, b"16");
    assert_eq!(
        (s.service_type, s.start, s.error_control),
        (Some(16), Some(0), Some(0))
    );
    assert_eq!(s.image_path, Some(&b"%MAINDIR%\\WspEventRouter.exe"[..]));
    assert_eq!(s.account, Some(&b"NT AUTHORITY\\NetworkService"[..]));
    assert_eq!(s.display_name, Some(&b"Wsp Event Router"[..]));
    assert_eq!(
        s.field(ServiceValue::DisplayName).unwrap().label,
        b"Display Name English"
    );
    assert_eq!(s.group, None);
    assert!(!s.settable.contains(&ServiceValue::Group));
    assert_eq!(s.fields[5].sets, None);
    let f = &s.fields[2];
    assert_eq!(
        &text[f.line.as_range()],
        b"  Login User=NT AUTHORITY\\NetworkService\r\n"
    );
    assert_eq!(
        &text[f.value_range.as_range()],
        b"NT AUTHORITY\\NetworkService"
    );
    assert_eq!(&text[s.head.as_range()], b"item: Create Service");
    assert!(text[s.range.as_range()].starts_with(b"item: Create Service\r\n"));
    assert!(text[s.range.as_range()].ends_with(b"kept\r\nend\r\n"));
    assert_eq!(
        s.handle,
        Origin {
            container: 1,
            index: 0
        }
    );
    assert_eq!(s.block, 1);
    let empty = &m.services[1];
    assert_eq!(&*empty.name, b"");
    assert!(empty.fields.is_empty());
    assert_eq!(empty.handle.container, 4);
    assert_eq!(empty.block, 0);
}
