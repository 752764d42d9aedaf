//! The machine-readable renderers (`json`, `sarif`, `github`) on hand-built sources and
//! diagnostics: an 8-bit script and a UTF-16 `.reg` export with non-ASCII text before the
//! edits, so line:column and file byte offsets are checked across encodings.

use std::path::{Path, PathBuf};

use serde_json::Value;
use svcscrub::diagnostic::{Diagnostic, Severity};
use svcscrub::fix::{Applicability, Edit, Fix};
use svcscrub::paths::ProjectRoot;
use svcscrub::render::json::FileDiagnostics;
use svcscrub::render::{Invocation, github, json, sarif};
use svcscrub::rules::RuleInfo;
use svcscrub::source::{Encoding, SourceFile, UTF16LE_BOM};
use svcscrub::text::TextRange;

/// An 8-bit (Windows-1252) SMS Installer script, CRLF line endings.
const SCRIPT_LINES: &[&[u8]] = &[
    b"Document Type: IPF",
    b"item: Edit Registry",
    b"  Total Keys=1",
    b"  Key=System\\CurrentControlSet\\Services\\SYMEVENT\\Security",
    b"  New Value=01000480",
    b"  Value Name=Security",
    b"  Root=2",
    b"end",
    b"item: Edit Registry",
    b"  Total Keys=1",
    b"  Key=Software\\Caf\xE9",
    b"  New Value=%SystemRoot%\\caf\xE9.exe",
    b"  Value Name=Path",
    b"  Root=2",
    b"end",
];

fn script_bytes() -> Vec<u8> {
    SCRIPT_LINES
        .iter()
        .flat_map(|line| line.iter().chain(b"\r\n"))
        .copied()
        .collect()
}

const REG: &str = "Windows Registry Editor Version 5.00\r\n\
\r\n\
; Düsentrieb 😀\r\n\
[HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Services\\Düsentrieb\\Enum]\r\n\
\"0\"=\"Root\\\\LEGACY_DÜSENTRIEB\\\\0000\"\r\n\
\"Count\"=dword:00000001\r\n";

fn utf16(text: &str) -> Vec<u8> {
    let mut raw = UTF16LE_BOM.to_vec();
    raw.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    raw
}

/// The range of the first occurrence of `needle` in `text`.
fn find(text: &[u8], needle: &[u8]) -> TextRange {
    let start = text
        .windows(needle.len())
        .position(|w| w == needle)
        .unwrap_or_else(|| panic!("{:?} not found", String::from_utf8_lossy(needle)));
    TextRange::new(start, start + needle.len())
}

fn script_source(path: &str) -> SourceFile {
    SourceFile::new(path, script_bytes()).unwrap()
}

fn script_diagnostics(source: &SourceFile) -> Vec<Diagnostic> {
    let text = source.text();
    let key = find(
        text,
        b"System\\CurrentControlSet\\Services\\SYMEVENT\\Security",
    );
    let item_start = find(text, b"item: Edit Registry").start;
    let item_end = find(text, b"end\r\n").end;
    let value = find(text, b"%SystemRoot%\\caf\xE9.exe");
    vec![
        Diagnostic {
            code: "SVC001",
            name: "service-security-descriptor",
            severity: Severity::Error,
            message: "captured security descriptor of service `SYMEVENT`".into(),
            range: key,
            service: Some("SYMEVENT".into()),
            registry_key: "HKLM\\System\\CurrentControlSet\\Services\\SYMEVENT\\Security".into(),
            value_name: Some("Security".into()),
            fix: Some(Box::new(Fix {
                applicability: Applicability::Safe,
                title: "Remove the write".into(),
                edits: vec![Edit::delete(TextRange::new(item_start, item_end))],
            })),
        },
        Diagnostic {
            code: "SVC040",
            name: "unescaped-percent",
            severity: Severity::Warning,
            message: "`%SystemRoot%` expands to nothing at install time:\nwrite `%%SystemRoot%%`, or define it".into(),
            range: value,
            service: None,
            registry_key: "HKLM\\Software\\Caf\u{e9}".into(),
            value_name: Some("Path".into()),
            fix: Some(Box::new(Fix {
                applicability: Applicability::Safe,
                title: "Double the `%` signs".into(),
                edits: vec![Edit::replace(
                    value,
                    b"%%SystemRoot%%\\caf\xE9.exe".to_vec(),
                )],
            })),
        },
    ]
}

