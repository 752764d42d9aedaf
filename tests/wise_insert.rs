//! `Change::InsertItem` in the WiseScript planner: whole items before another item, with its
//! indentation and line ending; together with removals of that same item.

use svcscrub::detect::ScriptKind;
use svcscrub::fix::{Change, apply_edits, wise::plan};
use svcscrub::model::Origin;
use svcscrub::syntax::wise;

fn origin(container: u32, index: u32) -> Origin {
    Origin { container, index }
}

fn insert(before: u32, fields: &[(&str, &str)]) -> Change {
    Change::InsertItem {
        before: origin(before, 0),
        action: "Create Service".to_string(),
        fields: fields
            .iter()
            .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
            .collect(),
    }
}

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

const SCRIPT: &str = concat!(
    "Document Type: WSE\r\n",
    "item: Remark\r\n",
    "end\r\n",
    "item: Edit Registry\r\n",
    "  Total Keys=2\r\n",
    "  item: Key\r\n",
    "    Key=SYSTEM\\CurrentControlSet\\Services\\A\r\n",
    "    New Value=1\r\n",
    "    Value Name=Type\r\n",
    "    Root=2\r\n",
    "    Data Type=3\r\n",
    "  end\r\n",
    "  item: Key\r\n",
    "    Key=SYSTEM\\CurrentControlSet\\Services\\A\r\n",
    "    New Value=x\r\n",
    "    Value Name=Group\r\n",
    "    Root=2\r\n",
    "  end\r\n",
    "end\r\n",
);

#[test]
fn an_item_goes_before_the_named_item_with_its_line_endings() {
    let out = fix(
        SCRIPT,
        &[insert(1, &[("Service Name", "A"), ("Service Type", "1")])],
    );
    assert_eq!(
        out,
        SCRIPT.replace(
            "end\r\nitem: Edit Registry",
            "end\r\nitem: Create Service\r\n  Service Name=A\r\n  Service Type=1\r\nend\r\nitem: Edit Registry"
        )
    );
    let lf = SCRIPT.replace("\r\n", "\n");
    let out = fix(&lf, &[insert(1, &[("Service Name", "A")])]);
    assert!(
        out.contains("end\nitem: Create Service\n  Service Name=A\nend\nitem: Edit Registry"),
        "{out}"
    );
}

#[test]
fn insertion_and_removal_of_the_same_item_combine() {
    // The new item goes before item 1, whose first key is removed: it becomes flat.
    let out = fix(
        SCRIPT,
        &[
            insert(1, &[("Service Name", "A")]),
            Change::RemoveWrite(origin(1, 0)),
        ],
    );
    assert_eq!(
        out,
        concat!(
            "Document Type: WSE\r\n",
            "item: Remark\r\n",
            "end\r\n",
            "item: Create Service\r\n",
            "  Service Name=A\r\n",
            "end\r\n",
            "item: Edit Registry\r\n",
            "  Total Keys=1\r\n",
            "  Key=SYSTEM\\CurrentControlSet\\Services\\A\r\n",
            "  New Value=x\r\n",
            "  Value Name=Group\r\n",
            "  Root=2\r\n",
            "end\r\n",
        )
    );
    // Both keys removed: the item goes, the new one takes its place.
    let out = fix(
        SCRIPT,
        &[
            insert(1, &[("Service Name", "A")]),
            Change::RemoveWrite(origin(1, 0)),
            Change::RemoveWrite(origin(1, 1)),
        ],
    );
    assert!(
        out.ends_with("end\r\nitem: Create Service\r\n  Service Name=A\r\nend\r\n"),
        "{out}"
    );
}

#[test]
fn inserts_before_one_item_merge_in_order_and_nested_items_keep_their_depth() {
    let out = fix(
        SCRIPT,
        &[
            insert(1, &[("Service Name", "A")]),
            insert(1, &[("Service Name", "B")]),
        ],
    );
    assert!(out.contains(
        "item: Create Service\r\n  Service Name=A\r\nend\r\nitem: Create Service\r\n  Service Name=B\r\nend\r\nitem: Edit Registry"
    ));
    // Before the second `item: Key` (index 3): indented one level.
    let out = fix(SCRIPT, &[insert(3, &[("Service Name", "C")])]);
    assert!(
        out.contains(
            "  end\r\n  item: Create Service\r\n    Service Name=C\r\n  end\r\n  item: Key\r\n"
        ),
        "{out}"
    );
}

#[test]
fn items_that_cannot_be_written_are_dropped() {
    for fields in [
        &[("Service Name", "A\r\nend")][..],
        &[("Service=Name", "A")][..],
        &[("", "A")][..],
    ] {
        assert_eq!(fix(SCRIPT, &[insert(1, fields)]), SCRIPT, "{fields:?}");
    }
    // An item that does not exist.
    assert_eq!(fix(SCRIPT, &[insert(99, &[("Service Name", "A")])]), SCRIPT);
}
