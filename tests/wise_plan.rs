//! The WiseScript edit planner: exact output texts, and the output always re-parses.

use svcscrub::detect::ScriptKind;
use svcscrub::fix::{Change, Edit, apply_edits, wise::plan};
use svcscrub::model::{Origin, wise::lower};
use svcscrub::syntax::wise::{self, RegistryForm};
use svcscrub::text::TextRange;

fn origin(container: u32, index: u32) -> Origin {
    Origin { container, index }
}

fn remove(container: u32, index: u32) -> Change {
    Change::RemoveWrite(origin(container, index))
}

/// Plans and applies `changes`; checks the edits are sorted and disjoint and the result parses.
fn fix(text: &str, changes: &[Change]) -> String {
    let doc = wise::parse(text.as_bytes(), ScriptKind::Wse).unwrap();
    let edits = plan(&doc, text.as_bytes(), changes);
    for pair in edits.windows(2) {
        assert!(pair[0].range.end <= pair[1].range.start, "{edits:?}");
    }
    let out = apply_edits(text.as_bytes(), &edits).unwrap();
    wise::parse(&out, ScriptKind::Wse)
        .unwrap_or_else(|e| panic!("output does not parse: {}", e.message));
    String::from_utf8(out).unwrap()
}

const HEAD: &str = "Document Type: WSE\r\nitem: Remark\r\n  Text=before\r\nend\r\n";
const TAIL: &str = "item: Remark\r\n  Text=after\r\nend\r\n";

/// `lines` joined, each ending with `eol`.
fn lines(eol: &str, lines: &[&str]) -> String {
    lines.iter().map(|l| format!("{l}{eol}")).collect()
}

fn three_keys(total: &str) -> String {
    let body = lines(
        "\r\n",
        &[
            "item: Edit Registry",
            &format!("  Total Keys={total}"),
            "  item: Key",
            "    Key=Software\\A",
            "    New Value=1",
            "    Root=2",
            "  end",
            "  item: Key",
            "    Key=Software\\B",
            "    Value Name=  spaced = value\t",
            "    Root=2",
            "  end",
            "  item: Key",
            "    Key=Software\\C",
            "    Root=2",
            "  end",
            "end",
        ],
    );
    format!("{HEAD}{body}{TAIL}")
}

#[test]
fn remove_one_of_three_keys() {
    let text = three_keys("3");
    let out = fix(&text, &[remove(1, 1)]);
    let body = lines(
        "\r\n",
        &[
            "item: Edit Registry",
            "  Total Keys=2",
            "  item: Key",
            "    Key=Software\\A",
            "    New Value=1",
            "    Root=2",
            "  end",
            "  item: Key",
            "    Key=Software\\C",
            "    Root=2",
            "  end",
            "end",
        ],
    );
    assert_eq!(out, format!("{HEAD}{body}{TAIL}"));
}

#[test]
fn remove_two_of_three_keys_gives_the_flat_form() {
    let text = three_keys("3");
    let out = fix(&text, &[remove(1, 0), remove(1, 2)]);
    let expected = format!(
        "{HEAD}item: Edit Registry\r\n  Total Keys=1\r\n  Key=Software\\B\r\n  Value Name=  spaced = value\t\r\n  Root=2\r\nend\r\n{TAIL}"
    );
    assert_eq!(out, expected);
    let doc = wise::parse(out.as_bytes(), ScriptKind::Wse).unwrap();
    assert_eq!(
        doc.edit_registry(out.as_bytes(), 1).unwrap().form,
        RegistryForm::Flat
    );
}

#[test]
fn remove_all_keys_removes_the_item() {
    let text = three_keys("3");
    let out = fix(
        &text,
        &[remove(1, 2), remove(1, 0), remove(1, 1), remove(1, 1)],
    );
    assert_eq!(out, format!("{HEAD}{TAIL}"));
}

#[test]
fn total_keys_is_renumbered_from_the_keys_present() {
    // Total Keys disagrees with the 3 children: the result counts what is left.
    let text = three_keys("7");
    let out = fix(&text, &[remove(1, 0)]);
    assert!(out.contains("  Total Keys=2\r\n  item: Key\r\n    Key=Software\\B"));
    assert!(!out.contains("Software\\A"));
}

#[test]
fn flat_and_wise5_items_are_removed_whole() {
    let text = format!(
        "{HEAD}{}{TAIL}",
        lines(
            "\r\n",
            &[
                "item: Edit Registry",
                "  Total Keys=1",
                "  Key=Flat",
                "end",
                "item: Edit Registry",
                "  Key=Wise5",
                "  Root=2",
                "end",
            ]
        )
    );
    assert_eq!(
        fix(&text, &[remove(2, 0)]),
        format!("{HEAD}item: Edit Registry\r\n  Total Keys=1\r\n  Key=Flat\r\nend\r\n{TAIL}")
    );
    assert_eq!(
        fix(&text, &[remove(1, 0), remove(2, 0)]),
        format!("{HEAD}{TAIL}")
    );
}