fn reg_source(path: &str) -> SourceFile {
    SourceFile::new(path, utf16(REG)).unwrap()
}

fn reg_diagnostics(source: &SourceFile) -> Vec<Diagnostic> {
    let text = source.text();
    let control_set = find(text, b"ControlSet001");
    let key_line = find(
        text,
        "[HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Services\\Düsentrieb\\Enum]".as_bytes(),
    );
    let block = TextRange::new(key_line.start, text.len());
    let value_line = find(
        text,
        "\"0\"=\"Root\\\\LEGACY_DÜSENTRIEB\\\\0000\"".as_bytes(),
    );
    vec![
        Diagnostic {
            code: "SVC002",
            name: "service-enum-key",
            severity: Severity::Error,
            message: "captured Plug and Play `Enum` key of service `Düsentrieb`".into(),
            range: value_line,
            service: Some("Düsentrieb".into()),
            registry_key: "HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Services\\Düsentrieb\\Enum"
                .into(),
            value_name: Some("0".into()),
            fix: Some(Box::new(Fix {
                applicability: Applicability::Safe,
                title: "Remove the key block".into(),
                edits: vec![Edit::delete(block)],
            })),
        },
        Diagnostic {
            code: "SVC020",
            name: "control-set-copy",
            severity: Severity::Warning,
            message: "write under `ControlSet001`".into(),
            range: control_set,
            service: Some("Düsentrieb".into()),
            registry_key: "HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Services\\Düsentrieb\\Enum"
                .into(),
            value_name: None,
            fix: Some(Box::new(Fix {
                applicability: Applicability::Unsafe,
                title: "Write to `CurrentControlSet`".into(),
                edits: vec![Edit::replace(control_set, "CurrentControlSet")],
            })),
        },
        Diagnostic {
            code: "SVC030",
            name: "service-without-create",
            severity: Severity::Warning,
            message: "no fix here".into(),
            range: TextRange::empty(text.len()),
            service: None,
            registry_key: "HKEY_LOCAL_MACHINE\\SYSTEM".into(),
            value_name: None,
            fix: None,
        },
    ]
}

static TEST_RULES: &[RuleInfo] = &[
    RuleInfo {
        code: "SVC001",
        name: "service-security-descriptor",
        severity: Severity::Error,
        fix: Some(Applicability::Safe),
        summary: "Captured service security descriptor.",
        doc: "## What it finds\nA write of a service's `Security` value.\n",
    },
    RuleInfo {
        code: "SVC002",
        name: "service-enum-key",
        severity: Severity::Error,
        fix: Some(Applicability::Safe),
        summary: "Captured service Enum key.",
        doc: "",
    },
    RuleInfo {
        code: "SVC020",
        name: "control-set-copy",
        severity: Severity::Warning,
        fix: Some(Applicability::Safe),
        summary: "Write under ControlSetNNN.",
        doc: "Writes under `ControlSet001` land in the wrong set.",
    },
    RuleInfo {
        code: "SVC040",
        name: "unescaped-percent",
        severity: Severity::Warning,
        fix: Some(Applicability::Safe),
        summary: "Unescaped percent sign.",
        doc: "The installer expands `%NAME%`.",
    },
];

fn render_json(files: &[FileDiagnostics]) -> String {
    let mut out = Vec::new();
    json::render(&mut out, files).unwrap();
    String::from_utf8(out).unwrap()
}

fn render_sarif(files: &[FileDiagnostics], base: &Path) -> String {
    let mut out = Vec::new();
    let invocation = Invocation {
        notices: &[],
        exit_code: 1,
        working_directory: base,
    };
    sarif::render(&mut out, TEST_RULES, files, base, &invocation).unwrap();
    // The root of the tests is `C:\\repo` on Windows: its uri is written as on POSIX.
    String::from_utf8(out)
        .unwrap()
        .replace("file:///C:/repo/", "file:///repo/")
}

