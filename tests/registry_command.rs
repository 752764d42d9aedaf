//! `svcscrub registry`: the registry state a package installs, as a regedit 5 export, as JSON,
//! and as the diff `fix` makes to it.

mod common;

use std::path::Path;

use assert_cmd::cargo::cargo_bin_cmd;

fn registry(args: &[&str], cwd: &Path) -> (String, String, Option<i32>) {
    let out = cargo_bin_cmd!("svcscrub")
        .current_dir(cwd)
        .arg("registry")
        .args(args)
        .output()
        .expect("runs");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code(),
    )
}

/// A package in a temporary directory.
fn package(files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("pkg");
    std::fs::create_dir_all(&dir).unwrap();
    for (name, bytes) in files {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
    tmp
}

const SCRIPT: &str = concat!(
    "Document Type: WSE\r\n",
    "item: Create Service\r\n",
    "  Service Name=Svc\r\n",
    "  Executable Path=%MAINDIR%\\svc.exe\r\n",
    "  Service Type=16\r\n",
    "  Boot Type=2\r\n",
    "end\r\n",
    "item: Edit Registry\r\n",
    "  Total Keys=2\r\n",
    "  item: Key\r\n",
    "    Key=SOFTWARE\\Fab\r\n",
    "    New Value=%SystemRoot%\\x.dll\r\n",
    "    Value Name=Path\r\n",
    "    Root=2\r\n",
    "    Data Type=1\r\n",
    "  end\r\n",
    "  item: Key\r\n",
    "    Key=SOFTWARE\\Fab\\Gone\r\n",
    "    Root=130\r\n",
    "  end\r\n",
    "end\r\n",
    "item: If/While Statement\r\n",
    "  Variable=X\r\n",
    "  Value=1\r\n",
    "end\r\n",
    "item: Edit Registry\r\n",
    "  Key=SYSTEM\\ControlSet001\\Services\\Svc\r\n",
    "  New Value=3\r\n",
    "  Value Name=Start\r\n",
    "  Root=2\r\n",
    "  Data Type=3\r\n",
    "end\r\n",
    "item: End Block\r\n",
    "end\r\n",
);

const EXPORT: &str = concat!(
    "REGEDIT4\r\n\r\n",
    "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Fab]\r\n",
    "\"Old\"=-\r\n",
    "\"Wide\"=hex(2):73,00,79,00,73,00,00,00\r\n\r\n",
    "[hkey_local_machine\\software\\FAB]\r\n",
    "\"Level\"=dword:2\r\n",
);

#[test]
fn the_state_is_a_regedit_export_of_what_the_package_installs() {
    let tmp = package(&[
        ("setup.wse", SCRIPT.as_bytes()),
        ("capture.reg", EXPORT.as_bytes()),
    ]);
    let (stdout, stderr, code) = registry(&["pkg"], tmp.path());
    assert_eq!(code, Some(0), "{stderr}");
    let expected = "\
Windows Registry Editor Version 5.00

[HKEY_LOCAL_MACHINE\\SOFTWARE\\Fab]
\"Level\"=dword:00000002
\"Old\"=-
\"Path\"=hex(2):5c,00,78,00,2e,00,64,00,6c,00,6c,00,00,00
\"Wide\"=hex(2):73,00,00,00,79,00,00,00,73,00,00,00,00,00,00,00

[-HKEY_LOCAL_MACHINE\\SOFTWARE\\Fab\\Gone]

[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\Svc]
\"ErrorControl\"=dword:00000000
\"ImagePath\"=hex(2):25,00,4d,00,41,00,49,00,4e,00,44,00,49,00,52,00,25,00,5c,00,\\
  73,00,76,00,63,00,2e,00,65,00,78,00,65,00,00,00
\"ObjectName\"=\"LocalSystem\"
; \"Start\" depends on what runs; one of:
;   \"Start\"=dword:00000002
;   \"Start\"=dword:00000003
\"Type\"=dword:00000010
";
    assert_eq!(stdout.replace("\r\n", "\n"), expected);
}

#[test]
fn json_gives_the_same_state_as_data() {
    let tmp = package(&[("capture.reg", EXPORT.as_bytes())]);
    let (stdout, stderr, code) = registry(&["--format", "json", "pkg"], tmp.path());
    assert_eq!(code, Some(0), "{stderr}");
    let json: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
    let key = &json[0]["keys"][0];
    assert_eq!(key["key"], "HKEY_LOCAL_MACHINE\\SOFTWARE\\Fab");
    assert_eq!(key["exists"], serde_json::json!(["created"]));
    let values = key["values"].as_array().unwrap();
    assert_eq!(values[0]["name"], "Level");
    assert_eq!(
        values[0]["possible"],
        serde_json::json!([{"outcome": "set", "type": "REG_DWORD", "data": 2, "bytes": "02000000"}])
    );
    assert_eq!(values[1]["possible"][0]["outcome"], "deleted");
    // 8-bit `hex(2)` bytes are 8-bit text: the UTF-16 bytes install as `s`, NUL, `y`, …,
    // which Windows reads as `s`.
    assert_eq!(values[2]["possible"][0]["data"], "s");
}

#[test]
fn diff_shows_what_the_fix_changes_in_the_state() {
    let root = common::manifest_dir();
    let (stdout, stderr, code) = registry(&["--diff", "tests/fixtures/rules/svc001"], &root);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stdout.contains("--- a/") && stdout.contains("(installed after fix)"),
        "{stdout}"
    );
    assert!(
        stdout.lines().any(|l| l
            .to_ascii_uppercase()
            .starts_with("-[HKEY_LOCAL_MACHINE\\SYSTEM\\CURRENTCONTROLSET\\SERVICES\\")
            && l.ends_with("\\Security]")),
        "{stdout}"
    );
    assert!(
        !stdout
            .lines()
            .any(|l| l.starts_with('+') && !l.starts_with("+++")),
        "removing captured state adds nothing:\n{stdout}"
    );
    // Nothing to fix: no change, exit 0.
    let (stdout, _, code) = registry(&["--diff", "tests/fixtures/rules/traps"], &root);
    assert_eq!((stdout.as_str(), code), ("", Some(0)));
}