#[test]
fn flattening_keeps_lf_endings_and_nested_indentation() {
    let text = lines(
        "\n",
        &[
            "Document Type: WSE",
            "item: Custom Dialog Set",
            "  item: Edit Registry",
            "    Total Keys=2",
            "    item: Key",
            "      Key=Gone",
            "    end",
            "    item: Key",
            "      Key=Kept",
            "      New Value=a",
            "      New Value=",
            "    end",
            "  end",
            "end",
        ],
    );
    let out = fix(&text, &[remove(1, 0)]);
    assert_eq!(
        out,
        "Document Type: WSE\nitem: Custom Dialog Set\n  item: Edit Registry\n    Total Keys=1\n    Key=Kept\n    New Value=a\n    New Value=\n  end\nend\n"
    );
}

#[test]
fn remarked_keys_and_unresolved_origins_are_left_alone() {
    let text = format!(
        "{HEAD}item: Edit Registry\r\n  Total Keys=2\r\n  remarked item: Key\r\n    Key=R\r\n  end\r\n  item: Key\r\n    Key=K\r\n  end\r\nend\r\nremarked item: Edit Registry\r\n  Key=Off\r\nend\r\n"
    );
    let doc = wise::parse(text.as_bytes(), ScriptKind::Wse).unwrap();
    let nothing = [
        remove(1, 0),  // remarked key
        remove(1, 9),  // no such key
        remove(0, 0),  // a Remark
        remove(4, 0),  // remarked item
        remove(99, 0), // no such item
        Change::SetServiceField {
            service: origin(1, 0),
            field: "Boot Type".into(),
            value: b"2".to_vec(),
        },
    ];
    assert_eq!(plan(&doc, text.as_bytes(), &nothing), []);
    // Removing the active key leaves the remarked one nested (flattening would activate it).
    let out = fix(&text, &[remove(1, 1)]);
    assert!(out.contains(
        "item: Edit Registry\r\n  Total Keys=1\r\n  remarked item: Key\r\n    Key=R\r\n  end\r\nend\r\n"
    ));
}

#[test]
fn replace_inside_a_removed_range_is_dropped() {
    let text = three_keys("3");
    let at = |needle: &str| {
        let start = text.find(needle).unwrap();
        TextRange::new(start, start + needle.len())
    };
    let inside = Change::Replace(Edit::replace(at("Software\\A"), "X"));
    let kept = Change::Replace(Edit::replace(at("Software\\C"), "Software\\Z"));
    let before = Change::Replace(Edit::replace(at("before"), "BEFORE"));
    let out = fix(&text, &[inside.clone(), kept, before, remove(1, 0)]);
    assert!(!out.contains("Software\\A") && !out.contains('X'));
    assert!(out.contains("Key=Software\\Z") && out.contains("Text=BEFORE"));
    assert!(out.contains("Total Keys=2"));
    // When the removal flattens the item, a replacement inside the rewritten item is dropped.
    let out = fix(&text, &[remove(1, 0), remove(1, 1), inside, kept_c(&text)]);
    assert!(out.contains("Total Keys=1\r\n  Key=Software\\C\r\n"));
    // Without structural edits it is passed through.
    assert!(fix(&text, &[kept_c(&text)]).contains("Key=Software\\Z"));
}

fn kept_c(text: &str) -> Change {
    let start = text.find("Software\\C").unwrap();
    Change::Replace(Edit::replace(
        TextRange::new(start, start + 10),
        "Software\\Z",
    ))
}

fn service(fields: &[&str], eol: &str) -> String {
    let mut text =
        format!("Document Type: IPF{eol}item: Remark{eol}end{eol}item: Create Service{eol}");
    for f in fields {
        text.push_str(&format!("  {f}{eol}"));
    }
    text.push_str(&format!("end{eol}"));
    text
}

fn set(field: &str, value: &str) -> Change {
    Change::SetServiceField {
        service: origin(1, 0),
        field: field.into(),
        value: value.as_bytes().to_vec(),
    }
}

#[test]
fn set_service_field_replaces_the_value() {
    let text = service(
        &[
            "Service Name=Svc",
            "Service Type=16",
            "Display Name English=Old",
        ],
        "\r\n",
    );
    let out = fix(
        &text,
        &[set("service type", "32"), set("Display Name", "New")],
    );
    assert_eq!(
        out,
        service(
            &[
                "Service Name=Svc",
                "Service Type=32",
                "Display Name English=New"
            ],
            "\r\n"
        )
    );
}

#[test]
fn set_service_field_inserts_in_field_order() {
    let text = service(
        &["Service Name=Svc", "Service Type=16", "Display Name=D"],
        "\r\n",
    );
    // After the last earlier field; two new fields at one point are merged in field order.
    let out = fix(
        &text,
        &[
            set("Error Type", "1"),
            set("Boot Type", "2"),
            set("Boot Type", "3"),
        ],
    );
    assert_eq!(
        out,
        service(
            &[
                "Service Name=Svc",
                "Service Type=16",
                "Boot Type=2",
                "Error Type=1",
                "Display Name=D"
            ],
            "\r\n"
        )
    );
    // Before the first later field when no earlier one exists.
    let text = service(&["Boot Type=2", "Unknown=u"], "\n");
    let out = fix(&text, &[set("Service Name", "S")]);
    assert_eq!(
        out,
        service(&["Service Name=S", "Boot Type=2", "Unknown=u"], "\n")
    );
    // After the last property for fields outside the order.
    let out = fix(&text, &[set("Password", "p")]);
    assert_eq!(
        out,
        service(&["Boot Type=2", "Unknown=u", "Password=p"], "\n")
    );
}

