//! The bad-input catalogue: every input that cannot be processed gets exactly one line on
//! stderr naming it (with line:column where one applies), the run exits 2, nothing is written,
//! and the other files of the same run are still checked and fixed.

#![cfg(unix)]

mod common;

use std::fs;
use std::path::Path;

use assert_cmd::cargo::cargo_bin_cmd;

fn utf16(s: &str) -> Vec<u8> {
    let mut v = b"\xFF\xFE".to_vec();
    v.extend(s.encode_utf16().flat_map(u16::to_le_bytes));
    v
}

/// Every file under `dir` with its bytes, sorted (symbolic links as `-> target`).
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in walk(dir) {
        let rel = entry.strip_prefix(dir).unwrap().display().to_string();
        let meta = fs::symlink_metadata(&entry).unwrap();
        let bytes = if meta.file_type().is_symlink() {
            format!("-> {}", fs::read_link(&entry).unwrap().display()).into_bytes()
        } else if meta.is_file() {
            fs::read(&entry).unwrap()
        } else {
            b"(not a file)".to_vec()
        };
        out.push((rel, bytes));
    }
    out.sort();
    out
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        out.push(path.clone());
        if entry.file_type().unwrap().is_dir() {
            out.extend(walk(&path));
        }
    }
    out
}

const GOOD: &str = "tests/fixtures/rules/svc003/setup.wse";

const WIX3: &str = "http://schemas.microsoft.com/wix/2006/wi";

