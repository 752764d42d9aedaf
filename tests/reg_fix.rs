//! The `.reg` edit planner: exact output text for removals at the start, middle and end of a
//! file, in regedit's layout and in hand-written layouts, and the rules about key lines,
//! comments, opaque records and pass-through replacements. Every output must re-parse.

mod reg_common;

use reg_common::{parse, s};
use svcscrub::fix::{Change, Edit, apply_edits, reg::plan};
use svcscrub::model::Origin;
use svcscrub::syntax::reg::RegFile;
use svcscrub::text::TextRange;

const H5: &str = "Windows Registry Editor Version 5.00\r\n\r\n";
const A: &str = "[HKEY_LOCAL_MACHINE\\SOFTWARE\\A]\r\n\"a\"=\"1\"\r\n\r\n";
const B: &str = "[HKEY_LOCAL_MACHINE\\SOFTWARE\\B]\r\n\"b\"=dword:00000002\r\n\r\n";
const C: &str = "[HKEY_LOCAL_MACHINE\\SOFTWARE\\C]\r\n\"c\"=hex:03,\\\r\n  04\r\n\r\n";

fn key(block: u32) -> Change {
    Change::RemoveWrite(Origin {
        container: block,
        index: Origin::KEY_LINE,
    })
}

fn value(block: u32, index: u32) -> Change {
    Change::RemoveWrite(Origin {
        container: block,
        index,
    })
}

/// Every write of a block: the key line and each value record.
fn whole_block(file: &RegFile, block: u32) -> Vec<Change> {
    let b = &file.blocks.get(block as usize).unwrap();
    let mut changes = vec![key(block)];
    for (i, r) in file.block_records(b).iter().enumerate() {
        if r.is_write() {
            changes.push(value(block, i as u32));
        }
    }
    changes
}

/// Plans and applies; checks the edits are sorted and disjoint and the output re-parses.
fn fix(text: &str, changes: &[Change]) -> String {
    let file = parse(text);
    let edits = plan(&file, text.as_bytes(), changes);
    for pair in edits.windows(2) {
        assert!(
            pair[0].range.end <= pair[1].range.start,
            "overlap: {edits:?}"
        );
    }
    let out = s(&apply_edits(text.as_bytes(), &edits).expect("disjoint edits"));
    let again = parse(&out);
    assert!(again.is_lossless());
    // Nothing left to do: planning nothing changes nothing.
    assert!(plan(&again, out.as_bytes(), &[]).is_empty());
    out
}

fn remove_blocks(text: &str, blocks: &[u32]) -> String {
    let file = parse(text);
    let changes: Vec<Change> = blocks.iter().flat_map(|&b| whole_block(&file, b)).collect();
    fix(text, &changes)
}

#[test]
fn removing_the_first_block() {
    let text = format!("{H5}{A}{B}{C}");
    assert_eq!(remove_blocks(&text, &[0]), format!("{H5}{B}{C}"));
}

#[test]
fn removing_a_middle_block() {
    let text = format!("{H5}{A}{B}{C}");
    assert_eq!(remove_blocks(&text, &[1]), format!("{H5}{A}{C}"));
}

#[test]
fn removing_the_last_block() {
    let text = format!("{H5}{A}{B}{C}");
    assert_eq!(remove_blocks(&text, &[2]), format!("{H5}{A}{B}"));
}

#[test]
fn removing_adjacent_and_all_blocks() {
    let text = format!("{H5}{A}{B}{C}");
    assert_eq!(remove_blocks(&text, &[0, 1]), format!("{H5}{C}"));
    assert_eq!(remove_blocks(&text, &[1, 2]), format!("{H5}{A}"));
    assert_eq!(remove_blocks(&text, &[0, 2]), format!("{H5}{B}"));
    assert_eq!(remove_blocks(&text, &[0, 1, 2]), H5);
}

#[test]
fn removing_the_last_block_without_a_final_newline() {
    let text = format!("{H5}{A}[HKEY_LOCAL_MACHINE\\SOFTWARE\\B]\r\n\"b\"=\"2\"");
    assert_eq!(
        remove_blocks(&text, &[1]),
        "Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\A]\r\n\"a\"=\"1\""
    );
    // The only block: the header is left, still without a final newline.
    let text = "REGEDIT4\r\n\r\n[HKEY_CURRENT_USER\\A]\r\n\"a\"=\"1\"";
    assert_eq!(remove_blocks(text, &[0]), "REGEDIT4");
}