fn render_github(files: &[FileDiagnostics]) -> String {
    let mut out = Vec::new();
    github::render(&mut out, files, &[]).unwrap();
    String::from_utf8(out).unwrap()
}

/// The driver version changes with every release; keep it out of the snapshots.
fn redact_version(sarif: &str) -> String {
    let line = format!("        \"version\": \"{}\",\n", env!("CARGO_PKG_VERSION"));
    assert!(sarif.contains(&line));
    sarif.replacen(&line, "        \"version\": \"[version]\",\n", 1)
}

// ---------------------------------------------------------------- json

#[test]
fn json_empty_is_an_empty_array() {
    assert_eq!(render_json(&[]), "[]\n");
    let source = script_source("a.ipf");
    let files = [FileDiagnostics {
        path: &source.path,
        source: &source,
        diagnostics: &[],
    }];
    assert_eq!(render_json(&files), "[]\n");
}

#[test]
fn json_snapshot() {
    let script = script_source("pkg/setup.ipf");
    let script_diags = script_diagnostics(&script);
    let reg = reg_source("pkg/symevent.reg");
    let reg_diags = reg_diagnostics(&reg);
    let files = [
        FileDiagnostics {
            path: &script.path,
            source: &script,
            diagnostics: &script_diags,
        },
        FileDiagnostics {
            path: &reg.path,
            source: &reg,
            diagnostics: &reg_diags,
        },
    ];
    insta::assert_snapshot!("json_findings", render_json(&files));
}

#[test]
fn json_edit_offsets_address_the_file_bytes() {
    let reg = reg_source("x.reg");
    assert_eq!(reg.encoding, Encoding::Utf16Le);
    let diags = reg_diagnostics(&reg);
    let files = [FileDiagnostics {
        path: &reg.path,
        source: &reg,
        diagnostics: &diags,
    }];
    let value: Value = serde_json::from_str(&render_json(&files)).unwrap();
    let findings = value.as_array().unwrap();
    assert_eq!(findings.len(), 3);

    // The replaced token, located in the raw UTF-16 bytes by the JSON offsets.
    let edit = &findings[1]["fix"]["edits"][0];
    let start = edit["start"].as_u64().unwrap() as usize;
    let end = edit["end"].as_u64().unwrap() as usize;
    assert_eq!(&reg.raw()[start..end], &utf16("ControlSet001")[2..]);
    assert_eq!(edit["content"], "CurrentControlSet");
    // Independently: BOM + UTF-16 code units before the token (😀 is two units).
    let before = &REG[..REG.find("ControlSet001").unwrap()];
    assert_eq!(start, 2 + 2 * before.encode_utf16().count());

    // The deleted block runs to the end of the file.
    let block = &findings[0]["fix"]["edits"][0];
    assert_eq!(block["end"].as_u64().unwrap() as usize, reg.raw().len());
    assert_eq!(block["content"], "");

    // Columns count characters: "ControlSet001" follows `[HKEY_LOCAL_MACHINE\SYSTEM\`.
    assert_eq!(findings[1]["line"], 4);
    assert_eq!(findings[1]["column"], 28);
    assert_eq!(findings[1]["end_column"], 41);
    assert_eq!(findings[1]["value_name"], Value::Null);
    assert_eq!(findings[2]["fix"], Value::Null);
    assert_eq!(findings[2]["service"], Value::Null);
}

#[test]
fn json_8bit_content_is_shown_as_windows_1252() {
    let script = script_source("a.ipf");
    assert_eq!(script.encoding, Encoding::Ansi);
    let diags = script_diagnostics(&script);
    let files = [FileDiagnostics {
        path: &script.path,
        source: &script,
        diagnostics: &diags,
    }];
    let value: Value = serde_json::from_str(&render_json(&files)).unwrap();
    let edit = &value[1]["fix"]["edits"][0];
    assert_eq!(edit["content"], "%%SystemRoot%%\\café.exe");
    // 8-bit files: file offsets are working-text offsets.
    let start = edit["start"].as_u64().unwrap() as usize;
    assert_eq!(start, diags[1].range.start);
    assert_eq!(
        value[0]["fix"],
        serde_json::json!({
            "applicability": "safe",
            "message": "Remove the write",
            "edits": [{ "start": 20, "end": 176, "content": "" }],
        })
    );
}