/// The catalogue, in a directory of its own: (file name, bytes, the error line's text).
fn catalogue(dir: &Path) -> Vec<String> {
    let ten_megabytes = [
        b"Document Type: WSE\r\n".as_slice(),
        &vec![b'x'; 10_000_000],
    ]
    .concat();
    let files: Vec<(&str, Vec<u8>)> = vec![
        ("empty.wse", Vec::new()),
        ("binary.wse", b"W6\x01\x00\x15Match\x00\x00".to_vec()),
        (
            "nul.wse",
            b"Document Type: WSE\r\nitem: Global\r\n  Title=a\x00b\r\nend\r\n".to_vec(),
        ),
        (
            "truncated.wse",
            b"Document Type: WSE\r\nitem: Global\r\n  Version=9.0\r\n".to_vec(),
        ),
        (
            "end-without-item.wse",
            b"Document Type: WSE\r\nitem: Global\r\nend\r\nend\r\n".to_vec(),
        ),
        (
            "bad-indentation.wse",
            b"Document Type: WSE\r\nitem: Global\r\n   Title=x\r\nend\r\n".to_vec(),
        ),
        ("long-line.wse", ten_megabytes),
        ("odd-length.reg", {
            let mut v = utf16("Windows Registry Editor Version 5.00\r\n");
            v.push(b'x');
            v
        }),
        ("surrogate.reg", {
            let mut v = utf16("Windows Registry Editor Version 5.00\r\n\"a\"=\"");
            v.extend_from_slice(&[0x00, 0xD8, b'"', 0]);
            v
        }),
        (
            "no-header.reg",
            b"[HKEY_LOCAL_MACHINE\\SOFTWARE\\Foo]\r\n\"a\"=\"b\"\r\n".to_vec(),
        ),
        (
            "wine.reg",
            b"WINE REGISTRY Version 2\n;; All keys relative to \\\\Machine\n".to_vec(),
        ),
        (
            "truncated.wxs",
            format!("<?xml version=\"1.0\"?>\r\n<Wix xmlns=\"{WIX3}\">\r\n  <Product>\r\n").into_bytes(),
        ),
        (
            "unknown-namespace.wxs",
            b"<Wix xmlns=\"http://example.com/not-wix\"><Product/></Wix>".to_vec(),
        ),
        (
            // The classic entity bomb: refused before anything is expanded.
            "entity-bomb.wxs",
            format!("<?xml version=\"1.0\"?>\n<!DOCTYPE Wix [\n<!ENTITY a \"aaaaaaaaaa\">\n<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">\n]>\n<Wix xmlns=\"{WIX3}\">&b;</Wix>\n").into_bytes(),
        ),
        (
            "external-entity.wxs",
            format!("<Wix xmlns=\"{WIX3}\"><Product Name=\"&ext;\"/></Wix>").into_bytes(),
        ),
        (
            "not-wix.wxi",
            b"<Project xmlns=\"http://schemas.microsoft.com/developer/msbuild/2003\"/>".to_vec(),
        ),
        // CR-only line endings: before, the whole file was its header line and "clean".
        (
            "cr-only.wse",
            b"Document Type: WSE\ritem: Edit Registry\r  Key=SYSTEM\\CurrentControlSet\\Enum\\Root\\LEGACY_FOO\r  New Value=FOO\r  Value Name=Service\r  Root=2\rend\r".to_vec(),
        ),
        ("utf16be.reg", {
            let mut v = b"\xFE\xFF".to_vec();
            v.extend(
                "Windows Registry Editor Version 5.00\r\n"
                    .encode_utf16()
                    .flat_map(u16::to_be_bytes),
            );
            v
        }),
    ];
    for (name, bytes) in &files {
        fs::write(dir.join(name), bytes).unwrap();
    }
    vec![
        "error: bad-indentation.wse:3:1: indentation of 3 spaces matches no open item (items nest by 2 spaces): expected 2 spaces inside `item: Global` from line 2".into(),
        "error: binary.wse:1:4: binary (legacy) WiseScript; open it in the Wise editor and save it as a text .wse".into(),
        "error: empty.wse:1:1: empty file".into(),
        "error: end-without-item.wse:4:1: `end` with no open item: expected `item: <action>` or the end of the file".into(),
        "error: long-line.wse:2:1: unrecognised line: expected `item: <action>`, `end` or a `key=value` property".into(),
        "error: no-header.reg:1:1: unrecognised content: expected `Document Type: WSE|IPF` or a regedit header (`REGEDIT4`, `Windows Registry Editor Version 5.00`) on the first line, or a WiX source".into(),
        "error: nul.wse:3:10: binary data (NUL bytes); UTF-16 text without a byte-order mark is not supported".into(),
        "error: odd-length.reg: UTF-16 file has an odd number of bytes (79); it is truncated or not UTF-16".into(),
        "error: surrogate.reg: UTF-16 file has an unpaired surrogate 0xD800 at byte offset 88".into(),
        "error: truncated.wse:4:1: unexpected end of file: expected `end` (indented 0 spaces) to close `item: Global` from line 2".into(),
        "error: wine.reg:1:1: Wine registry file (`WINE REGISTRY Version 2`), not a regedit export".into(),
        "error: truncated.wxs:4:1: malformed XML: unexpected end of file, an element is never closed".into(),
        "error: unknown-namespace.wxs:1:2: unknown WiX namespace `http://example.com/not-wix` on `<Wix>`: expected `http://schemas.microsoft.com/wix/2006/wi` (v3) or `http://wixtoolset.org/schemas/v4/wxs` (v4 and later)".into(),
        "error: entity-bomb.wxs:2:1: XML with a document type declaration (`<!DOCTYPE`): DTDs and entity declarations are refused, entities are never expanded".into(),
        "error: external-entity.wxs:1:70: unknown entity `&ext;` (only the five predefined XML entities are read)".into(),
        "error: not-wix.wxi:1:2: XML, but not a WiX source: the root element is `<Project>`, expected `<Wix>` or `<Include>`".into(),
        "error: cr-only.wse:1:19: lone CR (a carriage return without a line feed): script lines end with CR LF or LF; convert the line endings".into(),
        "error: utf16be.reg: UTF-16BE is not supported; save it as UTF-16LE (regedit's format)".into(),
    ]
}