#[test]
fn hand_written_layout_without_blank_lines_between_keys() {
    let text = "Windows Registry Editor Version 5.00\n; Services — start types\n\n[HKLM\\S\\A]\n\"Start\"=dword:4\n[HKLM\\S\\B]\n\"Start\"=dword:3\n[HKLM\\S\\C]\n\"Start\"=dword:2\n";
    assert_eq!(
        remove_blocks(text, &[0]),
        "Windows Registry Editor Version 5.00\n; Services — start types\n\n[HKLM\\S\\B]\n\"Start\"=dword:3\n[HKLM\\S\\C]\n\"Start\"=dword:2\n"
    );
    assert_eq!(
        remove_blocks(text, &[1]),
        "Windows Registry Editor Version 5.00\n; Services — start types\n\n[HKLM\\S\\A]\n\"Start\"=dword:4\n[HKLM\\S\\C]\n\"Start\"=dword:2\n"
    );
    assert_eq!(
        remove_blocks(text, &[2]),
        "Windows Registry Editor Version 5.00\n; Services — start types\n\n[HKLM\\S\\A]\n\"Start\"=dword:4\n[HKLM\\S\\B]\n\"Start\"=dword:3\n"
    );
}

#[test]
fn an_empty_key_block_goes_with_its_key_line() {
    let text = format!("{H5}[HKEY_LOCAL_MACHINE\\SOFTWARE\\Empty]\r\n\r\n{B}");
    assert_eq!(fix(&text, &[key(0)]), format!("{H5}{B}"));
}

#[test]
fn removing_a_value_with_its_continuation_lines() {
    let text =
        format!("{H5}[HKLM\\X]\r\n\"x\"=hex:01,\\\r\n  ; note\r\n  02\r\n\"y\"=\"1\"\r\n\r\n");
    assert_eq!(
        fix(&text, &[value(0, 0)]),
        format!("{H5}[HKLM\\X]\r\n\"y\"=\"1\"\r\n\r\n")
    );
    // The last value of a block: the block's trailing blank line stays.
    assert_eq!(
        fix(&text, &[value(0, 1)]),
        format!("{H5}[HKLM\\X]\r\n\"x\"=hex:01,\\\r\n  ; note\r\n  02\r\n\r\n")
    );
}

#[test]
fn removing_the_last_value_of_a_file_without_a_final_newline() {
    let text = format!("{H5}[HKLM\\X]\r\n\"x\"=\"1\"\r\n\"y\"=\"2\"");
    assert_eq!(
        fix(&text, &[value(0, 1)]),
        format!("{H5}[HKLM\\X]\r\n\"x\"=\"1\"")
    );
}

#[test]
fn removing_a_value_between_blank_lines_keeps_one() {
    let text = format!("{H5}[HKLM\\X]\r\n\"x\"=\"1\"\r\n\r\n\"y\"=\"2\"\r\n\r\n\"z\"=\"3\"\r\n");
    assert_eq!(
        fix(&text, &[value(0, 2)]),
        format!("{H5}[HKLM\\X]\r\n\"x\"=\"1\"\r\n\r\n\"z\"=\"3\"\r\n")
    );
}

#[test]
fn key_line_stays_while_values_remain() {
    let text = format!("{H5}{A}[HKLM\\X]\r\n\"x\"=\"1\"\r\n\"y\"=\"2\"\r\n\r\n");
    // Asked to remove the key line and one value: the other value keeps the key.
    assert_eq!(
        fix(&text, &[key(1), value(1, 0)]),
        format!("{H5}{A}[HKLM\\X]\r\n\"y\"=\"2\"\r\n\r\n")
    );
    // Every value removed but not the key line: the key stays.
    assert_eq!(
        fix(&text, &[value(1, 0), value(1, 1)]),
        format!("{H5}{A}[HKLM\\X]\r\n\r\n")
    );
}

