//! Inputs the fuzz targets (`fuzz/`) and the property tests found, minimised, each with the
//! outcome it must have.

mod common;

use svcscrub::pipeline;
use svcscrub::source::Encoding;

/// A lone carriage return inside a script line once reached an error message quoted (the
/// message had to stay one line: wise_parse, an item name quoted in an indentation error). A
/// lone CR is now refused itself, at its line:column, in one line.
#[test]
fn carriage_return_in_an_item_name_stays_on_one_line() {
    let raw = b"Document Type: WSE\r\nitem: Global\rjunk\r\n    Title=x\r\nend\r\n".to_vec();
    let e = pipeline::load("setup.wse", raw).unwrap_err();
    assert_eq!(
        e.to_string(),
        "setup.wse:2:13: lone CR (a carriage return without a line feed): script lines end with CR LF or LF; convert the line endings"
    );
}

fn fix_one(name: &str, raw: &[u8]) -> pipeline::Fixed {
    let loaded = pipeline::load(name, raw.to_vec()).unwrap();
    let files = [loaded];
    common::invariants::check_package(&files, &common::options(false), usize::MAX);
    let mut fixed = pipeline::fix_package(files.to_vec(), &[], &common::options(false));
    fixed.remove(0).unwrap()
}

/// The invariants checked on `files`, then the first file's text after `fix`.
fn fixed_text(files: &[pipeline::Loaded], unsafe_fixes: bool) -> String {
    let options = common::options(unsafe_fixes);
    common::invariants::check_package(files, &options, usize::MAX);
    let fixed = pipeline::fix_package(files.to_vec(), &[], &options).remove(0);
    let fixed = fixed.unwrap_or_else(|e| panic!("{e}"));
    String::from_utf8(fixed.file.source.into_raw()).unwrap()
}

/// Removing the only non-ASCII bytes of an 8-bit file that read as UTF-8 makes it read as
/// ANSI; the fix was refused as "changed the file's encoding" (pipeline target).
#[test]
fn removing_the_only_utf8_text_keeps_the_encoding() {
    let raw = b"REGEDIT4\r\n\r\n[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\Foo\\Enum]\r\n\"0\"=\"caf\xC3\xA9\"\r\n\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Foo]\r\n\"A\"=\"b\"\r\n";
    let fixed = fix_one("capture.reg", raw);
    assert_eq!(fixed.file.source.encoding, Encoding::Utf8);
    assert_eq!(
        fixed.file.source.into_raw(),
        b"REGEDIT4\r\n\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Foo]\r\n\"A\"=\"b\"\r\n"
    );
}

/// The other way round: removing the only byte that is not UTF-8 (`E9`) leaves valid UTF-8.
#[test]
fn removing_the_only_ansi_byte_keeps_the_encoding() {
    let raw = b"REGEDIT4\r\n\r\n[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\Foo\\Enum]\r\n\"0\"=\"caf\xE9\"\r\n\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Foo]\r\n\"A\"=\"caf\xC3\xA9\"\r\n";
    let fixed = fix_one("capture.reg", raw);
    assert_eq!(fixed.file.source.encoding, Encoding::Ansi);
    assert_eq!(
        fixed.file.source.into_raw(),
        b"REGEDIT4\r\n\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Foo]\r\n\"A\"=\"caf\xC3\xA9\"\r\n"
    );
}

/// Removing the active key of a nested item whose other key is remarked leaves the remarked
/// key nested (`Total Keys=1`: flattening would activate it); the invariant check called that
/// inconsistent and the fix was refused as an internal error (fix_proptest).
#[test]
fn a_remarked_sole_survivor_stays_nested_and_is_consistent() {
    let raw = concat!(
        "Document Type: WSE\n",
        "item: Edit Registry\n",
        "  Total Keys=2\n",
        "  item: Key\n",
        "    Key=SYSTEM\\CurrentControlSet\\Enum\\Root\\LEGACY_FOO\n",
        "    Root=2\n",
        "  end\n",
        "  remarked item: Key\n",
        "    Key=SYSTEM\\CurrentControlSet\\Services\\Foo\n",
        "    Root=2\n",
        "  end\n",
        "end\n",
    );
    let fixed = fix_one("setup.wse", raw.as_bytes());
    assert_eq!(
        String::from_utf8(fixed.file.source.into_raw()).unwrap(),
        concat!(
            "Document Type: WSE\n",
            "item: Edit Registry\n",
            "  Total Keys=1\n",
            "  remarked item: Key\n",
            "    Key=SYSTEM\\CurrentControlSet\\Services\\Foo\n",
            "    Root=2\n",
            "  end\n",
            "end\n",
        )
    );
}

