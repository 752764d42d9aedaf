//! Windows Installer databases: the view of their tables against msitools' `msiinfo export` (an
//! independent reader), written back unchanged when nothing changed, and with rows deleted or
//! cells updated leaving every other table, stream and the summary information as they were
//! (msitools agrees); bad databases get one line.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use svcscrub::detect::Format;
use svcscrub::pipeline::{Loaded, load};
use svcscrub::source::Encoding;
use svcscrub::syntax::Syntax;
use svcscrub::syntax::msi::View;

const EXAMPLE: &str = "examples/wix-service/AcmeAgent.msi";

fn example() -> (PathBuf, Vec<u8>) {
    let path = common::manifest_dir().join(EXAMPLE);
    let raw = std::fs::read(&path).expect("the example database");
    (path, raw)
}

fn view_of(loaded: &Loaded) -> &View {
    match &loaded.syntax {
        Syntax::Msi(view) => view,
        _ => panic!("{}: not read as a database", loaded.source.path),
    }
}

/// `msiinfo ARGS…`'s standard output; `None` (after saying so) when msitools is not
/// installed, which fails under `CI=true` (`.ci/run` installs it). msitools is a Linux tool:
/// a Windows build of the tests (run under Wine) skips the oracle.
fn msiinfo(args: &[&str]) -> Option<Vec<u8>> {
    if cfg!(windows) {
        eprintln!("msiinfo oracle skipped on Windows (msitools runs on Linux)");
        return None;
    }
    match Command::new("msiinfo").args(args).output() {
        Ok(out) => {
            assert!(
                out.status.success(),
                "msiinfo {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            Some(out.stdout)
        }
        Err(_) => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "msiinfo is missing under CI=true"
            );
            eprintln!("msiinfo not installed: oracle check skipped");
            None
        }
    }
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 path")
}

#[test]
fn the_view_is_each_table_as_msiinfo_exports_it() {
    let (path, raw) = example();
    let loaded = load(EXAMPLE, raw.clone()).unwrap();
    assert_eq!(loaded.format, Format::Msi);
    assert_eq!(loaded.source.encoding, Encoding::Database);
    let text = loaded.source.text();
    let view = view_of(&loaded);
    assert!(view.is_lossless(text));
    let names: Vec<String> = view
        .tables
        .iter()
        .map(|t| String::from_utf8_lossy(t.name.slice(text)).into_owned())
        .collect();
    // The tables the example has, of those the view holds, in the view's order.
    assert_eq!(
        names,
        [
            "Registry",
            "ServiceInstall",
            "ServiceControl",
            "Component",
            "InstallExecuteSequence",
            "Property"
        ]
    );
    assert_eq!(view.table(text, "Registry").unwrap().rows.len(), 26);
    assert!(!loaded.source.database().unwrap().signed);
    // Nothing changed: the database is written back as it was read.
    assert_eq!(loaded.source.encode(text), raw);
    for (name, table) in names.iter().zip(&view.tables) {
        let Some(export) = msiinfo(&["export", path_str(&path), name]) else {
            return;
        };
        let mine = table.range.slice(text);
        let sorted = |t: &[u8]| {
            let mut lines: Vec<Vec<u8>> = t.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
            lines[3..].sort();
            lines
        };
        // Same header lines, same rows (msiinfo may list rows in another order).
        assert_eq!(sorted(mine), sorted(&export), "table {name}");
    }
}

