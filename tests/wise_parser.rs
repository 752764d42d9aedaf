//! Edge cases of the WiseScript parser and its views, each asserting the parsed structure.

use svcscrub::detect::ScriptKind;
use svcscrub::syntax::wise::{
    self, BlockRole, Document, ItemKind, Prefix, RegOp, RegistryForm, RootField,
};
use svcscrub::text::{LineCol, LineIndex, TextRange};

fn parse(text: &[u8]) -> Document {
    let doc = wise::parse(text, ScriptKind::Wse)
        .unwrap_or_else(|e| panic!("parse failed at {}: {}", e.offset, e.message));
    assert_eq!(doc.print(text), text);
    doc
}

fn s(text: &[u8], r: TextRange) -> &str {
    std::str::from_utf8(&text[r.as_range()]).unwrap()
}

/// (offset, line:column, message) of a parse error.
fn error(text: &[u8]) -> (usize, LineCol, String) {
    let e = wise::parse(text, ScriptKind::Wse).unwrap_err();
    let pos = LineIndex::new(text, false).line_col(text, e.offset);
    (e.offset, pos, e.message)
}

fn lc(line: usize, column: usize) -> LineCol {
    LineCol { line, column }
}

/// (name, depth, block) of every item, in preorder.
fn outline(doc: &Document, text: &[u8]) -> Vec<(String, u32, u32)> {
    doc.items()
        .iter()
        .enumerate()
        .map(|(k, i)| (s(text, i.name()).to_owned(), i.depth(), doc.block(k as u32)))
        .collect()
}

#[test]
fn header_only() {
    let text = b"Document Type: IPF\r\n";
    let doc = wise::parse(text, ScriptKind::Ipf).unwrap();
    assert_eq!(doc.kind, ScriptKind::Ipf);
    assert_eq!(doc.header, TextRange::new(0, 20));
    assert!(doc.items().is_empty());
    assert_eq!(doc.print(text), text);
}

#[test]
fn item_ranges() {
    let text = b"Document Type: WSE\r\nitem: Set Variable\r\n  Variable=A\r\n  Value=1\r\nend\r\n";
    let doc = parse(text);
    let [item] = doc.items() else { panic!() };
    assert_eq!(item.range(), TextRange::new(20, text.len()));
    assert_eq!(s(text, item.head()), "item: Set Variable\r\n");
    assert_eq!(s(text, item.name()), "Set Variable");
    assert_eq!(item.prefix(), Prefix::None);
    assert_eq!(item.prefix_range(), TextRange::empty(20));
    assert_eq!(s(text, item.end_line()), "end\r\n");
    assert_eq!(s(text, item.head_text()), "item: Set Variable");
    assert_eq!(
        (item.depth(), item.kind(), item.active()),
        (0, ItemKind::Other, true)
    );
    let props: Vec<_> = doc.props_of(0).collect();
    assert_eq!(props.len(), 2);
    assert_eq!(s(text, props[0].line()), "  Variable=A\r\n");
    assert_eq!(s(text, props[0].key()), "Variable");
    assert_eq!(s(text, props[0].value()), "A");
    assert_eq!(s(text, props[0].eol()), "\r\n");
    assert_eq!(s(text, props[1].text_range()), "Value=1");
    assert_eq!(props[1].indent(), 2);
}

#[test]
fn remarked_and_breakpoint_prefixes() {
    let text =
        b"Document Type: WSE\nremarked item: Remark\n  Text=x\nend\nbreakpoint item: Remark\nend\n";
    let doc = parse(text);
    let items = doc.items();
    assert_eq!(items[0].prefix(), Prefix::Remarked);
    assert_eq!(s(text, items[0].prefix_range()), "remarked ");
    assert_eq!(s(text, items[0].name()), "Remark");
    assert_eq!(items[0].kind(), ItemKind::Remark);
    assert!(!items[0].active());
    assert_eq!(items[1].prefix(), Prefix::Breakpoint);
    assert_eq!(s(text, items[1].prefix_range()), "breakpoint ");
    assert!(items[1].active());
}