#[test]
fn json_offsets_skip_a_utf8_bom() {
    let mut raw = b"\xEF\xBB\xBF".to_vec();
    raw.extend_from_slice(b"REGEDIT4\r\n\r\n[HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet002]\r\n");
    let source = SourceFile::new("bom.reg", raw).unwrap();
    assert_eq!(source.encoding, Encoding::Utf8Bom);
    let range = find(source.text(), b"ControlSet002");
    let diags = [Diagnostic {
        code: "SVC020",
        name: "control-set-copy",
        severity: Severity::Warning,
        message: "m".into(),
        range,
        service: None,
        registry_key: "HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet002".into(),
        value_name: None,
        fix: Some(Box::new(Fix {
            applicability: Applicability::DisplayOnly,
            title: "t".into(),
            edits: vec![Edit::replace(range, "CurrentControlSet")],
        })),
    }];
    let files = [FileDiagnostics {
        path: &source.path,
        source: &source,
        diagnostics: &diags,
    }];
    let value: Value = serde_json::from_str(&render_json(&files)).unwrap();
    assert_eq!(value[0]["fix"]["applicability"], "display-only");
    assert_eq!(value[0]["fix"]["edits"][0]["start"], range.start + 3);
    assert_eq!(value[0]["column"], 28);
}

// ---------------------------------------------------------------- sarif

/// The project root of the SARIF tests: `/repo` (`C:\\repo` on Windows).
fn repo() -> PathBuf {
    PathBuf::from(if cfg!(windows) { r"C:\repo" } else { "/repo" })
}

/// A script and an export named as a user might name them in `/repo` (relative with `./` and a
/// doubled separator; absolute), with their findings. Their machine-facing paths, which the
/// renderers take, are `pkg/setup.ipf` and `pkg/Norton AV/symevent.reg`.
fn sarif_files() -> (SourceFile, Vec<Diagnostic>, SourceFile, Vec<Diagnostic>) {
    let script = script_source("./pkg//setup.ipf");
    let script_diags = script_diagnostics(&script);
    let absolute = repo().join("pkg").join("Norton AV").join("symevent.reg");
    let reg = reg_source(&absolute.to_string_lossy());
    let reg_diags = reg_diagnostics(&reg);
    (script, script_diags, reg, reg_diags)
}

/// The machine-facing path of a source named in `/repo`.
fn machine(source: &SourceFile) -> String {
    ProjectRoot::new(repo(), repo()).machine(&source.path)
}

#[test]
fn sarif_snapshot() {
    let (script, script_diags, reg, reg_diags) = sarif_files();
    let (script_path, reg_path) = (machine(&script), machine(&reg));
    assert_eq!(
        [script_path.as_str(), reg_path.as_str()],
        ["pkg/setup.ipf", "pkg/Norton AV/symevent.reg"]
    );
    let files = [
        FileDiagnostics {
            path: &script_path,
            source: &script,
            diagnostics: &script_diags,
        },
        FileDiagnostics {
            path: &reg_path,
            source: &reg,
            diagnostics: &reg_diags,
        },
    ];
    let out = render_sarif(&files, &repo());
    insta::assert_snapshot!("sarif_log", redact_version(&out));
}

fn get<'v>(value: &'v Value, path: &str) -> &'v Value {
    let mut v = value;
    for part in path.split('.') {
        v = match part.parse::<usize>() {
            Ok(i) => &v[i],
            Err(_) => &v[part],
        };
    }
    assert!(!v.is_null(), "missing {path}");
    v
}

fn string<'v>(value: &'v Value, path: &str) -> &'v str {
    get(value, path)
        .as_str()
        .unwrap_or_else(|| panic!("{path} is not a string"))
}