#[test]
fn inserted_lines_copy_their_neighbours_endings() {
    let crlf = service(&["Service Name=Svc"], "\r\n");
    assert!(fix(&crlf, &[set("Login User", "X")]).contains("Svc\r\n  Login User=X\r\nend\r\n"));
    let lf = service(&["Service Name=Svc"], "\n");
    assert!(fix(&lf, &[set("Login User", "X")]).contains("Svc\n  Login User=X\nend\n"));
    // An item without properties takes the head line's ending and one more level of indent.
    let empty = service(&[], "\n");
    assert_eq!(
        fix(&empty, &[set("Service Name", "N")]),
        service(&["Service Name=N"], "\n")
    );
}

#[test]
fn fixing_twice_changes_nothing_more() {
    let text = three_keys("3");
    let once = fix(&text, &[remove(1, 0), remove(1, 1)]);
    let doc = wise::parse(once.as_bytes(), ScriptKind::Wse).unwrap();
    let model = lower(&doc, once.as_bytes(), svcscrub::model::Charset::Ansi);
    let keys: Vec<&[u8]> = model.writes().map(|w| w.key.as_ref()).collect();
    assert_eq!(keys, [&b"Software\\C"[..]]);
    assert_eq!(plan(&doc, once.as_bytes(), &[]), []);
}

#[test]
fn service_fields_that_cannot_be_one_line_are_ignored() {
    let text = service(&["Service Name=Svc"], "\r\n");
    let doc = wise::parse(text.as_bytes(), ScriptKind::Wse).unwrap();
    let bad = [
        set("Display Name", "two\r\nlines"),
        set("Boot=Type", "2"),
        set("", "x"),
        set("Login\nUser", "x"),
    ];
    assert_eq!(plan(&doc, text.as_bytes(), &bad), []);
}

/// Found by the property test: a `Key` holding an item of its own (never written by the Wise
/// editor) is not flattened, because its child would become a key of the item.
#[test]
fn a_key_with_items_of_its_own_stays_nested() {
    let text = b"Document Type: WSE\nbreakpoint item: Edit Registry\n  item: Key\n    Root=130\n    breakpoint item: Key\n    end\n  end\n  item: Key\n  end\nend";
    let doc = svcscrub::syntax::wise::parse(text, svcscrub::detect::ScriptKind::Wse).unwrap();
    let model = svcscrub::model::wise::lower(&doc, text, svcscrub::model::Charset::Ansi);
    assert_eq!(model.writes().count(), 1);
    let changes = [svcscrub::fix::Change::RemoveWrite(
        model.writes().next().unwrap().origin,
    )];
    let out =
        svcscrub::fix::apply_edits(text, &svcscrub::fix::wise::plan(&doc, text, &changes)).unwrap();
    assert_eq!(
        String::from_utf8(out.clone()).unwrap(),
        "Document Type: WSE\nbreakpoint item: Edit Registry\n  Total Keys=1\n  item: Key\n    Root=130\n    breakpoint item: Key\n    end\n  end\nend"
    );
    let again = svcscrub::syntax::wise::parse(&out, svcscrub::detect::ScriptKind::Wse).unwrap();
    assert!(
        svcscrub::model::wise::lower(&again, &out, svcscrub::model::Charset::Ansi)
            .writes()
            .next()
            .is_none()
    );
}

#[test]
fn total_keys_invariant_accepts_the_nested_forms_that_cannot_be_flattened() {
    use svcscrub::fix::invariants::total_keys_problems;
    let parse = |t: &'static [u8]| {
        svcscrub::syntax::wise::parse(t, svcscrub::detect::ScriptKind::Wse).unwrap()
    };
    let remarked: &[u8] = b"Document Type: WSE\nitem: Edit Registry\n  Total Keys=1\n  remarked item: Key\n    Key=A\n  end\nend\n";
    assert!(total_keys_problems(&parse(remarked), remarked).is_empty());
    let flattenable: &[u8] = b"Document Type: WSE\nitem: Edit Registry\n  Total Keys=1\n  item: Key\n    Key=A\n  end\nend\n";
    assert_eq!(
        total_keys_problems(&parse(flattenable), flattenable).len(),
        1
    );
    let miscounted: &[u8] = b"Document Type: WSE\nitem: Edit Registry\n  Total Keys=3\n  item: Key\n    Key=A\n  end\n  item: Key\n    Key=B\n  end\nend\n";
    assert_eq!(total_keys_problems(&parse(miscounted), miscounted).len(), 1);
}