/// The catalogue's files, a good package beside them, a directory named `x.reg` (searched like
/// any directory, not an error), an unreadable entry (a dangling symbolic link), a symbolic
/// link loop and a FIFO (skipped in a directory walk), all checked and fixed in one run.
#[test]
fn every_bad_input_gets_one_line_and_the_others_are_processed() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut expected = catalogue(dir);
    fs::copy(common::manifest_dir().join(GOOD), dir.join("good.wse")).unwrap();
    fs::create_dir(dir.join("x.reg")).unwrap();
    fs::copy(
        common::manifest_dir().join(GOOD),
        dir.join("x.reg").join("inner.wse"),
    )
    .unwrap();
    std::os::unix::fs::symlink("missing.reg", dir.join("dangling.reg")).unwrap();
    std::os::unix::fs::symlink("..", dir.join("x.reg").join("loop")).unwrap();
    let fifo = std::process::Command::new("mkfifo")
        .arg(dir.join("pipe.reg"))
        .status()
        .unwrap();
    assert!(fifo.success());
    expected.push("error: dangling.reg: no such file or directory".into());
    expected.push("error: x.reg/loop: symbolic link loop; not followed".into());
    expected.sort();

    for command in ["check", "fix"] {
        let before = snapshot(dir);
        let out = cargo_bin_cmd!("svcscrub")
            .current_dir(dir)
            .args([command, "--format", "concise", "--no-config", "."])
            .timeout(std::time::Duration::from_secs(120))
            .output()
            .unwrap();
        let stderr = String::from_utf8(out.stderr).unwrap();
        let stdout = String::from_utf8(out.stdout).unwrap();
        assert_eq!(out.status.code(), Some(2), "{command}: {stderr}");
        let mut errors: Vec<&str> = stderr
            .lines()
            .filter(|l| l.starts_with("error: "))
            .collect();
        errors.sort();
        assert_eq!(errors, expected, "{command}");
        if command == "check" {
            // The good files were checked.
            assert!(
                stdout.contains("\ngood.wse:7:3: SVC003")
                    || stdout.starts_with("good.wse:7:3: SVC003"),
                "{stdout}"
            );
            assert!(stdout.contains("\nx.reg/inner.wse:7:3: SVC003"), "{stdout}");
            assert_eq!(snapshot(dir), before, "check wrote something");
        } else {
            // The good files were fixed, and nothing else changed.
            let after = snapshot(dir);
            let changed: Vec<&str> = after
                .iter()
                .zip(&before)
                .filter(|(a, b)| a != b)
                .map(|(a, _)| a.0.as_str())
                .collect();
            assert_eq!(
                after.len(),
                before.len(),
                "{command} added or removed files"
            );
            assert_eq!(changed, ["good.wse", "x.reg/inner.wse"]);
        }
    }
}

/// Named on the command line: a path that does not exist, a FIFO (read it would block for
/// ever) and the catalogue's files, each with its line; the good file is still checked.
#[test]
fn explicit_bad_paths_get_one_line_each() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    catalogue(dir);
    fs::copy(common::manifest_dir().join(GOOD), dir.join("good.wse")).unwrap();
    let status = std::process::Command::new("mkfifo")
        .arg(dir.join("pipe.reg"))
        .status()
        .unwrap();
    assert!(status.success());
    let before = snapshot(dir);
    let out = cargo_bin_cmd!("svcscrub")
        .current_dir(dir)
        .args([
            "fix",
            "--no-config",
            "no/such/file.wse",
            "pipe.reg",
            "wine.reg",
            "good.wse",
        ])
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .collect();
    assert_eq!(
        errors,
        [
            "error: no/such/file.wse: no such file or directory",
            "error: pipe.reg: not a regular file (a FIFO, socket or device); not read",
            "error: wine.reg:1:1: Wine registry file (`WINE REGISTRY Version 2`), not a regedit export",
        ]
    );
    let after = snapshot(dir);
    let changed: Vec<&str> = after
        .iter()
        .zip(&before)
        .filter(|(a, b)| a != b)
        .map(|(a, _)| a.0.as_str())
        .collect();
    assert_eq!(changed, ["good.wse"]);
}