/// Deletes the Security row and rewrites `ControlSet001` in the copy's key, writes the
/// database, and checks it with msitools: every table but Registry exports the same, Registry
/// exports the original's rows minus the deleted one with the one key changed, and the
/// streams and the summary information are the same.
#[test]
fn rows_deleted_and_cells_updated_leave_everything_else_as_it_was() {
    let (path, raw) = example();
    let loaded = load(EXAMPLE, raw.clone()).unwrap();
    let text = String::from_utf8(loaded.source.text().to_vec()).unwrap();
    let security = text
        .lines()
        .find(|l| l.contains("\tSecurity\t"))
        .unwrap()
        .to_string();
    let edited = text.replace(&format!("{security}\r\n"), "").replace(
        "SYSTEM\\ControlSet001\\Services\\AcmeAgent\\Parameters\\\tRetryCount",
        "SYSTEM\\CurrentControlSet\\Services\\AcmeAgent\\Parameters\\\tRetryCount",
    );
    assert_eq!(edited.len(), text.len() - security.len() - 2 + 4);
    let database = loaded.source.database().unwrap();
    let written = svcscrub::syntax::msi::database::encode(database, edited.as_bytes())
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(written != raw);
    // Read back by svcscrub: the edited view.
    let again = load("fixed.msi", written.clone()).unwrap();
    let rows = |t: &str| -> Vec<String> {
        let mut v: Vec<String> = t.lines().map(str::to_string).collect();
        v.sort();
        v
    };
    assert_eq!(
        rows(std::str::from_utf8(again.source.text()).unwrap()),
        rows(&edited)
    );

    let tmp = tempfile::tempdir().unwrap();
    let fixed = tmp.path().join("fixed.msi");
    std::fs::write(&fixed, &written).unwrap();
    let Some(tables) = msiinfo(&["tables", path_str(&path)]) else {
        return;
    };
    let tables = String::from_utf8(tables).unwrap();
    assert_eq!(
        msiinfo(&["tables", path_str(&fixed)]).unwrap(),
        tables.as_bytes()
    );
    let export = |db: &Path, table: &str| -> Vec<String> {
        let out = String::from_utf8(msiinfo(&["export", path_str(db), table]).unwrap()).unwrap();
        let mut lines: Vec<String> = out.split("\r\n").map(str::to_string).collect();
        lines[3..].sort();
        lines
    };
    let mut compared = 0;
    for table in tables.lines().filter(|t| !t.starts_with('_')) {
        let (before, after) = (export(&path, table), export(&fixed, table));
        if table == "Registry" {
            let mut expected: Vec<String> = before
                .iter()
                .filter(|l| **l != security)
                .map(|l| {
                    l.replace(
                        "SYSTEM\\ControlSet001\\Services\\AcmeAgent\\Parameters\\\tRetryCount",
                        "SYSTEM\\CurrentControlSet\\Services\\AcmeAgent\\Parameters\\\tRetryCount",
                    )
                })
                .collect();
            expected[3..].sort();
            assert_eq!(after.len(), before.len() - 1);
            assert_eq!(after, expected, "Registry");
        } else {
            assert_eq!(after, before, "table {table}");
        }
        compared += 1;
    }
    assert!(compared >= 25, "{compared} tables compared");
    // The code page too: the example's is the neutral one (0), which a rewrite keeps.
    assert_eq!(export(&path, "_ForceCodepage")[2], "0\t_ForceCodepage");
    assert_eq!(
        export(&fixed, "_ForceCodepage"),
        export(&path, "_ForceCodepage")
    );
    assert_eq!(
        export(&fixed, "_SummaryInformation"),
        export(&path, "_SummaryInformation")
    );
    let streams = msiinfo(&["streams", path_str(&path)]).unwrap();
    assert_eq!(msiinfo(&["streams", path_str(&fixed)]).unwrap(), streams);
    for stream in String::from_utf8(streams).unwrap().lines() {
        assert_eq!(
            msiinfo(&["extract", path_str(&fixed), stream]).unwrap(),
            msiinfo(&["extract", path_str(&path), stream]).unwrap(),
            "stream {stream}"
        );
    }
}

#[test]
fn a_view_that_does_not_fit_its_database_is_not_written() {
    let (_, raw) = example();
    let loaded = load(EXAMPLE, raw.clone()).unwrap();
    let text = String::from_utf8(loaded.source.text().to_vec()).unwrap();
    // A renamed row (a new primary key) cannot be written: the database as read is kept, and
    // writing through `feed_raw` is an error.
    let renamed = text
        .replacen("\treg", "\tZZZ", 1)
        .replacen("\nreg", "\nzzz", 1);
    assert_eq!(loaded.source.encode(renamed.as_bytes()), raw);
    let mut edited = loaded.source.clone();
    edited.edit_text(|buf, base| {
        buf.truncate(base);
        buf.extend_from_slice(renamed.as_bytes());
    });
    let mut sink = Vec::new();
    let error = edited
        .feed_raw(&mut |piece| {
            sink.extend_from_slice(piece);
            Ok(())
        })
        .unwrap_err();
    assert!(error.to_string().contains("primary key changed"), "{error}");
    assert!(sink.is_empty());
}