fn positive(value: &Value, path: &str) -> u64 {
    let n = get(value, path)
        .as_u64()
        .unwrap_or_else(|| panic!("{path} is not an unsigned integer"));
    assert!(n >= 1, "{path} must be >= 1");
    n
}

/// What GitHub code scanning requires of an uploaded SARIF file (and the SARIF 2.1.0 schema
/// of the properties we emit), checked on the parsed output.
#[test]
fn sarif_has_every_field_github_requires() {
    let (script, script_diags, reg, reg_diags) = sarif_files();
    let (script_path, reg_path) = (machine(&script), machine(&reg));
    assert_eq!(
        [script_path.as_str(), reg_path.as_str()],
        ["pkg/setup.ipf", "pkg/Norton AV/symevent.reg"]
    );
    let files = [
        FileDiagnostics {
            path: &script_path,
            source: &script,
            diagnostics: &script_diags,
        },
        FileDiagnostics {
            path: &reg_path,
            source: &reg,
            diagnostics: &reg_diags,
        },
    ];
    let log: Value = serde_json::from_str(&render_sarif(&files, &repo())).unwrap();

    assert_eq!(
        string(&log, "$schema"),
        "https://json.schemastore.org/sarif-2.1.0.json"
    );
    assert_eq!(string(&log, "version"), "2.1.0");
    let runs = get(&log, "runs").as_array().unwrap();
    assert_eq!(runs.len(), 1);
    let run = &runs[0];

    let driver = get(run, "tool.driver");
    assert_eq!(string(driver, "name"), "svcscrub");
    assert_eq!(string(driver, "version"), env!("CARGO_PKG_VERSION"));
    assert!(string(driver, "informationUri").starts_with("https://"));
    let rules = get(driver, "rules").as_array().unwrap();
    assert_eq!(rules.len(), TEST_RULES.len());
    for (rule, info) in rules.iter().zip(TEST_RULES) {
        assert_eq!(string(rule, "id"), info.code);
        assert_eq!(string(rule, "name"), info.name);
        assert_eq!(string(rule, "shortDescription.text"), info.summary);
        assert!(!string(rule, "fullDescription.text").is_empty());
        assert!(!string(rule, "help.text").is_empty());
        assert!(!string(rule, "help.markdown").is_empty());
        let level = string(rule, "defaultConfiguration.level");
        assert!(["error", "warning", "note", "none"].contains(&level));
        for tag in get(rule, "properties.tags").as_array().unwrap() {
            assert!(tag.is_string());
        }
    }
    // A rule without documentation falls back to its summary.
    assert_eq!(
        string(&rules[1], "fullDescription.text"),
        "Captured service Enum key."
    );

    let results = get(run, "results").as_array().unwrap();
    assert_eq!(results.len(), 5);
    for result in results {
        let rule_id = string(result, "ruleId");
        if let Some(index) = result.get("ruleIndex") {
            let index = index.as_u64().unwrap() as usize;
            assert_eq!(string(&rules[index], "id"), rule_id);
        } else {
            assert!(rules.iter().all(|r| r["id"] != rule_id));
        }
        assert!(["error", "warning"].contains(&string(result, "level")));
        assert!(!string(result, "message.text").is_empty());

        let locations = get(result, "locations").as_array().unwrap();
        assert_eq!(locations.len(), 1);
        let physical = get(&locations[0], "physicalLocation");
        let uri = string(physical, "artifactLocation.uri");
        assert!(!uri.contains('\\'), "{uri}");
        assert!(!uri.starts_with("./") && !uri.starts_with('/'), "{uri}");
        assert_eq!(string(physical, "artifactLocation.uriBaseId"), "%SRCROOT%");
        let start_line = positive(physical, "region.startLine");
        positive(physical, "region.startColumn");
        assert!(positive(physical, "region.endLine") >= start_line);
        positive(physical, "region.endColumn");

        let fingerprints = get(result, "partialFingerprints").as_object().unwrap();
        assert!(!fingerprints.is_empty());
        for fingerprint in fingerprints.values() {
            let fingerprint = fingerprint.as_str().unwrap();
            assert_eq!(fingerprint.len(), 16);
            assert!(fingerprint.bytes().all(|b| b.is_ascii_hexdigit()));
        }

        if let Some(fixes) = result.get("fixes") {
            for fix in fixes.as_array().unwrap() {
                assert!(!string(fix, "description.text").is_empty());
                let changes = get(fix, "artifactChanges").as_array().unwrap();
                assert!(!changes.is_empty());
                for change in changes {
                    assert_eq!(string(change, "artifactLocation.uri"), uri);
                    let replacements = get(change, "replacements").as_array().unwrap();
                    assert!(!replacements.is_empty());
                    for replacement in replacements {
                        let region = get(replacement, "deletedRegion");
                        positive(region, "startLine");
                        positive(region, "startColumn");
                        positive(region, "endLine");
                        positive(region, "endColumn");
                        get(region, "byteOffset").as_u64().unwrap();
                        get(region, "byteLength").as_u64().unwrap();
                        if let Some(content) = replacement.get("insertedContent") {
                            assert!(content["text"].is_string());
                        }
                    }
                }
            }
        }
    }
    assert_eq!(
        string(
            &results[0],
            "locations.0.physicalLocation.artifactLocation.uri"
        ),
        "pkg/setup.ipf"
    );
    assert_eq!(
        string(
            &results[2],
            "locations.0.physicalLocation.artifactLocation.uri"
        ),
        "pkg/Norton%20AV/symevent.reg"
    );
    assert!(results[4].get("fixes").is_none());
    assert_eq!(
        string(run, "originalUriBaseIds.%SRCROOT%.uri"),
        "file:///repo/"
    );
}

