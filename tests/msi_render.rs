//! A finding in a database, which has no lines, is located by its table, row and column in
//! every output format (the rules do not report in databases yet: these findings are made by
//! hand on the example database), and a database's diff is its changed tables as `.idt` text,
//! one per header, which `patch` applies to an export of the table.

mod common;

use std::path::Path;

use svcscrub::diagnostic::{Diagnostic, Severity};
use svcscrub::fix::{Applicability, Edit, Fix};
use svcscrub::pipeline::{Loaded, load};
use svcscrub::render::json::FileDiagnostics;
use svcscrub::render::{Invocation, concise, diff, full, github, json, sarif};
use svcscrub::text::TextRange;

const EXAMPLE: &str = "examples/wix-service/AcmeAgent.msi";

fn example() -> Loaded {
    let raw = std::fs::read(common::manifest_dir().join(EXAMPLE)).unwrap();
    load("pkg/AcmeAgent.msi", raw).unwrap()
}

/// The Security row's `Value` cell, and its row key.
fn security_value(loaded: &Loaded) -> (TextRange, String) {
    let text = loaded.source.text();
    let line_start = memchr::memmem::find(text, b"\tSecurity\t01001480").unwrap();
    let row_start = text[..line_start]
        .iter()
        .rposition(|&b| b == b'\n')
        .unwrap()
        + 1;
    let key = String::from_utf8(
        text[row_start..line_start]
            .split(|&b| b == b'\t')
            .next()
            .unwrap()
            .to_vec(),
    )
    .unwrap();
    let value = line_start + b"\tSecurity\t".len();
    (TextRange::new(value, value + 8), key)
}

fn finding(range: TextRange) -> Diagnostic {
    Diagnostic {
        code: "SVC001",
        name: "service-security-descriptor",
        severity: Severity::Error,
        message: "captured security descriptor for service `AcmeAgent`".into(),
        range,
        service: Some("AcmeAgent".into()),
        registry_key: "HKLM\\SYSTEM\\CurrentControlSet\\Services\\AcmeAgent\\Security".into(),
        value_name: Some("Security".into()),
        fix: Some(Box::new(Fix {
            applicability: Applicability::Safe,
            title: "remove the captured security descriptor".into(),
            edits: vec![Edit::delete(range)],
        })),
    }
}

#[test]
fn a_database_finding_names_its_table_row_and_column() {
    let loaded = example();
    let (range, key) = security_value(&loaded);
    let located = format!("Registry/{key}/Value");
    let row = loaded.source.row_of(range).unwrap();
    assert_eq!(row.to_string(), located);
    let diagnostics = [finding(range)];
    let source = &loaded.source;

    let mut out = Vec::new();
    concise::render(&mut out, source, &diagnostics, false, false).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        format!(
            "pkg/AcmeAgent.msi:{located}: SVC001 captured security descriptor for service `AcmeAgent` [*]\n"
        )
    );

    let options = full::FullOptions::default();
    let full = full::render_chunks(source, &diagnostics, &options).concat();
    assert!(
        full.starts_with("error[SVC001]: captured security descriptor"),
        "{full}"
    );
    assert!(
        full.contains(&format!("--> pkg/AcmeAgent.msi: {located}\n")),
        "{full}"
    );
    assert!(full.contains("= note: service: AcmeAgent"), "{full}");
    assert!(!full.contains(" | "), "no source lines: {full}");

    let files = [FileDiagnostics {
        path: "pkg/AcmeAgent.msi",
        source,
        diagnostics: &diagnostics,
    }];
    let mut out = Vec::new();
    json::render(&mut out, &files).unwrap();
    let value: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let item = &value[0];
    assert_eq!(item["path"], "pkg/AcmeAgent.msi");
    for key in ["line", "column", "end_line", "end_column"] {
        assert!(item[key].is_null(), "{key}: {item}");
    }
    assert_eq!(item["table"], "Registry");
    assert_eq!(item["row"], key.as_str());
    assert_eq!(item["table_column"], "Value");

    let mut out = Vec::new();
    github::render(&mut out, &files, &[]).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        format!(
            "::error file=pkg/AcmeAgent.msi,title=SVC001 service-security-descriptor::{located}: captured security descriptor for service `AcmeAgent`\n"
        )
    );

    let invocation = Invocation {
        notices: &[],
        exit_code: 1,
        working_directory: Path::new("/work"),
    };
    let mut out = Vec::new();
    sarif::render(
        &mut out,
        svcscrub::rules::RULES,
        &files,
        Path::new("/work"),
        &invocation,
    )
    .unwrap();
    let log: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let result = &log["runs"][0]["results"][0];
    let location = &result["locations"][0];
    assert_eq!(
        location["logicalLocations"][0]["fullyQualifiedName"],
        located.as_str()
    );
    assert_eq!(location["logicalLocations"][0]["name"], "Value");
    assert_eq!(location["physicalLocation"]["region"]["startLine"], 1);
    // Its fix edits the view, not the file's bytes: no replacement is offered.
    assert!(result.get("fixes").is_none(), "{result}");
    if let Some(schema) = common::sarif_schema() {
        let schema: serde_json::Value =
            serde_json::from_slice(&std::fs::read(schema).unwrap()).unwrap();
        let validator = jsonschema::options().build(&schema).unwrap();
        let errors: Vec<String> = validator.iter_errors(&log).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{errors:?}");
    }
}