/// A database built with the `msi` crate: an installer with only a `Property` table, or a
/// transform.
fn built(kind: msi::PackageType, with_registry: bool) -> Vec<u8> {
    let mut package = msi::Package::create(kind, std::io::Cursor::new(Vec::new())).unwrap();
    package
        .create_table(
            "Property",
            vec![
                msi::Column::build("Property").primary_key().id_string(72),
                msi::Column::build("Value").nullable().text_string(0),
            ],
        )
        .unwrap();
    if with_registry {
        package
            .create_table(
                "Registry",
                vec![msi::Column::build("Registry").primary_key().id_string(72)],
            )
            .unwrap();
    }
    package.into_inner().unwrap().into_inner()
}

#[test]
fn bad_databases_get_one_line() {
    let (_, raw) = example();
    let error = |name: &str, bytes: Vec<u8>| -> String {
        let e = load(name, bytes).unwrap_err().to_string();
        assert!(!e.contains('\n'), "{e}");
        assert!(e.starts_with(&format!("{name}: ")), "{e}");
        e
    };
    // Truncated: only the first sectors.
    let truncated = error("truncated.msi", raw[..4096].to_vec());
    assert!(
        truncated.contains("Windows Installer database"),
        "{truncated}"
    );
    // A compound file that holds no database.
    let mut compound = cfb::CompoundFile::create(std::io::Cursor::new(Vec::new())).unwrap();
    std::io::Write::write_all(
        &mut compound.create_stream("/WordDocument").unwrap(),
        b"text",
    )
    .unwrap();
    let document = compound.into_inner().into_inner();
    let e = error("letter.doc", document);
    assert!(e.contains("Windows Installer database"), "{e}");
    // A transform is the changes to another database.
    let e = error("change.mst", built(msi::PackageType::Transform, false));
    assert!(e.contains("transform (.mst)"), "{e}");
    // A table the view holds with one column cannot be a real Registry table.
    let e = error("odd.msi", built(msi::PackageType::Installer, true));
    assert!(e.contains("table Registry has 1 column"), "{e}");
    // Every byte of the header and directory corrupted in turn: never a panic, never two lines.
    for at in (0..raw.len().min(8192)).step_by(97) {
        let mut corrupt = raw.clone();
        corrupt[at] ^= 0x5A;
        if let Err(e) = load("corrupt.msi", corrupt) {
            assert!(!e.to_string().contains('\n'));
        }
    }
}

#[test]
fn a_database_without_registry_or_service_tables_is_read_as_having_none() {
    let loaded = load("plain.msi", built(msi::PackageType::Installer, false)).unwrap();
    let text = loaded.source.text();
    let view = view_of(&loaded);
    assert!(view.table(text, "Registry").is_none());
    assert!(view.table(text, "ServiceInstall").is_none());
    assert_eq!(view.tables.len(), 1);
}

/// The command line finds `.msi` files in a directory walk beside the WiX source, reads them
/// (each has the example's 19 findings), and writes a database with nothing to fix back byte
/// for byte.
#[test]
fn the_command_reads_a_package_directory_and_writes_databases_back() {
    let dir = common::manifest_dir().join("examples/wix-service");
    let out = assert_cmd::cargo::cargo_bin_cmd!("svcscrub")
        .args(["check", "--no-config", "--format", "concise"])
        .arg(&dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("Found 38 findings in 2 files"), "{stdout}");
    let tmp = tempfile::tempdir().unwrap();
    let written = tmp.path().join("out.msi");
    let (path, raw) = example();
    // A rule that finds nothing here: nothing to fix.
    let out = assert_cmd::cargo::cargo_bin_cmd!("svcscrub")
        .args(["fix", "--no-config", "--select", "SVC040", "-o"])
        .arg(&written)
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(std::fs::read(&written).unwrap() == raw);
    // A broken database beside a good one: one line for it, and the good one is read.
    std::fs::copy(&path, tmp.path().join("good.msi")).unwrap();
    std::fs::write(tmp.path().join("broken.msi"), &raw[..3000]).unwrap();
    let out = assert_cmd::cargo::cargo_bin_cmd!("svcscrub")
        .current_dir(tmp.path())
        .args(["check", "--no-config", "--format", "concise", "."])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(
        errors[0].starts_with("error: broken.msi: not a readable Windows Installer database: "),
        "{stderr}"
    );
}