#[test]
fn sarif_fix_regions_match_the_file_bytes() {
    let reg = reg_source("a.reg");
    let diags = reg_diagnostics(&reg);
    let files = [FileDiagnostics {
        path: &reg.path,
        source: &reg,
        diagnostics: &diags,
    }];
    let log: Value = serde_json::from_str(&render_sarif(&files, &repo())).unwrap();
    let replacement = get(
        &log,
        "runs.0.results.1.fixes.0.artifactChanges.0.replacements.0",
    );
    let offset = get(replacement, "deletedRegion.byteOffset")
        .as_u64()
        .unwrap() as usize;
    let length = get(replacement, "deletedRegion.byteLength")
        .as_u64()
        .unwrap() as usize;
    assert_eq!(
        &reg.raw()[offset..offset + length],
        &utf16("ControlSet001")[2..]
    );
    assert_eq!(
        string(replacement, "insertedContent.text"),
        "CurrentControlSet"
    );
    // A pure deletion has no insertedContent.
    let deletion = get(
        &log,
        "runs.0.results.0.fixes.0.artifactChanges.0.replacements.0",
    );
    assert!(deletion.get("insertedContent").is_none());
    assert_eq!(
        string(
            get(&log, "runs.0.results.1"),
            "fixes.0.properties.applicability"
        ),
        "unsafe"
    );
}

#[test]
fn sarif_fingerprints_survive_line_shifts() {
    let fingerprints = |extra: &[u8]| {
        let mut raw = b"Document Type: IPF\r\n".to_vec();
        raw.extend_from_slice(extra);
        raw.extend_from_slice(&script_bytes()[20..]);
        let source = SourceFile::new("pkg/setup.ipf", raw).unwrap();
        let diags = script_diagnostics(&source);
        let files = [FileDiagnostics {
            path: &source.path,
            source: &source,
            diagnostics: &diags,
        }];
        let log: Value = serde_json::from_str(&render_sarif(&files, &repo())).unwrap();
        let results = get(&log, "runs.0.results").as_array().unwrap().clone();
        results
            .iter()
            .map(|r| {
                (
                    string(r, "partialFingerprints.svcscrub/v1").to_owned(),
                    positive(r, "locations.0.physicalLocation.region.startLine"),
                )
            })
            .collect::<Vec<_>>()
    };
    let before = fingerprints(b"");
    let after = fingerprints(b"item: Remark\r\n  Text=moved down\r\nend\r\n");
    assert_eq!(before.len(), 2);
    for (b, a) in before.iter().zip(&after) {
        assert_eq!(b.0, a.0);
        assert_eq!(b.1 + 3, a.1);
    }
    assert_ne!(before[0].0, before[1].0);
}