/// `-o` naming a directory (`x.reg`): refused in one line, nothing written, exit 2.
#[test]
fn output_to_a_directory_named_like_an_export_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    fs::copy(common::manifest_dir().join(GOOD), dir.join("good.wse")).unwrap();
    fs::create_dir(dir.join("x.reg")).unwrap();
    let before = snapshot(dir);
    let out = cargo_bin_cmd!("svcscrub")
        .current_dir(dir)
        .args(["fix", "--no-config", "-o", "x.reg", "good.wse"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .collect();
    assert_eq!(errors, ["error: x.reg: is not a regular file; not written"]);
    assert_eq!(snapshot(dir), before);
}

/// Runs `svcscrub ARGS` in `dir` with a time limit; exit code and `error:` lines.
fn run(dir: &Path, args: &[&str]) -> (Option<i32>, Vec<String>) {
    let out = cargo_bin_cmd!("svcscrub")
        .current_dir(dir)
        .args(args)
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    let errors = stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .map(str::to_owned)
        .collect();
    (out.status.code(), errors)
}

/// `--config` naming a FIFO (before: the run hung), a device (`/dev/zero`, before: read
/// until memory ran out) or a file over the 64 MiB limit (refused before it is read): one
/// line, exit 2, nothing written.
#[test]
fn hostile_configuration_is_refused_before_it_is_read() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    fs::copy(common::manifest_dir().join(GOOD), dir.join("good.wse")).unwrap();
    let status = std::process::Command::new("mkfifo")
        .arg(dir.join("pipe.toml"))
        .status()
        .unwrap();
    assert!(status.success());
    // Sparse: 100 MiB of nothing, which must not be read.
    fs::File::create(dir.join("huge.toml"))
        .unwrap()
        .set_len(100 << 20)
        .unwrap();
    let before = snapshot(dir);
    for (config, line) in [
        (
            "pipe.toml",
            "error: pipe.toml: cannot read configuration: not a regular file (a FIFO, socket or device); not read",
        ),
        (
            "/dev/zero",
            "error: /dev/zero: cannot read configuration: not a regular file (a FIFO, socket or device); not read",
        ),
        (
            "huge.toml",
            "error: huge.toml: cannot read configuration: larger than 64 MiB (104857600 bytes); not read",
        ),
    ] {
        let (code, errors) = run(dir, &["fix", "--config", config, "good.wse"]);
        assert_eq!(code, Some(2), "{config}");
        assert_eq!(errors, [line]);
        assert_eq!(snapshot(dir), before, "{config}");
    }
}

/// A script over the 1 GiB the parser takes is refused from its size, before it is read
/// (before: 1.8 GB were read whole, then refused). The file is sparse.
#[test]
fn an_oversized_script_is_refused_before_it_is_read() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let len: u64 = (1 << 30) + 4096;
    let mut file = fs::File::create(dir.join("huge.wse")).unwrap();
    std::io::Write::write_all(&mut file, b"Document Type: WSE\r\n").unwrap();
    file.set_len(len).unwrap();
    fs::copy(common::manifest_dir().join(GOOD), dir.join("good.wse")).unwrap();
    let start = std::time::Instant::now();
    let (code, errors) = run(dir, &["check", "--no-config", "huge.wse", "good.wse"]);
    assert_eq!(code, Some(2));
    assert_eq!(
        errors,
        [format!(
            "error: huge.wse: script larger than 1 GiB ({len} bytes); not read"
        )]
    );
    // Reading 1 GiB takes seconds and a gigabyte of memory; looking at its size does not.
    assert!(start.elapsed().as_secs() < 20, "{:?}", start.elapsed());
}

/// `services` lists are sets: 800,000 names, every one twice in another case (before: over
/// two minutes for 400,000, a linear scan per name), are read and deduplicated in seconds.
#[test]
fn a_large_services_list_is_fast() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    fs::copy(common::manifest_dir().join(GOOD), dir.join("good.wse")).unwrap();
    let mut toml = String::from("services = [");
    for i in 0..400_000 {
        toml.push_str(&format!("\"SVC{i:06}\",\"svc{i:06}\","));
    }
    toml.push_str("\"SYMEVENT\"]\n");
    fs::write(dir.join("svcscrub.toml"), toml).unwrap();
    let start = std::time::Instant::now();
    let (code, errors) = run(dir, &["check", "--format", "concise", "good.wse"]);
    assert_eq!(code, Some(1), "{errors:?}");
    assert!(start.elapsed().as_secs() < 30, "{:?}", start.elapsed());
}