/// A database with a `Registry` table of two rows, the first with `key` as its primary key.
fn registry_database(key: &str) -> Vec<u8> {
    let mut package = msi::Package::create(
        msi::PackageType::Installer,
        std::io::Cursor::new(Vec::new()),
    )
    .unwrap();
    package
        .create_table(
            "Registry",
            // A plain string, so the crate lets in a key no real package would have.
            common::registry_columns(msi::Column::build("Registry").primary_key().string(72)),
        )
        .unwrap();
    let row = |id: &str, name: &str| {
        vec![
            msi::Value::from(id),
            msi::Value::Int(2),
            msi::Value::from("SYSTEM\\CurrentControlSet\\Services\\A"),
            msi::Value::from(name),
            msi::Value::from("#1"),
            msi::Value::from("C"),
        ]
    };
    package
        .insert_rows(
            msi::Insert::into("Registry")
                .row(row(key, "Start"))
                .row(row("regB", "Type")),
        )
        .unwrap();
    package.into_inner().unwrap().into_inner()
}

/// A string holding a byte the view uses for a tab (0x15) cannot be selected through the view:
/// the change is refused, never reported done with nothing changed (msi_parse fuzz target).
#[test]
fn a_row_the_view_cannot_show_exactly_is_not_silently_kept() {
    let raw = registry_database("reg\u{15}A");
    let loaded = load("odd.msi", raw).unwrap();
    let text = loaded.source.text();
    let view = view_of(&loaded);
    let database = loaded.source.database().unwrap();
    let rows = &view.table(text, "Registry").unwrap().rows;
    let without = |i: usize| [&text[..rows[i].line.start], &text[rows[i].line.end..]].concat();
    let odd = rows
        .iter()
        .position(|r| r.line.slice(text).starts_with(b"reg\x15A"))
        .unwrap();
    let e = svcscrub::syntax::msi::database::encode(database, &without(odd)).unwrap_err();
    assert!(e.0.contains("does not read back as the fixed view"), "{e}");
    // The other row is deleted as asked.
    let written = svcscrub::syntax::msi::database::encode(database, &without(1 - odd)).unwrap();
    let again = load("fixed.msi", written).unwrap();
    assert_eq!(
        view_of(&again)
            .table(again.source.text(), "Registry")
            .unwrap()
            .rows
            .len(),
        1
    );
}

