//! The rules on WiX sources and Windows Installer databases: the example's source and the
//! database wixl built from it give the same findings; `fix` on the source still compiles with
//! wixl and builds the registry `fix` leaves in the database; `fix` on the database changes
//! exactly the captured `Registry` rows and the key paths of their components (msitools agrees);
//! a database beside a `.reg` export is one package with it.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn example_dir() -> PathBuf {
    common::manifest_dir().join("examples/wix-service")
}

fn svcscrub(dir: &Path, args: &[&str]) -> Output {
    assert_cmd::cargo::cargo_bin_cmd!("svcscrub")
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap()
}

/// A copy of the example's `files` in a new directory.
fn copy_example(files: &[&str]) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    for name in files {
        std::fs::copy(example_dir().join(name), tmp.path().join(name)).unwrap();
    }
    tmp
}

/// What a finding is about, whatever the format: rule, service, key (a database's as Windows
/// reads it: without the trailing `\` wixl gives every key), value, fix applicability.
type About = (String, String, String, String, String);

fn findings(dir: &Path, file: &str) -> Vec<About> {
    let out = svcscrub(dir, &["check", "--no-config", "--format", "json", file]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let text = |f: &serde_json::Value, k: &str| f[k].as_str().unwrap_or_default().to_string();
    let mut all: Vec<About> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                text(f, "code"),
                text(f, "service"),
                text(f, "registry_key"),
                text(f, "value_name"),
                text(&f["fix"], "applicability"),
            )
        })
        .collect();
    all.sort();
    all
}

#[test]
fn a_source_and_the_database_built_from_it_give_the_same_findings() {
    let dir = example_dir();
    let source = findings(&dir, "AcmeAgent.wxs");
    let database = findings(&dir, "AcmeAgent.msi");
    assert_eq!(source, database);
    let count = |code: &str| source.iter().filter(|f| f.0 == code).count();
    // Security; the three Enum values; LEGACY_ACMEAGENT and its 0000 node's six; the six
    // values ServiceInstall writes itself; the ControlSet001 copy and the ControlSet001 write.
    assert_eq!(
        [count("SVC001"), count("SVC002"), count("SVC003")],
        [1, 3, 7]
    );
    assert_eq!([count("SVC010"), count("SVC020")], [6, 2]);
    assert_eq!(source.len(), 19);
    assert!(source.iter().all(|f| f.4 == "safe"), "{source:?}");
    let values: BTreeSet<&str> = source
        .iter()
        .filter(|f| f.0 == "SVC010")
        .map(|f| f.3.as_str())
        .collect();
    assert_eq!(
        values,
        BTreeSet::from([
            "DisplayName",
            "ErrorControl",
            "ImagePath",
            "ObjectName",
            "Start",
            "Type"
        ])
    );
    // The vendor's configuration is never reported: Parameters (under CurrentControlSet), the
    // event source, SOFTWARE, and the values ServiceInstall cannot set.
    assert!(!source.iter().any(|f| {
        f.2.contains("CurrentControlSet\\Services\\AcmeAgent\\Parameters")
            || f.2.contains("EventLog")
            || f.2.starts_with("HKLM\\SOFTWARE")
            || f.3 == "Description"
            || f.3 == "DelayedAutostart"
    }));
}

/// `tool ARGS…`'s output; `None` (after saying so) when the tool is not installed, which fails
/// under `CI=true` (`.ci/run` installs msitools and wixl). Both are Linux tools: a Windows
/// build of the tests (run under Wine) skips them.
fn oracle(tool: &str, dir: &Path, args: &[&str]) -> Option<Vec<u8>> {
    if cfg!(windows) {
        eprintln!("{tool} oracle skipped on Windows (msitools runs on Linux)");
        return None;
    }
    match Command::new(tool).current_dir(dir).args(args).output() {
        Ok(out) => {
            assert!(
                out.status.success(),
                "{tool} {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            Some(out.stdout)
        }
        Err(_) => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "{tool} is missing under CI=true"
            );
            eprintln!("{tool} not installed: oracle check skipped");
            None
        }
    }
}

