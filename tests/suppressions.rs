//! Suppression directives suppress exactly their scope; unused ones are SVC900 findings whose
//! safe fix removes the directive or its unused codes.

mod common;

use svcscrub::pipeline::{self, Loaded};

fn load(name: &str, text: &str) -> Loaded {
    pipeline::load(name, text.replace('\n', "\r\n").into_bytes()).expect("loads")
}

fn utf16(name: &str, text: &str) -> Loaded {
    let mut raw = vec![0xFF, 0xFE];
    raw.extend(
        text.replace('\n', "\r\n")
            .encode_utf16()
            .flat_map(u16::to_le_bytes),
    );
    pipeline::load(name, raw).expect("loads")
}

/// `(line, code)` of every finding.
fn findings(file: &Loaded) -> Vec<(usize, &'static str)> {
    let lines = file.source.line_index();
    pipeline::check_package(std::slice::from_ref(file), &[], &common::options(false))
        .remove(0)
        .iter()
        .map(|d| {
            (
                lines.line_col(file.source.text(), d.range.start).line,
                d.code,
            )
        })
        .collect()
}

fn fixed_text(file: &Loaded) -> String {
    let fixed = pipeline::fix_package(vec![file.clone()], &[], &common::options(false))
        .remove(0)
        .expect("fix succeeds");
    String::from_utf8(fixed.file.source.text().to_vec()).unwrap()
}

const SCRIPT: &str = r"Document Type: WSE
item: Global
  Version=9.0
end
item: Remark
  Text=svcscrub: ignore SVC001
end
item: Edit Registry
  Total Keys=2
  item: Key
    Key=SYSTEM\CurrentControlSet\Services\X\Security
    New Value=01001480
    Value Name=Security
    Root=2
    Data Type=4
  end
  item: Key
    Key=SYSTEM\CurrentControlSet\Services\X\Enum
    New Value=1
    Value Name=Count
    Root=2
    Data Type=3
  end
end
item: Remark
  Text=svcscrub: ignore SVC003
end
item: Edit Registry
  Total Keys=1
  Key=SOFTWARE\Vendor
  New Value=1
  Value Name=Installed
  Root=2
end
item: Edit Registry
  Total Keys=1
  Key=SYSTEM\CurrentControlSet\Enum\Root\LEGACY_X\0000
  New Value=X
  Value Name=Service
  Root=2
end
item: Remark
  Text=Captured Enum state kept on purpose for the vendor's repair tool.
  Text=svcscrub: ignore SVC002, SVC020 (reviewed)
end
item: Edit Registry
  Total Keys=1
  Key=SYSTEM\CurrentControlSet\Services\Y\Enum
  New Value=1
  Value Name=Count
  Root=2
end
item: Remark
  Text=svcscrub: ignore-file SVC004
end
item: Edit Registry
  Total Keys=1
  Key=SYSTEM\CurrentControlSet\Enum\Root\*SMS_MOUSE\0000
  New Value=Mouse
  Value Name=Class
  Root=2
end
";

#[test]
fn script_directives_cover_the_next_item_or_the_file() {
    let file = load("setup.wse", SCRIPT);
    assert_eq!(
        findings(&file),
        [
            // Line 11: the Security value is suppressed; the Enum key in the same item is not.
            (18, "SVC002"),
            (26, "SVC900"), // ignore SVC003 before an item with no SVC003 finding
            (37, "SVC003"), // not covered: the directive was for the previous item
            (44, "SVC900"), // SVC020 of `ignore SVC002, SVC020` is unused; SVC002 is used
        ]
    );
}

#[test]
fn script_unused_directives_are_removed_by_fix() {
    let text = fixed_text(&load("setup.wse", SCRIPT));
    // The whole Remark holding only the unused directive is gone…
    assert!(!text.contains("svcscrub: ignore SVC003"), "{text}");
    // …the partly used one keeps its used code and its prose…
    assert!(
        text.contains("  Text=Captured Enum state kept on purpose for the vendor's repair tool.\r\n  Text=svcscrub: ignore SVC002 (reviewed)\r\n"),
        "{text}"
    );
    // …and the used ones stay.
    assert!(text.contains("Text=svcscrub: ignore SVC001\r\n"), "{text}");
    assert!(
        text.contains("Text=svcscrub: ignore-file SVC004\r\n"),
        "{text}"
    );
    // A second check finds nothing new to complain about in the directives.
    let again = load("setup.wse", &text.replace("\r\n", "\n"));
    assert!(!findings(&again).iter().any(|(_, c)| *c == "SVC900"));
}

const REG: &str = r#"Windows Registry Editor Version 5.00

; svcscrub: ignore SVC001
[HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Services\X\Security]
"Security"=hex:01,00,14,80

[HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Services\Y\Security]
; svcscrub: ignore SVC001
"Security"=hex:01,00,14,80

[HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Services\Z\Enum]
; svcscrub: ignore SVC003
"Count"=dword:00000001

; svcscrub: ignore-file SVC020
[HKEY_LOCAL_MACHINE\SYSTEM\ControlSet001\Services\W\Parameters]
"A"=dword:00000001
"#;

#[test]
fn reg_directives_cover_the_block_the_value_or_the_file() {
    for file in [load("capture.reg", REG), utf16("capture.reg", REG)] {
        assert_eq!(
            findings(&file),
            [
                (7, "SVC001"),  // the key line of Y\Security: only its value was suppressed
                (11, "SVC002"), // the Enum key line
                (12, "SVC900"), // ignore SVC003 suppressed nothing
                (13, "SVC002"), // "Count" is not covered by an SVC003 directive
            ]
        );
    }
}

#[test]
fn reg_unused_directive_is_removed_by_fix() {
    let text = fixed_text(&load("capture.reg", REG));
    assert!(!text.contains("ignore SVC003"), "{text}");
    assert!(
        text.contains("; svcscrub: ignore-file SVC020\r\n"),
        "{text}"
    );
    // The Z\Enum block itself is removed by SVC002's fix, the W block stays as written.
    assert!(!text.contains(r"Services\Z\Enum"), "{text}");
    assert!(
        text.contains(r"ControlSet001\Services\W\Parameters"),
        "{text}"
    );
}

#[test]
fn unused_codes_of_unselected_rules_are_not_reported() {
    let file = load("setup.wse", SCRIPT);
    let not_svc003 = |code: &str| code != "SVC003";
    let options = pipeline::Options {
        enabled: Some(&not_svc003),
        ..common::options(false)
    };
    let codes: Vec<_> = pipeline::check_package(std::slice::from_ref(&file), &[], &options)
        .remove(0)
        .into_iter()
        .map(|d| d.code)
        .collect();
    assert_eq!(codes, ["SVC002", "SVC900"]);
}