#[test]
fn text_findings_are_located_by_line_and_column_as_before() {
    let loaded = load(
        "a.reg",
        b"REGEDIT4\r\n\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\A]\r\n\"v\"=\"x\"\r\n".to_vec(),
    )
    .unwrap();
    assert_eq!(loaded.source.row_of(TextRange::new(12, 13)), None);
}

/// A database's diff: the note line, then one header per changed table, hunks numbered in that
/// table's `.idt` text; `patch` applies it to the exported table.
#[test]
fn a_database_diff_is_its_changed_tables_as_idt_text() {
    let loaded = example();
    let text = loaded.source.text();
    let (range, _) = security_value(&loaded);
    let row_start = text[..range.start]
        .iter()
        .rposition(|&b| b == b'\n')
        .unwrap()
        + 1;
    let row_end = row_start + memchr::memchr(b'\n', &text[row_start..]).unwrap() + 1;
    let new = [&text[..row_start], &text[row_end..]].concat();
    let mut out = Vec::new();
    assert!(diff::write_database_diff(&mut out, "AcmeAgent.msi", text, &new, false).unwrap());
    let shown = String::from_utf8(out.clone()).unwrap();
    let lines: Vec<&str> = shown.lines().collect();
    assert_eq!(lines[0], diff::DATABASE_DIFF_NOTE);
    assert_eq!(lines[1], "--- a/AcmeAgent.msi:Registry");
    assert_eq!(lines[2], "+++ b/AcmeAgent.msi:Registry");
    assert_eq!(
        shown.matches("--- a/").count(),
        1,
        "only the changed table: {shown}"
    );
    let removed: Vec<&str> = lines
        .iter()
        .filter(|l| l.starts_with('-') && !l.starts_with("---"))
        .copied()
        .collect();
    assert_eq!(removed.len(), 1);
    assert!(removed[0].contains("\tSecurity\t"));
    // `patch -p1` applies it to the Registry table's .idt text (GNU patch: POSIX-only).
    if cfg!(windows) {
        return;
    }
    let Ok(found) = std::process::Command::new("patch")
        .arg("--version")
        .output()
    else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "patch is missing under CI=true"
        );
        return;
    };
    assert!(found.status.success());
    let view = svcscrub::syntax::msi::parse(text).unwrap();
    let registry = view.table(text, "Registry").unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let table = tmp.path().join("AcmeAgent.msi:Registry");
    std::fs::write(&table, registry.range.slice(text)).unwrap();
    let applied = std::process::Command::new("patch")
        .current_dir(tmp.path())
        .args(["-p1", "--binary", "--quiet"])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            std::io::Write::write_all(child.stdin.as_mut().unwrap(), &out)?;
            child.wait()
        })
        .unwrap();
    assert!(applied.success());
    let after = svcscrub::syntax::msi::parse(&new).unwrap();
    let expected = after
        .table(&new, "Registry")
        .unwrap()
        .range
        .slice(&new)
        .to_vec();
    assert_eq!(std::fs::read(&table).unwrap(), expected);
}