/// Many changes to one table rewrite it at once (a query per change would read and write the
/// whole table each time): the rows kept, with the changed cell, are what msiinfo exports.
#[test]
fn many_changes_to_a_table_rewrite_it_with_the_kept_rows() {
    let mut package = msi::Package::create(
        msi::PackageType::Installer,
        std::io::Cursor::new(Vec::new()),
    )
    .unwrap();
    package
        .create_table(
            "Registry",
            common::registry_columns(msi::Column::build("Registry").primary_key().id_string(72)),
        )
        .unwrap();
    let row = |id: String, key: &str, name: String| {
        vec![
            msi::Value::from(id),
            msi::Value::Int(2),
            msi::Value::from(key),
            msi::Value::from(name.as_str()),
            msi::Value::from("#1"),
            msi::Value::from("C"),
        ]
    };
    let services = "SYSTEM\\CurrentControlSet\\Services\\Foo";
    let mut rows: Vec<Vec<msi::Value>> = (0..50)
        .map(|i| {
            row(
                format!("enum{i:02}"),
                &format!("{services}\\Enum"),
                format!("{i}"),
            )
        })
        .collect();
    rows.extend((0..10).map(|i| {
        row(
            format!("param{i}"),
            &format!("{services}\\Parameters"),
            format!("P{i}"),
        )
    }));
    rows.push(row(
        "copy".into(),
        "SYSTEM\\ControlSet001\\Services\\Foo\\Parameters",
        "Only".into(),
    ));
    package
        .insert_rows(msi::Insert::into("Registry").rows(rows))
        .unwrap();
    let raw = package.into_inner().unwrap().into_inner();
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("many.msi"), &raw).unwrap();
    let out = assert_cmd::cargo::cargo_bin_cmd!("svcscrub")
        .current_dir(tmp.path())
        .args(["fix", "--no-config", "many.msi"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("Fixed 51 findings in 1 file."), "{stderr}");
    let fixed = tmp.path().join("many.msi");
    let Some(export) = msiinfo(&["export", path_str(&fixed), "Registry"]) else {
        return;
    };
    let export = String::from_utf8(export).unwrap();
    let mut rows: Vec<&str> = export
        .split("\r\n")
        .skip(3)
        .filter(|l| !l.is_empty())
        .collect();
    rows.sort_unstable();
    let mut expected: Vec<String> = (0..10)
        .map(|i| format!("param{i}\t2\t{services}\\Parameters\tP{i}\t#1\tC"))
        .collect();
    expected.insert(0, format!("copy\t2\t{services}\\Parameters\tOnly\t#1\tC"));
    assert_eq!(rows, expected);
}

/// A database of the neutral code page (0) whose strings are not UTF-8 (here a Windows-1252
/// `é`): the `msi` crate would read them as UTF-8 and write them back changed, so a fix is
/// refused with one line and the file is left as it was.
#[test]
fn a_neutral_database_with_strings_that_are_not_utf8_is_not_rewritten() {
    let mut package = msi::Package::create(
        msi::PackageType::Installer,
        std::io::Cursor::new(Vec::new()),
    )
    .unwrap();
    package.set_database_codepage(msi::CodePage::Windows1252);
    package
        .create_table(
            "Registry",
            common::registry_columns(msi::Column::build("Registry").primary_key().id_string(72)),
        )
        .unwrap();
    let row = |id: &str, key: &str, value: &str| {
        vec![
            msi::Value::from(id),
            msi::Value::Int(2),
            msi::Value::from(key),
            msi::Value::from("0"),
            msi::Value::from(value),
            msi::Value::from("C"),
        ]
    };
    package
        .insert_rows(msi::Insert::into("Registry").rows(vec![
            row(
                "enum",
                "SYSTEM\\CurrentControlSet\\Services\\Foo\\Enum",
                "Root\\LEGACY_FOO\\0000",
            ),
            row("desc", "SOFTWARE\\Foo", "Café"),
        ]))
        .unwrap();
    let raw = package.into_inner().unwrap().into_inner();
    // The string pool's header says 1252; make it say 0 (neutral), as many real databases do.
    let mut compound = cfb::CompoundFile::open(std::io::Cursor::new(raw)).unwrap();
    let streams: Vec<String> = compound
        .walk()
        .filter(|e| e.is_stream())
        .map(|e| e.path().to_string_lossy().into_owned())
        .collect();
    let mut patched = 0;
    for name in streams {
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut compound.open_stream(&name).unwrap(), &mut bytes).unwrap();
        if bytes.starts_with(&1252u32.to_le_bytes()) {
            let mut stream = compound.open_stream(&name).unwrap();
            std::io::Write::write_all(&mut stream, &0u32.to_le_bytes()).unwrap();
            patched += 1;
        }
    }
    assert_eq!(patched, 1, "the string pool");
    compound.flush().unwrap();
    let raw = compound.into_inner().into_inner();
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("ansi.msi"), &raw).unwrap();
    let out = assert_cmd::cargo::cargo_bin_cmd!("svcscrub")
        .current_dir(tmp.path())
        .args(["fix", "--no-config", "ansi.msi"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(errors[0].contains("ansi.msi"), "{stderr}");
    assert!(errors[0].contains("its strings are not UTF-8"), "{stderr}");
    assert!(std::fs::read(tmp.path().join("ansi.msi")).unwrap() == raw);
}