#[test]
fn remarked_item_with_children() {
    let text = concat!(
        "Document Type: WSE\r\n",
        "remarked item: Custom Graphic\r\n",
        "  Width=10\r\n",
        "  item: Rectangle\r\n",
        "    Rectangle=1 2 3 4\r\n",
        "  end\r\n",
        "  item: Ellipse\r\n",
        "  end\r\n",
        "end\r\n",
        "item: Remark\r\n",
        "end\r\n",
    )
    .as_bytes();
    let doc = parse(text);
    assert_eq!(
        outline(&doc, text),
        [
            ("Custom Graphic".into(), 0, 0),
            ("Rectangle".into(), 1, 0),
            ("Ellipse".into(), 1, 0),
            ("Remark".into(), 0, 0)
        ]
    );
    let active: Vec<bool> = doc.items().iter().map(|i| i.active()).collect();
    assert_eq!(active, [false, false, false, true]);
    assert_eq!(doc.items()[1].prefix(), Prefix::None);
    assert_eq!(doc.items()[1].parent(), Some(0));
    assert_eq!(doc.children(0).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(doc.top_level().collect::<Vec<_>>(), [0, 3]);
    assert_eq!(doc.items()[0].subtree_end(), 3);
    assert_eq!(
        s(text, doc.items()[1].range()),
        "  item: Rectangle\r\n    Rectangle=1 2 3 4\r\n  end\r\n"
    );
    assert_eq!(doc.props_of(0).count(), 1);
    assert_eq!(s(text, doc.props_of(1).next().unwrap().value()), "1 2 3 4");
}

#[test]
fn values_are_verbatim() {
    let text = b"Document Type: WSE\r\nitem: X\r\n  A=  two leading\r\n  B=trailing  \r\n  C=\ttab\t\r\n  D=x=y==\r\n  E=\r\n  F= \r\n  Text English=a = b\r\nend\r\n";
    let doc = parse(text);
    let pairs: Vec<(&str, &str)> = doc
        .props_of(0)
        .map(|p| (s(text, p.key()), s(text, p.value())))
        .collect();
    assert_eq!(
        pairs,
        [
            ("A", "  two leading"),
            ("B", "trailing  "),
            ("C", "\ttab\t"),
            ("D", "x=y=="),
            ("E", ""),
            ("F", " "),
            ("Text English", "a = b"),
        ]
    );
}

#[test]
fn repeated_keys_keep_their_order() {
    let text =
        b"Document Type: WSE\nitem: Remark\n  Text=one\n  Text=two\n  Other=x\n  Text=three\nend\n";
    let doc = parse(text);
    let texts: Vec<&str> = doc
        .props_of(0)
        .filter(|p| p.key_is(text, "text"))
        .map(|p| s(text, p.value()))
        .collect();
    assert_eq!(texts, ["one", "two", "three"]);
    assert_eq!(s(text, doc.prop(text, 0, "Text").unwrap().value()), "one");
}

#[test]
fn line_endings_are_kept_per_line() {
    // Mixed CRLF / LF, no final newline.
    let text = b"Document Type: WSE\r\nitem: X\n  A=1\r\n  B=ab\nend";
    let doc = parse(text);
    let props: Vec<_> = doc.props_of(0).collect();
    assert_eq!(s(text, props[0].eol()), "\r\n");
    assert_eq!(s(text, props[1].value()), "ab");
    assert_eq!(s(text, props[1].eol()), "\n");
    assert_eq!(s(text, doc.items()[0].head()), "item: X\n");
    assert_eq!(s(text, doc.items()[0].end_line()), "end");
    assert_eq!(doc.items()[0].range().end, text.len());

    // A lone CR (inside a value, or ending a line) is refused where it stands: the installer
    // may read it as a line break or as a byte of the value.
    let text = b"Document Type: WSE\r\nitem: X\n  A=1\r\n  B=a\rb\nend";
    assert_eq!(
        error(text),
        (
            40,
            LineCol { line: 4, column: 6 },
            "lone CR (a carriage return without a line feed): script lines end with CR LF or LF; convert the line endings".to_string()
        )
    );
    let text = b"Document Type: WSE\ritem: X\rend\r";
    assert_eq!(error(text).0, 18);

    // Missing final newline after a property is an unclosed item, not a crash.
    let text = b"Document Type: WSE\nitem: X\n  A=1";
    assert_eq!(error(text).0, text.len());
}

#[test]
fn blank_lines_are_trivia() {
    let text = b"Document Type: WSE\r\n\r\nitem: X\r\n\r\n  A=1\r\n   \r\nend\r\n\r\n";
    let doc = parse(text);
    let blanks: Vec<&str> = doc.blank_lines().iter().map(|r| s(text, *r)).collect();
    assert_eq!(blanks, ["\r\n", "\r\n", "   \r\n", "\r\n"]);
    assert_eq!(doc.items().len(), 1);
    assert_eq!(doc.props_of(0).count(), 1);
    // A file ending `end\r\n\r\n` (tcl.wse.in) and one ending in a blank line without EOL.
    let text = b"Document Type: WSE\r\nitem: X\r\nend\r\n\r\n";
    assert_eq!(parse(text).blank_lines(), [TextRange::new(34, 36)]);
    let text = b"Document Type: WSE\nitem: X\nend\n  ";
    assert_eq!(parse(text).blank_lines(), [TextRange::new(31, 33)]);
}

#[test]
fn end_may_carry_trailing_blanks() {
    let text = b"Document Type: WSE\nitem: X\nend \t\n";
    let doc = parse(text);
    assert_eq!(s(text, doc.items()[0].end_line()), "end \t\n");
}

#[test]
fn long_lines_between_short_ones() {
    // Lines too long for the tree's two-byte line records (content over 511 bytes, key over 61
    // bytes, or both) read back like short ones, blank ones included.
    let long_value = "v=".repeat(300);
    let long_key = "K".repeat(70);
    let blank = " ".repeat(600);
    let text = format!(
        "Document Type: WSE\r\nitem: Dialog\r\n  A={long_value}\r\n{blank}\n  item: Static\r\n    \
         {long_key}=1\n  {blank}\r\n  end\r\n  B=2\r\n  {long_key}={long_value}\nend\r\n"
    );
    let text = text.as_bytes();
    let doc = parse(text);
    let own: Vec<(&str, &str)> = doc
        .props_of(0)
        .map(|p| (s(text, p.key()), s(text, p.value())))
        .collect();
    assert_eq!(
        own,
        [
            ("A", long_value.as_str()),
            ("B", "2"),
            (long_key.as_str(), long_value.as_str())
        ]
    );
    let child: Vec<_> = doc.props_of(1).collect();
    assert_eq!(child.len(), 1);
    assert_eq!(s(text, child[0].key()), long_key);
    assert_eq!(s(text, child[0].eol()), "\n");
    assert_eq!(child[0].indent(), 4);
    let last = doc.props_of(0).last().unwrap();
    assert_eq!(s(text, last.line()), format!("  {long_key}={long_value}\n"));
    assert_eq!(doc.blank_lines().len(), 2);
}

#[test]
fn properties_between_children_at_every_depth() {
    let text = b"Document Type: WSE\nitem: A\n  A1=1\n  item: B\n    B1=1\n    item: C\n      C1=1\n    end\n    B2=2\n\n    item: D\n    end\n    B3=3\n  end\n  A2=2\n  item: E\n    E1=1\n  end\n  \n  A3=3\nend\nitem: F\n  F1=1\nend\n";
    let doc = parse(text);
    let keys = |i: u32| -> Vec<&str> { doc.props_of(i).map(|p| s(text, p.key())).collect() };
    assert_eq!(keys(0), ["A1", "A2", "A3"]);
    assert_eq!(keys(1), ["B1", "B2", "B3"]);
    assert_eq!(keys(2), ["C1"]);
    assert!(keys(3).is_empty());
    assert_eq!(keys(4), ["E1"]);
    assert_eq!(keys(5), ["F1"]);
}

#[test]
fn property_after_a_child_item() {
    let text =
        b"Document Type: WSE\nitem: Dialog\n  A=1\n  item: Static\n    B=2\n  end\n  C=3\nend\n";
    let doc = parse(text);
    let own: Vec<&str> = doc.props_of(0).map(|p| s(text, p.key())).collect();
    assert_eq!(own, ["A", "C"]);
    let child: Vec<&str> = doc.props_of(1).map(|p| s(text, p.key())).collect();
    assert_eq!(child, ["B"]);
}

#[test]
fn unknown_items_and_names_are_kept() {
    let text = b"Document Type: WSE\nitem: Frobnicate Widget\n  Weird Key=v\nend\nitem: \nend\n";
    let doc = parse(text);
    assert_eq!(doc.items()[0].kind(), ItemKind::Other);
    assert_eq!(s(text, doc.items()[1].name()), "");
}

#[test]
fn error_end_without_open_item() {
    let text = b"Document Type: WSE\r\nitem: X\r\nend\r\nend\r\n";
    let (offset, pos, message) = error(text);
    assert_eq!((offset, pos), (34, lc(4, 1)));
    assert_eq!(
        message,
        "`end` with no open item: expected `item: <action>` or the end of the file"
    );
}

#[test]
fn error_item_never_closed() {
    let text = b"Document Type: WSE\nitem: Edit Registry\n  Total Keys=2\n  item: Key\n    Key=A\n";
    let (offset, pos, message) = error(text);
    assert_eq!((offset, pos), (text.len(), lc(6, 1)));
    assert_eq!(
        message,
        "unexpected end of file: expected `end` (indented 2 spaces) to close `item: Key` from line 4"
    );
}

#[test]
fn error_property_outside_item() {
    let text = b"Document Type: WSE\nitem: X\nend\n  Stray=1\n";
    let (offset, pos, message) = error(text);
    assert_eq!((offset, pos), (33, lc(4, 3)));
    assert_eq!(
        message,
        "property outside any item: expected `item: <action>`"
    );
}

#[test]
fn error_odd_indentation() {
    let text = b"Document Type: WSE\nitem: X\n   A=1\nend\n";
    let (offset, pos, message) = error(text);
    assert_eq!((offset, pos), (27, lc(3, 1)));
    assert_eq!(
        message,
        "indentation of 3 spaces matches no open item (items nest by 2 spaces): expected 2 spaces inside `item: X` from line 2"
    );
}

#[test]
fn error_too_deep_indentation() {
    let text = b"Document Type: WSE\nitem: X\n    item: Y\n    end\nend\n";
    let (offset, pos, message) = error(text);
    assert_eq!((offset, pos), (27, lc(3, 1)));
    assert_eq!(
        message,
        "indentation of 4 spaces matches no open item: expected 2 spaces inside `item: X` from line 2"
    );
    let (_, pos, message) = error(b"Document Type: WSE\n  item: X\n  end\n");
    assert_eq!(pos, lc(2, 1));
    assert_eq!(
        message,
        "indentation of 2 spaces matches no open item: expected 0 spaces at the top level"
    );
}

#[test]
fn error_end_at_wrong_indentation() {
    // The Key's `end` is missing: the item's `end` at 0 spaces cannot close `item: Key`.
    let text = b"Document Type: WSE\nitem: Edit Registry\n  item: Key\n    Key=A\nend\n";
    let (offset, pos, message) = error(text);
    assert_eq!((offset, pos), (61, lc(5, 1)));
    assert_eq!(
        message,
        "indentation of 0 spaces matches no open item: expected 2 spaces inside `item: Key` from line 3"
    );
}

#[test]
fn error_garbage_line() {
    let text = b"Document Type: WSE\nitem: X\n  #Hello#\nend\n";
    let (offset, pos, message) = error(text);
    assert_eq!((offset, pos), (29, lc(3, 3)));
    assert_eq!(
        message,
        "unrecognised line: expected `item: <action>`, `end` or a `key=value` property"
    );
    // A tab is not indentation.
    assert_eq!(error(b"Document Type: WSE\n\titem: X\nend\n").1, lc(2, 1));
}

#[test]
fn error_missing_header() {
    for text in [&b""[..], b"item: X\nend\n", b"\r\nDocument Type: WSE\r\n"] {
        let (offset, _, message) = error(text);
        assert_eq!(offset, 0);
        assert_eq!(
            message,
            "expected the header `Document Type: WSE` or `Document Type: IPF` on the first line"
        );
    }
}

const FORMS: &[u8] = concat!(
    "Document Type: WSE\r\n",
    "item: Edit Registry\r\n",
    "  Key=Software\\Wise5\r\n",
    "  New Value=a\r\n",
    "  Root=2\r\n",
    "end\r\n",
    "item: Edit Registry\r\n",
    "  Total Keys=1\r\n",
    "  Key=Software\\Flat\r\n",
    "  Value Name=V\r\n",
    "  Root=130\r\n",
    "  Data Type=3\r\n",
    "  x64 Support=1\r\n",
    "end\r\n",
    "item: Edit Registry\r\n",
    "  Total Keys=2\r\n",
    "  item: Key\r\n",
    "    Key=Software\\N1\r\n",
    "    New Value=x\r\n",
    "    New Value=y\r\n",
    "    Root=194\r\n",
    "    Data Type=2\r\n",
    "  end\r\n",
    "  item: Key\r\n",
    "    Key=Software\\N2\r\n",
    "    Root=abc\r\n",
    "    Data Type=x\r\n",
    "  end\r\n",
    "end\r\n",
)
.as_bytes();

#[test]
fn edit_registry_forms() {
    let text = FORMS;
    let doc = parse(text);
    let er: Vec<_> = (0..doc.items().len() as u32)
        .filter_map(|i| doc.edit_registry(text, i))
        .collect();
    let forms: Vec<_> = er.iter().map(|r| (r.item, r.form, r.key_count())).collect();
    assert_eq!(
        forms,
        [
            (0, RegistryForm::Wise5, 1),
            (1, RegistryForm::Flat, 1),
            (2, RegistryForm::Nested, 2)
        ]
    );
    assert!(er[0].total_keys.is_none());
    assert_eq!(er[2].total_keys_value(text), Some(2));
    assert!(
        doc.edit_registry(text, 3).is_none(),
        "a Key is not an Edit Registry"
    );

    let k = er[0].keys().next().unwrap();
    assert_eq!((k.holder, k.index), (0, 0));
    assert_eq!(
        k.key(text).map(|p| s(text, p.value())),
        Some("Software\\Wise5")
    );
    assert_eq!(k.root(text), RootField::Number(2));
    assert_eq!(k.op(text), RegOp::Write);
    assert_eq!(k.data_type(text), Some(0));
    assert!(!k.x64(text));
    assert_eq!(k.record(), doc.items()[0].range());

    let k = er[1].keys().next().unwrap();
    assert_eq!(k.value_name(text).map(|p| s(text, p.value())), Some("V"));
    assert_eq!(k.op(text), RegOp::DeleteKey);
    assert_eq!(k.data_type(text), Some(3));
    assert!(k.x64(text));

    let keys: Vec<_> = er[2].keys().collect();
    assert_eq!(
        keys.iter().map(|k| (k.holder, k.index)).collect::<Vec<_>>(),
        [(3, 0), (4, 1)]
    );
    let values: Vec<&str> = keys[0]
        .new_values(text)
        .map(|p| s(text, p.value()))
        .collect();
    assert_eq!(values, ["x", "y"]);
    assert_eq!(keys[0].op(text), RegOp::DeleteValue);
    assert_eq!(keys[0].data_type(text), Some(2));
    assert_eq!(keys[1].root(text), RootField::Invalid);
    assert_eq!(keys[1].op(text), RegOp::Unknown(u32::MAX));
    assert_eq!(keys[1].data_type(text), None);
    assert_eq!(keys[1].record(), doc.items()[4].range());
    assert_eq!(doc.items()[3].kind(), ItemKind::Key);
}

#[test]
fn root_bits() {
    assert_eq!(RootField::Absent.op(), RegOp::Write);
    assert_eq!(RootField::Absent.number(), Some(0));
    assert_eq!(RootField::Number(1).op(), RegOp::Write);
    assert_eq!(RootField::Number(129).op(), RegOp::DeleteKey);
    assert_eq!(RootField::Number(130).op(), RegOp::DeleteKey);
    assert_eq!(RootField::Number(194).op(), RegOp::DeleteValue);
    assert_eq!(RootField::Number(0x22).op(), RegOp::Unknown(0x20));
    assert_eq!(RootField::Invalid.number(), None);
    assert_eq!(wise::parse_u32(b"42"), Some(42));
    assert_eq!(wise::parse_u32(b" 42"), None);
    assert_eq!(wise::parse_u32(b"-1"), None);
    assert_eq!(wise::parse_u32(b"4294967296"), None);
    assert!(wise::flag_bit(b"00000100", 2));
    assert!(!wise::flag_bit(b"00000100", 1));
    assert!(wise::flag_bit(b"10000000", 7));
    assert!(!wise::flag_bit(b"100", 7));
}

/// Builds a script of empty top-level items named by `names` (`Name|Flags` adds a Flags line,
/// a leading `#` remarks the item).
fn script(names: &[&str]) -> Vec<u8> {
    let mut text = b"Document Type: WSE\r\n".to_vec();
    for name in names {
        let (name, remarked) = match name.strip_prefix('#') {
            Some(n) => (n, "remarked "),
            None => (*name, ""),
        };
        let (name, flags) = name.split_once('|').unwrap_or((name, ""));
        text.extend_from_slice(format!("{remarked}item: {name}\r\n").as_bytes());
        if !flags.is_empty() {
            text.extend_from_slice(format!("  Flags={flags}\r\n").as_bytes());
        }
        text.extend_from_slice(b"end\r\n");
    }
    text
}

fn blocks(names: &[&str]) -> Vec<u32> {
    let text = script(names);
    let doc = parse(&text);
    doc.top_level().map(|i| doc.block(i)).collect()
}

#[test]
fn blocks_if_elseif_else() {
    assert_eq!(
        blocks(&[
            "A",
            "If/While Statement",
            "B",
            "ElseIf Statement",
            "C",
            "Else Statement",
            "D",
            "End Block",
            "E",
        ]),
        [0, 0, 1, 0, 2, 0, 3, 0, 0]
    );
}

#[test]
fn blocks_nested_ifs_and_unmatched_end() {
    assert_eq!(
        blocks(&[
            "End Block",
            "Else Statement",
            "If/While Statement",
            "If/While Statement",
            "A",
            "Else Statement",
            "B",
            "End Block",
            "C",
            "End Block",
            "D",
        ]),
        [0, 0, 0, 1, 2, 1, 3, 1, 1, 0, 0]
    );
}

#[test]
fn blocks_compiler_variables() {
    assert_eq!(
        blocks(&[
            "Compiler Variable If",
            "A",
            "If/While Statement",
            "B",
            "End Block",
            "Compiler Variable Else",
            "C",
            "Compiler Variable End",
            "Compiler Variable End",
            "D",
        ]),
        [0, 1, 1, 2, 1, 0, 3, 0, 0, 0]
    );
    // An include body closing its includer's compile-time region leaves run-time regions alone.
    assert_eq!(
        blocks(&[
            "If/While Statement",
            "Compiler Variable End",
            "A",
            "End Block",
        ]),
        [0, 1, 1, 0]
    );
}

#[test]
fn blocks_flag_dependent_openers() {
    let names = [
        "Check if File/Dir Exists|00000100",
        "A",
        "Check if File/Dir Exists|00000010",
        "B",
        "Display Message|00101101",
        "C",
        "Display Message|00100000",
        "Display Message",
        "D",
        "End Block",
        "End Block",
        "Check Configuration|10111011",
        "E",
        "End Block",
        "Check Configuration|01011111",
        "Check Configuration",
        "F",
        "End Block",
        "Wizard Block|00000011",
        "G",
        "End Block",
    ];
    assert_eq!(
        blocks(&names),
        [
            0, 1, 1, 1, 1, 2, 2, 2, 2, 1, 0, 0, 3, 0, 0, 0, 4, 0, 0, 5, 0
        ]
    );
    let text = script(&names);
    let doc = parse(&text);
    let roles: Vec<BlockRole> = doc.items().iter().map(|i| i.role()).collect();
    assert_eq!(roles[0], BlockRole::Open);
    assert_eq!(roles[2], BlockRole::None);
    assert_eq!(roles[9], BlockRole::Close);
    assert_eq!(roles[14], BlockRole::None);
}

#[test]
fn remarked_control_items_change_nothing() {
    assert_eq!(
        blocks(&["#If/While Statement", "A", "#End Block", "B"]),
        [0, 0, 0, 0]
    );
}

#[test]
fn nested_items_share_their_ancestors_block() {
    let text = b"Document Type: WSE\nitem: If/While Statement\nend\nitem: Custom Dialog Set\n  item: Dialog\n    item: If/While Statement\n    end\n    item: Edit Registry\n      Total Keys=1\n      Key=K\n    end\n  end\nend\nitem: End Block\nend\n";
    let doc = parse(text);
    assert_eq!(
        outline(&doc, text),
        [
            ("If/While Statement".into(), 0, 0),
            ("Custom Dialog Set".into(), 0, 1),
            ("Dialog".into(), 1, 1),
            ("If/While Statement".into(), 2, 1),
            ("Edit Registry".into(), 2, 1),
            ("End Block".into(), 0, 0),
        ]
    );
    assert_eq!(
        doc.items()[3].role(),
        BlockRole::None,
        "nested control items do not count"
    );
}

#[test]
fn wide_nested_edit_registry_does_not_recurse() {
    const KEYS: usize = 1_000_000;
    let mut text = b"Document Type: WSE\nitem: Edit Registry\n  Total Keys=1000000\n".to_vec();
    for _ in 0..KEYS {
        text.extend_from_slice(b"  item: Key\n    Key=a\n  end\n");
    }
    text.extend_from_slice(b"end\n");
    let doc = parse(&text);
    let er = doc.edit_registry(&text, 0).unwrap();
    assert_eq!(er.form, RegistryForm::Nested);
    assert_eq!(er.key_count(), KEYS);
    assert_eq!(er.total_keys_value(&text), Some(KEYS as u32));
}

#[test]
fn deep_nesting_uses_no_recursion() {
    const DEPTH: usize = 1500;
    let mut text = b"Document Type: WSE\n".to_vec();
    for d in 0..DEPTH {
        text.extend(std::iter::repeat_n(b' ', 2 * d));
        text.extend_from_slice(b"item: N\n");
    }
    for d in (0..DEPTH).rev() {
        text.extend(std::iter::repeat_n(b' ', 2 * d));
        text.extend_from_slice(b"end\n");
    }
    let doc = parse(&text);
    assert_eq!(doc.items().len(), DEPTH);
    assert_eq!(doc.items().last().unwrap().depth(), DEPTH as u32 - 1);
    assert_eq!(doc.items()[0].range(), TextRange::new(19, text.len()));
}