/// With unsafe fixes, setting a Create Service item's `Service Type` to a driver type (8) and
/// removing a captured `ObjectName` the item set to the same data (safe, proven without the
/// unsafe fix) together leave `ObjectName` unset: `fix` refused its own result as changing
/// more than its rules target (pipeline target, seed corpus). With unsafe fixes applied, what
/// every applied fix touches may change.
#[test]
fn a_safe_removal_beside_an_unsafe_item_change_is_allowed_together() {
    let raw = concat!(
        "Document Type: IPF\r\n",
        "item: Global\r\n",
        "  Version=9.0\r\n",
        "end\r\n",
        "item: Create Service\r\n",
        "  Service Name=NAVAPSVC\r\n",
        "  Executable Path=%MAINDIR%\\NAVAPSVC.EXE\r\n",
        "  Service Type=16\r\n",
        "  Boot Type=2\r\n",
        "  Error Type=0\r\n",
        "end\r\n",
        "item: Edit Registry\r\n",
        "  Total Keys=2\r\n",
        "  item: Key\r\n",
        "    Key=SYSTEM\\CurrentControlSet\\Services\\NAVAPSVC\r\n",
        "    New Value=08\r\n",
        "    Value Name=Type\r\n",
        "    Root=2\r\n",
        "    Data Type=3\r\n",
        "  end\r\n",
        "  item: Key\r\n",
        "    Key=SYSTEM\\CurrentControlSet\\Services\\NAVAPSVC\r\n",
        "    New Value=LocalSystem\r\n",
        "    Value Name=ObjectName\r\n",
        "    Root=2\r\n",
        "  end\r\n",
        "end\r\n",
    )
    .as_bytes();
    let loaded = pipeline::load("setup.ipf", raw.to_vec()).unwrap();
    let files = [loaded];
    let text = fixed_text(&files, true);
    assert!(text.contains("Service Type=8"), "{text}");
    assert!(!text.contains("ObjectName"), "{text}");
}

/// An unsafe fix that sets a Create Service item's `Service Type` from a Win32 service's (16)
/// to a driver's (1) also takes away the `ObjectName` (`LocalSystem`) the install wrote for the
/// Win32 service, with no `ObjectName` write in the package: the fix's proof followed only
/// `Type`, and `fix` refused its own result as an internal error (pipeline target). The whole
/// install is now compared before and after, and the fix says what else changes.
#[test]
fn a_service_type_rewrite_carries_the_objectname_it_derives() {
    let raw = concat!(
        "Document Type: WSE\r\n",
        "item: Create Service\r\n",
        "  Service Name=Watcher\r\n",
        "  Executable Path=%MAINDIR%\\watcher.exe\r\n",
        "  Service Type=16\r\n",
        "  Boot Type=2\r\n",
        "end\r\n",
        "item: Edit Registry\r\n",
        "  Total Keys=1\r\n",
        "  Key=SYSTEM\\CurrentControlSet\\Services\\Watcher\r\n",
        "  New Value=1\r\n",
        "  Value Name=Type\r\n",
        "  Root=2\r\n",
        "  Data Type=3\r\n",
        "end\r\n",
    )
    .as_bytes();
    let loaded = pipeline::load("setup.wse", raw.to_vec()).unwrap();
    let files = [loaded];
    let checked = pipeline::check_package(&files, &[], &common::options(true));
    let titles: Vec<&str> = checked
        .iter()
        .flatten()
        .filter_map(|f| f.fix.as_ref().map(|p| &p.title[..]))
        .collect();
    assert_eq!(
        titles,
        [
            "set `Service Type=1` in the Create Service item and remove the value (the install's `ObjectName` changes too)"
        ]
    );
    let text = fixed_text(&files, true);
    assert!(text.contains("  Service Type=1\r\n"), "{text}");
    assert!(!text.contains("Edit Registry"), "{text}");
}

/// An unknown reference in a `Create Service` item's `Service Name` (its `Set Variable` item's
/// `Variable` line garbled) had SVC040's unsafe fix escape it, so the install created a service
/// literally named `%SVCNAME%`: a key the fix's proof had not counted, and `fix` refused its
/// own result as an internal error (pipeline target). The name field is now reported without a
/// fix; the other fields keep theirs.
#[test]
fn an_unknown_reference_in_a_service_name_is_reported_without_a_fix() {
    let raw = concat!(
        "Document Type: WSE\r\n",
        "item: Set Variable\r\n",
        "  Variabl e=SVCNAME\r\n",
        "  Value=WspEventRouter\r\n",
        "end\r\n",
        "item: Create Service\r\n",
        "  Service Name=%SVCNAME%\r\n",
        "  Executable Path=%MAINDIR%\\%EXE%\r\n",
        "  Service Type=16\r\n",
        "  Boot Type=2\r\n",
        "end\r\n",
    )
    .as_bytes();
    let loaded = pipeline::load("setup.wse", raw.to_vec()).unwrap();
    let files = [loaded];
    let checked = pipeline::check_package(&files, &[], &common::options(true));
    let found: Vec<(usize, Option<&str>)> = checked
        .iter()
        .flatten()
        .map(|d| {
            let line = raw[..d.range.start].iter().filter(|&&b| b == b'\n').count() + 1;
            (line, d.fix.as_ref().map(|f| &f.title[..]))
        })
        .collect();
    assert_eq!(
        found,
        [
            (7, None),
            (
                8,
                Some(
                    "write `%%EXE%%`: the value then installs `%EXE%` as written instead of nothing"
                )
            )
        ]
    );
    let text = fixed_text(&files, true);
    assert!(text.contains("  Service Name=%SVCNAME%\r\n"), "{text}");
    assert!(
        text.contains("  Executable Path=%MAINDIR%\\%%EXE%%\r\n"),
        "{text}"
    );
}