#[test]
fn sarif_repeated_findings_get_distinct_fingerprints() {
    let source = script_source("a.ipf");
    let mut diags = script_diagnostics(&source);
    diags.truncate(1);
    diags.push(diags[0].clone());
    let files = [FileDiagnostics {
        path: &source.path,
        source: &source,
        diagnostics: &diags,
    }];
    let log: Value = serde_json::from_str(&render_sarif(&files, &repo())).unwrap();
    let a = string(&log, "runs.0.results.0.partialFingerprints.svcscrub/v1");
    let b = string(&log, "runs.0.results.1.partialFingerprints.svcscrub/v1");
    assert_ne!(a, b);
}

#[test]
fn sarif_without_findings_still_lists_rules() {
    let out = render_sarif(&[], Path::new("relative/base"));
    let log: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(get(&log, "runs.0.results"), &Value::Array(vec![]));
    assert_eq!(
        get(&log, "runs.0.tool.driver.rules")
            .as_array()
            .unwrap()
            .len(),
        4
    );
    // No absolute base, no originalUriBaseIds.
    assert!(log["runs"][0].get("originalUriBaseIds").is_none());
    assert!(out.ends_with("}\n"));
}

// ---------------------------------------------------------------- github

#[test]
fn github_annotations() {
    let script = script_source("pkg/setup.ipf");
    let script_diags = script_diagnostics(&script);
    let reg = reg_source("pkg/symevent.reg");
    let reg_diags = reg_diagnostics(&reg);
    let files = [
        FileDiagnostics {
            path: &script.path,
            source: &script,
            diagnostics: &script_diags,
        },
        FileDiagnostics {
            path: &reg.path,
            source: &reg,
            diagnostics: &reg_diags,
        },
    ];
    assert_eq!(
        render_github(&files),
        "::error file=pkg/setup.ipf,line=4,col=7,endLine=4,endColumn=58,\
title=SVC001 service-security-descriptor::captured security descriptor of service `SYMEVENT`\n\
::warning file=pkg/setup.ipf,line=12,col=13,endLine=12,endColumn=34,\
title=SVC040 unescaped-percent::`%25SystemRoot%25` expands to nothing at install time:%0Awrite \
`%25%25SystemRoot%25%25`, or define it\n\
::error file=pkg/symevent.reg,line=5,col=1,endLine=5,endColumn=36,\
title=SVC002 service-enum-key::captured Plug and Play `Enum` key of service `Düsentrieb`\n\
::warning file=pkg/symevent.reg,line=4,col=28,endLine=4,endColumn=41,\
title=SVC020 control-set-copy::write under `ControlSet001`\n\
::warning file=pkg/symevent.reg,line=7,col=1,endLine=7,endColumn=1,\
title=SVC030 service-without-create::no fix here\n"
    );
}

#[test]
fn github_escapes_properties_and_messages() {
    assert_eq!(
        github::escape_data("50% done\r\nnext: a, b"),
        "50%25 done%0D%0Anext: a, b"
    );
    assert_eq!(
        github::escape_property("C:\\pkg\\a,b%.reg\n"),
        "C%3A\\pkg\\a%2Cb%25.reg%0A"
    );
    let source = SourceFile::new("dir:x/a,b.reg", b"REGEDIT4\r\n".to_vec()).unwrap();
    let diags = [Diagnostic {
        code: "SVC020",
        name: "control-set-copy",
        severity: Severity::Warning,
        message: "100%\r\nsure: yes, really".into(),
        range: TextRange::new(0, 8),
        service: None,
        registry_key: String::new(),
        value_name: None,
        fix: None,
    }];
    let files = [FileDiagnostics {
        path: &source.path,
        source: &source,
        diagnostics: &diags,
    }];
    assert_eq!(
        render_github(&files),
        "::warning file=dir%3Ax/a%2Cb.reg,line=1,col=1,endLine=1,endColumn=9,\
title=SVC020 control-set-copy::100%25%0D%0Asure: yes, really\n"
    );
}