#[test]
fn a_deletion_or_opaque_record_keeps_the_key_line() {
    for record in [
        "\"gone\"=-",
        "\"s\"=\"split\r\n\"",
        "\"h\"=hex:01,\\\r\n\"swallowed\"=\"1\"",
    ] {
        let text = format!("{H5}[HKLM\\X]\r\n\"x\"=\"1\"\r\n{record}\r\n\r\n{B}");
        assert_eq!(
            fix(&text, &[key(0), value(0, 0)]),
            format!("{H5}[HKLM\\X]\r\n{record}\r\n\r\n{B}"),
            "{record:?}"
        );
    }
}

#[test]
fn comments_inside_a_removed_block_are_kept() {
    let text = format!("{H5}[HKLM\\X]\r\n; why X is set\r\n\"x\"=\"1\"\r\n\r\n{B}");
    assert_eq!(
        fix(&text, &[key(0), value(0, 1)]),
        format!("{H5}; why X is set\r\n\r\n{B}")
    );
    // A dropped (invalid) value line and junk stay too; they do not bind to the key.
    let text = format!("{H5}{A}[HKLM\\X]\r\n\"x\"=\"1\"\r\n\"bad\"=dword:xyz\r\n\r\n{B}");
    assert_eq!(
        fix(&text, &[key(1), value(1, 0)]),
        format!("{H5}{A}\"bad\"=dword:xyz\r\n\r\n{B}")
    );
}

#[test]
fn replace_passes_through_unless_removed() {
    let text = format!("{H5}[HKLM\\SYSTEM\\ControlSet001\\Services\\S]\r\n\"x\"=\"1\"\r\n\r\n{B}");
    let at = text.find("ControlSet001").unwrap();
    let replace = Change::Replace(Edit::replace(
        TextRange::new(at, at + "ControlSet001".len()),
        "CurrentControlSet",
    ));
    assert_eq!(
        fix(&text, std::slice::from_ref(&replace)),
        format!("{H5}[HKLM\\SYSTEM\\CurrentControlSet\\Services\\S]\r\n\"x\"=\"1\"\r\n\r\n{B}")
    );
    // Inside a removed block: dropped.
    assert_eq!(
        fix(&text, &[replace, key(0), value(0, 0)]),
        format!("{H5}{B}")
    );
}

#[test]
fn replace_inside_an_opaque_record_is_dropped() {
    let text = format!("{H5}[HKLM\\X]\r\n\"s\"=\"ControlSet001\r\n\"\r\n");
    let at = text.find("ControlSet001").unwrap();
    let replace = Change::Replace(Edit::replace(
        TextRange::new(at, at + 13),
        "CurrentControlSet",
    ));
    let file = parse(&text);
    assert!(plan(&file, text.as_bytes(), &[replace]).is_empty());
}

#[test]
fn changes_that_name_no_write_are_ignored() {
    let text = format!("{H5}[-HKLM\\Gone]\r\n\"v\"=\"1\"\r\n\r\n{A}");
    let file = parse(&text);
    let changes = [
        key(0),
        value(0, 0),
        key(7),
        value(1, 1), // the blank line after "a"
        Change::SetServiceField {
            service: Origin {
                container: 0,
                index: 0,
            },
            field: "Start".into(),
            value: b"2".to_vec(),
        },
    ];
    assert!(plan(&file, text.as_bytes(), &changes).is_empty());
}

#[test]
fn repeated_changes_are_merged() {
    let text = format!("{H5}{A}{B}");
    let changes = [key(1), value(1, 0), key(1), value(1, 0)];
    assert_eq!(fix(&text, &changes), format!("{H5}{A}"));
}

#[test]
fn lf_and_lone_cr_files_keep_their_line_endings() {
    let text = "REGEDIT4\n\n[HKCU\\A]\n\"a\"=\"1\"\n\n[HKCU\\B]\n\"b\"=\"2\"\n\n";
    assert_eq!(
        remove_blocks(text, &[0]),
        "REGEDIT4\n\n[HKCU\\B]\n\"b\"=\"2\"\n\n"
    );
    let text = "REGEDIT4\r\r[HKCU\\A]\r\"a\"=\"1\"\r\r[HKCU\\B]\r\"b\"=\"2\"\r\r";
    assert_eq!(
        remove_blocks(text, &[1]),
        "REGEDIT4\r\r[HKCU\\A]\r\"a\"=\"1\"\r\r"
    );
}