/// A table as `msiinfo export` gives it: the three header lines, then the rows sorted.
fn export(dir: &Path, database: &str, table: &str) -> Option<Vec<String>> {
    let out = oracle("msiinfo", dir, &["export", database, table])?;
    let mut lines: Vec<String> = String::from_utf8(out)
        .unwrap()
        .split("\r\n")
        .map(str::to_string)
        .collect();
    if lines.len() > 3 {
        lines[3..].sort();
    }
    Some(lines)
}

/// A `Registry` export's rows without their generated primary key (wixl derives it from the
/// key, so a rewritten key gets another), the keys without wixl's trailing `\`.
fn registry_rows(table: &[String]) -> BTreeSet<String> {
    table[3..]
        .iter()
        .filter(|row| !row.is_empty())
        .map(|row| {
            let cells: Vec<&str> = row.split('\t').collect();
            let key = cells[2].trim_end_matches('\\');
            [cells[1], key, cells[3], cells[4], cells[5]].join("\t")
        })
        .collect()
}

#[test]
fn the_fixed_source_compiles_into_the_registry_of_the_fixed_database() {
    let tmp = copy_example(&["AcmeAgent.wxs", "AcmeAgent.msi", "acmeagent.exe"]);
    let dir = tmp.path();
    // Each file fixed on its own, in a directory of its own: next to it, the other file is
    // context (a directory argument would make them one package), and once the source is
    // fixed its `CurrentControlSet` write would make the database's `ControlSet001` copy one to
    // remove rather than to move.
    for file in ["AcmeAgent.wxs", "AcmeAgent.msi"] {
        let alone = tempfile::tempdir().unwrap();
        std::fs::copy(dir.join(file), alone.path().join(file)).unwrap();
        let out = svcscrub(alone.path(), &["fix", "--no-config", file]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{file}: {stderr}");
        assert!(stderr.contains("Fixed 19 findings in 1 file."), "{stderr}");
        // The components whose key path row goes are named, and so is the one left empty.
        assert!(
            stderr.contains("the key path of component `CapturedServiceKey` moves to"),
            "{stderr}"
        );
        assert!(
            stderr.contains("component `CapturedSystemState`"),
            "{stderr}"
        );
        let out = svcscrub(alone.path(), &["check", "--no-config", file]);
        assert_eq!(out.status.code(), Some(0), "{file}: nothing left to find");
        std::fs::copy(alone.path().join(file), dir.join(file)).unwrap();
    }
    let source = std::fs::read_to_string(dir.join("AcmeAgent.wxs")).unwrap();
    assert!(
        !source.contains("Key=\"SYSTEM\\ControlSet001") && !source.contains("LEGACY_ACMEAGENT")
    );
    assert!(
        source.contains(
            r#"<RegistryValue Name="RetryCount" Type="integer" Value="5" KeyPath="yes" />"#
        )
    );
    // The fixed source still compiles, and into the registry the fixed database writes.
    if oracle("wixl", dir, &["-o", "rebuilt.msi", "AcmeAgent.wxs"]).is_none() {
        return;
    }
    let rebuilt = export(dir, "rebuilt.msi", "Registry").unwrap();
    let fixed = export(dir, "AcmeAgent.msi", "Registry").unwrap();
    assert_eq!(registry_rows(&rebuilt), registry_rows(&fixed));
    assert_eq!(registry_rows(&fixed).len(), 26 - 18);
}

#[test]
fn the_fixed_database_differs_only_in_the_captured_rows_and_key_paths() {
    let tmp = copy_example(&["AcmeAgent.msi"]);
    let dir = tmp.path();
    std::fs::copy(
        example_dir().join("AcmeAgent.msi"),
        dir.join("original.msi"),
    )
    .unwrap();
    let out = svcscrub(dir, &["fix", "--no-config", "AcmeAgent.msi"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let Some(tables) = oracle("msiinfo", dir, &["tables", "original.msi"]) else {
        return;
    };
    assert_eq!(
        oracle("msiinfo", dir, &["tables", "AcmeAgent.msi"]).unwrap(),
        tables
    );
    let tables = String::from_utf8(tables).unwrap();
    let mut compared = 0;
    for table in tables
        .lines()
        .chain(["_SummaryInformation", "_ForceCodepage"])
    {
        let before = export(dir, "original.msi", table).unwrap();
        let after = export(dir, "AcmeAgent.msi", table).unwrap();
        compared += 1;
        match table {
            "Registry" => {
                let kept: Vec<&String> = before[3..]
                    .iter()
                    .filter(|row| {
                        if row.is_empty() {
                            return true;
                        }
                        let captured = [
                            "\\Security\\\t",
                            "\\Enum\\",
                            "LEGACY_",
                            "AcmeAgent\\\tType\t",
                            "AcmeAgent\\\tStart\t",
                            "AcmeAgent\\\tErrorControl\t",
                            "AcmeAgent\\\tImagePath\t",
                            "AcmeAgent\\\tDisplayName\t",
                            "AcmeAgent\\\tObjectName\t",
                            "ControlSet001\\Services\\AcmeAgent\\Parameters\\\tLogLevel\t",
                        ];
                        !captured.iter().any(|c| row.contains(c))
                    })
                    .collect();
                assert_eq!(
                    kept.len(),
                    8 + 1,
                    "the eight rows kept and the export's last empty line"
                );
                let mut expected: Vec<String> = before[..3].to_vec();
                expected.extend(kept.iter().map(|row| {
                    row.replace("SYSTEM\\ControlSet001\\", "SYSTEM\\CurrentControlSet\\")
                }));
                expected[3..].sort();
                assert_eq!(after, expected, "Registry");
            }
            "Component" => {
                // Only the key paths of the three components that lost their key-path row:
                // handed to a kept row, or (none kept) cleared with the registry attribute.
                let changed: Vec<(&String, &String)> =
                    before.iter().zip(&after).filter(|(b, a)| b != a).collect();
                let shown: Vec<String> = changed
                    .iter()
                    .map(|(_, a)| {
                        let cells: Vec<&str> = a.split('\t').collect();
                        format!("{} {} {}", cells[0], cells[3], cells[5])
                    })
                    .collect();
                assert_eq!(
                    shown,
                    [
                        "CapturedControlSet 4 regFF57363791F931CE85B54180A9942C2A",
                        "CapturedServiceKey 4 reg540FD6A47BEB116AB1765875EF292674",
                        "CapturedSystemState 0 ",
                    ]
                );
                assert_eq!(before.len(), after.len());
            }
            _ => assert_eq!(after, before, "table {table}"),
        }
    }
    assert!(compared >= 27, "{compared} tables compared");
    let streams = oracle("msiinfo", dir, &["streams", "original.msi"]).unwrap();
    assert_eq!(
        oracle("msiinfo", dir, &["streams", "AcmeAgent.msi"]).unwrap(),
        streams
    );
    for stream in String::from_utf8(streams).unwrap().lines() {
        assert_eq!(
            oracle("msiinfo", dir, &["extract", "AcmeAgent.msi", stream]).unwrap(),
            oracle("msiinfo", dir, &["extract", "original.msi", stream]).unwrap(),
            "stream {stream}"
        );
    }
}

/// A `.reg` export of the service key beside the database: the database's `ServiceInstall`
/// row creates the service, so the export's writes are redundant (SVC010), not a service
/// installed by registry writes alone (SVC030, which the export gets on its own).
#[test]
fn a_database_and_a_registry_export_side_by_side_are_one_package() {
    let tmp = copy_example(&["AcmeAgent.msi"]);
    let dir = tmp.path();
    let export = "Windows Registry Editor Version 5.00\r\n\r\n\
[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\AcmeAgent]\r\n\
\"Type\"=dword:00000010\r\n\
\"Start\"=dword:00000002\r\n\
\"ImagePath\"=\"C:\\\\Program Files\\\\Acme Telemetry\\\\acmeagent.exe\"\r\n\r\n";
    std::fs::write(dir.join("capture.reg"), export).unwrap();
    let codes = |out: &Output| -> Vec<String> {
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| l.starts_with("capture.reg:"))
            .filter_map(|l| l.split(' ').nth(1).map(str::to_string))
            .collect()
    };
    let together = svcscrub(dir, &["check", "--no-config", "--format", "concise", "."]);
    let stdout = String::from_utf8_lossy(&together.stdout);
    assert_eq!(codes(&together), ["SVC010"; 4], "{stdout}");
    assert!(
        stdout.contains(
            "created by the ServiceInstall item at AcmeAgent.msi:ServiceInstall/AgentService"
        ),
        "{stdout}"
    );
    let alone = tempfile::tempdir().unwrap();
    std::fs::write(alone.path().join("capture.reg"), export).unwrap();
    let out = svcscrub(
        alone.path(),
        &["check", "--no-config", "--format", "concise", "."],
    );
    assert_eq!(codes(&out), ["SVC030"]);
}

/// A signed database: the fix says, in its report and before its diff, that the signature no
/// longer matches (the signature stream itself is kept byte for byte).
#[test]
fn a_fix_of_a_signed_database_says_it_invalidates_the_signature() {
    let tmp = copy_example(&["AcmeAgent.msi"]);
    let dir = tmp.path();
    let raw = std::fs::read(dir.join("AcmeAgent.msi")).unwrap();
    let mut compound = cfb::CompoundFile::open(std::io::Cursor::new(raw)).unwrap();
    std::io::Write::write_all(
        &mut compound.create_stream("/\u{5}DigitalSignature").unwrap(),
        b"a PKCS#7 signature",
    )
    .unwrap();
    compound.flush().unwrap();
    std::fs::write(dir.join("Signed.msi"), compound.into_inner().into_inner()).unwrap();
    std::fs::remove_file(dir.join("AcmeAgent.msi")).unwrap();
    let out = svcscrub(dir, &["fix", "--no-config", "--diff", "Signed.msi"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.starts_with("svcscrub: the package is digitally signed: this change invalidates its signature; sign it again\n"),
        "{stdout}"
    );
    assert!(stdout.contains("--- a/Signed.msi:Registry"), "{stdout}");
    let out = svcscrub(dir, &["fix", "--no-config", "Signed.msi"]);
    let stderr_fix = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr_fix}");
    assert!(
        stderr_fix.contains("Signed.msi: the package is digitally signed"),
        "{stderr}{stderr_fix}"
    );
    let written = std::fs::read(dir.join("Signed.msi")).unwrap();
    let mut compound = cfb::CompoundFile::open(std::io::Cursor::new(written)).unwrap();
    let mut signature = Vec::new();
    std::io::Read::read_to_end(
        &mut compound.open_stream("/\u{5}DigitalSignature").unwrap(),
        &mut signature,
    )
    .unwrap();
    assert_eq!(signature, b"a PKCS#7 signature");
}

/// Wine's `msiexec` installs a package into a new prefix of its own under `root` (removed
/// afterwards); returns the values it wrote under `keys` as (key, name, data) read from
/// `regedit /E` exports. `None` when Wine is not installed (which fails under `CI=true`:
/// `.ci/run` installs it first).
fn installed_by_wine(
    root: &Path,
    package: &Path,
    keys: &[&str],
) -> Option<BTreeSet<(String, String, String)>> {
    let prefix = root.join("prefix");
    let wine = |program: &str, args: &[&str]| -> Option<Output> {
        match Command::new(program)
            .args(args)
            .env("WINEPREFIX", &prefix)
            .env("WINEDEBUG", "-all")
            .env("WINEDLLOVERRIDES", "mscoree,mshtml=")
            .current_dir(root)
            .output()
        {
            Ok(out) => Some(out),
            Err(_) => {
                assert!(
                    std::env::var("CI").as_deref() != Ok("true"),
                    "wine is missing under CI=true"
                );
                eprintln!("wine not installed: msiexec oracle skipped");
                None
            }
        }
    };
    // 32-bit Wine is not installed: wineboot's syswow64 complaint is expected and harmless,
    // but the prefix must be there (a full disk leaves it half made).
    let mut out = wine("wineboot", &["-i"])?;
    wine("wineserver", &["-w"])?;
    if !prefix.join("drive_c/windows/system32").is_dir() {
        // On a loaded machine wineboot now and then ends before the prefix is written (seen
        // once in a full run); a second start makes it.
        out = wine("wineboot", &["-i"])?;
        wine("wineserver", &["-w"])?;
    }
    assert!(
        prefix.join("drive_c/windows/system32").is_dir(),
        "wineboot made no prefix: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let package = package.to_str().unwrap();
    let out = wine("wine", &["msiexec", "/i", package, "/qn"])?;
    assert!(
        out.status.success(),
        "msiexec: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    wine("wineserver", &["-w"])?;
    let mut values = BTreeSet::new();
    for key in keys {
        let file = root.join("export.reg");
        let _ = std::fs::remove_file(&file);
        wine("wine", &["regedit", "/E", "export.reg", key])?;
        let Ok(raw) = std::fs::read(&file) else {
            continue; // No such key.
        };
        let units: Vec<u16> = raw[2..]
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        let text = String::from_utf16(&units).unwrap();
        let mut current = String::new();
        for line in text.lines() {
            if let Some(k) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                current = k.to_string();
            } else if let Some((name, data)) = line.split_once('=')
                && line.starts_with('"')
            {
                values.insert((current.clone(), name.to_string(), data.to_string()));
            }
        }
    }
    // This prefix's server is done with, and the prefix (about 700 MB) too.
    wine("wineserver", &["-k"])?;
    let _ = std::fs::remove_dir_all(&prefix);
    Some(values)
}

/// End to end: the original example and the fixed one, each installed by Wine's `msiexec` into
/// a new prefix (about 70 s), write the same registry but for the captured system state, and for the
/// `ControlSet001` write that now lands in `CurrentControlSet` (the set a machine whose
/// current set is 001 reads; Wine keeps the two apart).
#[test]
fn the_fixed_database_installs_the_same_registry_but_the_captured_state() {
    if cfg!(windows) {
        eprintln!("msiexec oracle skipped on Windows (Wine runs on Linux)");
        return;
    }
    let tmp = copy_example(&["AcmeAgent.msi"]);
    let dir = tmp.path();
    std::fs::copy(
        example_dir().join("AcmeAgent.msi"),
        dir.join("original.msi"),
    )
    .unwrap();
    let out = svcscrub(dir, &["fix", "--no-config", "AcmeAgent.msi"]);
    assert_eq!(out.status.code(), Some(0));
    let lm = "HKEY_LOCAL_MACHINE\\SYSTEM\\";
    let keys = [
        format!("{lm}CurrentControlSet\\Services\\AcmeAgent"),
        format!("{lm}ControlSet001\\Services\\AcmeAgent"),
        format!("{lm}CurrentControlSet\\Enum\\Root\\LEGACY_ACMEAGENT"),
        format!("{lm}CurrentControlSet\\Services\\EventLog\\Application\\AcmeAgent"),
        "HKEY_LOCAL_MACHINE\\SOFTWARE\\Wow6432Node\\Acme".to_string(),
        "HKEY_LOCAL_MACHINE\\SOFTWARE\\Acme".to_string(),
    ];
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    std::fs::create_dir_all(&a).unwrap();
    std::fs::create_dir_all(&b).unwrap();
    // One after the other, each prefix removed when read: a prefix takes about 700 MB.
    let Some(original) = installed_by_wine(&a, &dir.join("original.msi"), &keys) else {
        return;
    };
    let fixed = installed_by_wine(&b, &dir.join("AcmeAgent.msi"), &keys).unwrap();
    // The service was installed (its values are the ServiceInstall row's), and the vendor's
    // configuration is there.
    let service = format!("{lm}CurrentControlSet\\Services\\AcmeAgent");
    assert!(original.contains(&(service.clone(), "\"Type\"".into(), "dword:00000010".into())));
    assert!(fixed.contains(&(
        format!("{service}\\Parameters"),
        "\"Endpoint\"".into(),
        "\"https://telemetry.acme.example/ingest\"".into()
    )));
    let captured = |key: &str| {
        key.starts_with(&format!("{service}\\Security"))
            || key.starts_with(&format!("{service}\\Enum"))
            || key.contains("\\Enum\\Root\\LEGACY_ACMEAGENT")
    };
    assert!(original.iter().any(|(k, _, _)| captured(k)));
    let expected: BTreeSet<(String, String, String)> = original
        .iter()
        .filter(|(k, _, _)| !captured(k))
        .map(|(k, n, d)| {
            (
                k.replace("\\ControlSet001\\", "\\CurrentControlSet\\"),
                n.clone(),
                d.clone(),
            )
        })
        .collect();
    assert_eq!(fixed, expected);
}
