//! The `full` and `concise` formats on realistic findings.

use svcscrub::diagnostic::{Diagnostic, Severity};
use svcscrub::fix::{Applicability, Edit, Fix};
use svcscrub::render::{concise, full};
use svcscrub::source::SourceFile;
use svcscrub::text::TextRange;

/// A text written with `\n` line breaks, given CRLF line endings.
fn crlf(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() + text.len() / 16);
    for &b in text {
        if b == b'\n' {
            out.push(b'\r');
        }
        out.push(b);
    }
    out
}

fn wse() -> Vec<u8> {
    crlf(
        b"Document Type: WSE
item: Global
  Version=9.0
  Title=Norton AntiVirus
end
item: Edit Registry
  Total Keys=2
  item: Key
    Key=System\\CurrentControlSet\\Services\\SYMEVENT\\Security
    New Value=01 00 14 80 90 00 00 00
    Value Name=Security
    Root=2
  end
  item: Key
    Key=System\\ControlSet001\\Services\\SYMEVENT
    New Value=1
    Value Name=Type
    Root=2
  end
end
",
    )
}

fn find(text: &[u8], needle: &[u8]) -> TextRange {
    let at = text
        .windows(needle.len())
        .position(|w| w == needle)
        .expect("needle present");
    TextRange::new(at, at + needle.len())
}

fn line_of(text: &[u8], needle: &[u8]) -> TextRange {
    let r = find(text, needle);
    let start = text[..r.start]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    let end = text[r.end..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(text.len(), |p| r.end + p + 1);
    TextRange::new(start, end)
}

#[allow(clippy::too_many_arguments)]
fn diagnostic(
    code: &'static str,
    name: &'static str,
    severity: Severity,
    message: &str,
    range: TextRange,
    service: Option<&str>,
    key: &str,
    value: Option<&str>,
    fix: Option<Fix>,
) -> Diagnostic {
    Diagnostic {
        code,
        name,
        severity,
        message: message.to_string(),
        range,
        service: service.map(str::to_string),
        registry_key: key.to_string(),
        value_name: value.map(str::to_string),
        fix: fix.map(Box::new),
    }
}

fn fix(applicability: Applicability, title: &str, edits: Vec<Edit>) -> Option<Fix> {
    Some(Fix {
        applicability,
        title: title.to_string().into(),
        edits,
    })
}

fn wse_findings() -> Vec<Diagnostic> {
    let wse = wse();
    let key1 = find(
        &wse,
        b"Key=System\\CurrentControlSet\\Services\\SYMEVENT\\Security",
    );
    let key2 = find(&wse, b"Key=System\\ControlSet001\\Services\\SYMEVENT");
    vec![
        diagnostic(
            "SVC020",
            "control-set-copy",
            Severity::Warning,
            "write under `ControlSet001` lands in the wrong control set on other machines",
            find(&wse, b"ControlSet001"),
            Some("SYMEVENT"),
            "HKLM\\System\\ControlSet001\\Services\\SYMEVENT",
            Some("Type"),
            fix(
                Applicability::Safe,
                "rewrite `ControlSet001` to `CurrentControlSet`",
                vec![Edit::replace(
                    find(&wse, b"ControlSet001"),
                    "CurrentControlSet",
                )],
            ),
        ),
        diagnostic(
            "SVC001",
            "service-security-descriptor",
            Severity::Error,
            "captured security descriptor for service `SYMEVENT`",
            key1,
            Some("SYMEVENT"),
            "HKLM\\System\\CurrentControlSet\\Services\\SYMEVENT\\Security",
            Some("Security"),
            fix(
                Applicability::Safe,
                "remove the captured security descriptor",
                vec![Edit::delete(line_of(
                    &wse,
                    b"  item: Key\r\n    Key=System\\Current",
                ))],
            ),
        ),
        diagnostic(
            "SVC010",
            "redundant-service-value",
            Severity::Warning,
            "`Type` of service `SYMEVENT` is set by no `Create Service` item in this script",
            key2,
            Some("SYMEVENT"),
            "HKLM\\System\\ControlSet001\\Services\\SYMEVENT",
            Some("Type"),
            fix(
                Applicability::Unsafe,
                "remove the write",
                vec![Edit::delete(key2)],
            ),
        ),
    ]
}

fn render_full(source: &SourceFile, diagnostics: &[Diagnostic], unsafe_fixes: bool) -> String {
    let mut out = Vec::new();
    full::render(
        &mut out,
        source,
        diagnostics,
        &full::FullOptions {
            color: false,
            unsafe_fixes,
        },
    )
    .unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn full_wise_script() {
    let source = SourceFile::new("package/setup.wse", wse()).unwrap();
    insta::assert_snapshot!(render_full(&source, &wse_findings(), false));
}

#[test]
fn full_with_unsafe_fixes_enabled_drops_the_hint() {
    let source = SourceFile::new("package/setup.wse", wse()).unwrap();
    let out = render_full(&source, &wse_findings()[2..], true);
    assert!(
        out.contains("= help: remove the write (unsafe fix)\n"),
        "{out}"
    );
}

fn reg() -> Vec<u8> {
    crlf(
        b"REGEDIT4

[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Enum\\Root\\LEGACY_SYMEVENT\\0000]
\"Service\"=\"SYMEVENT\"
\"DeviceDesc\"=\"Symantec \xE9v\xE9nement\xA0driver\"

[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\SYMEVENT]
@=\"default\"
\"Security\"=hex:01,00,14,80,90,00,00,00,a0,00,00,00,14,00,00,00,30,00,00,00,02,\\
  00,1c,00,01,00,00,00
",
    )
}

#[test]
fn full_reg_file_with_8bit_text_and_multiline_range() {
    let reg = reg();
    let source = SourceFile::new("package/symevent.reg", reg.clone()).unwrap();
    let value = find(&reg, b"\"DeviceDesc\"");
    let sec_start = find(&reg, b"\"Security\"").start;
    let sec = TextRange::new(sec_start, reg.len());
    let diagnostics = vec![
        diagnostic(
            "SVC003",
            "legacy-enum-key",
            Severity::Error,
            "write under `Enum\\Root\\LEGACY_SYMEVENT`, which Plug and Play creates",
            TextRange::new(value.start, line_of(&reg, b"\"DeviceDesc\"").end),
            Some("SYMEVENT"),
            "HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Enum\\Root\\LEGACY_SYMEVENT\\0000",
            Some("DeviceDesc"),
            fix(
                Applicability::Safe,
                "remove the write",
                vec![Edit::delete(line_of(&reg, b"\"DeviceDesc\""))],
            ),
        ),
        diagnostic(
            "SVC010",
            "redundant-service-value",
            Severity::Warning,
            "the default value of `Services\\SYMEVENT` is set by hand",
            find(&reg, b"@=\"default\""),
            None,
            "HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\SYMEVENT",
            Some(""),
            fix(
                Applicability::DisplayOnly,
                "add a `Create Service` item to the package's script",
                vec![],
            ),
        ),
        diagnostic(
            "SVC001",
            "service-security-descriptor",
            Severity::Error,
            "captured security descriptor for service `SYMEVENT`",
            sec,
            Some("SYMEVENT"),
            "HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\SYMEVENT",
            Some("Security"),
            None,
        ),
    ];
    insta::assert_snapshot!(render_full(&source, &diagnostics, false));
}

#[test]
fn full_utf16_file_and_hostile_text() {
    let text = "Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\Dienst\u{e4}]\r\n\"Type\"=dword:00000010\r\n";
    let mut raw = vec![0xFF, 0xFE];
    raw.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    let source = SourceFile::new("x.reg", raw).unwrap();
    let diagnostics = vec![diagnostic(
        "SVC010",
        "redundant-service-value",
        Severity::Warning,
        "`Type` is set by the `Create Service` item",
        find(source.text(), b"\"Type\"=dword:00000010"),
        Some("Dienst\u{e4}\u{1b}[31m"),
        "HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\Dienst\u{e4}",
        Some("Type"),
        fix(Applicability::Safe, "remove the write", vec![]),
    )];
    let out = render_full(&source, &diagnostics, false);
    assert!(!out.contains('\u{1b}'), "escape passed through: {out}");
    insta::assert_snapshot!(out);
}

#[test]
fn full_color_only_when_asked() {
    let source = SourceFile::new("package/setup.wse", wse()).unwrap();
    let plain = render_full(&source, &wse_findings(), false);
    assert!(!plain.contains('\u{1b}'));
    let mut out = Vec::new();
    full::render(
        &mut out,
        &source,
        &wse_findings(),
        &full::FullOptions {
            color: true,
            unsafe_fixes: false,
        },
    )
    .unwrap();
    let colored = String::from_utf8(out).unwrap();
    assert!(colored.contains("\u{1b}["));
    assert!(colored.contains("SVC001"));
}

#[test]
fn full_display_only_fix_shows_the_suggested_edits() {
    let wse = wse();
    let source = SourceFile::new("package/setup.wse", wse.clone()).unwrap();
    let key = find(&wse, b"Key=System\\ControlSet001\\Services\\SYMEVENT");
    let diagnostics = vec![
        diagnostic(
            "SVC020",
            "control-set-copy",
            Severity::Warning,
            "write under `ControlSet001` lands in the wrong control set on other machines",
            key,
            Some("SYMEVENT"),
            "HKLM\\System\\ControlSet001\\Services\\SYMEVENT",
            None,
            fix(
                Applicability::DisplayOnly,
                "write it under `CurrentControlSet`",
                vec![Edit::replace(
                    find(&wse, b"ControlSet001"),
                    "CurrentControlSet",
                )],
            ),
        ),
        diagnostic(
            "SVC001",
            "service-security-descriptor",
            Severity::Error,
            "captured security descriptor for service `SYMEVENT`",
            find(&wse, b"Value Name=Security"),
            Some("SYMEVENT"),
            "HKLM\\System\\CurrentControlSet\\Services\\SYMEVENT\\Security",
            Some("Security"),
            fix(
                Applicability::DisplayOnly,
                "remove the value and its data",
                vec![
                    Edit::delete(line_of(&wse, b"    New Value=01 00")),
                    Edit::replace(find(&wse, b"Value Name=Security\r\n"), "Value Name=\r\n"),
                ],
            ),
        ),
        diagnostic(
            "SVC030",
            "service-without-create",
            Severity::Warning,
            "service `SYMEVENT` is installed by registry writes alone",
            find(
                &wse,
                b"Key=System\\CurrentControlSet\\Services\\SYMEVENT\\Security",
            ),
            Some("SYMEVENT"),
            "HKLM\\System\\CurrentControlSet\\Services\\SYMEVENT",
            None,
            fix(
                Applicability::DisplayOnly,
                "add a `Create Service` item",
                vec![Edit::insert(
                    find(&wse, b"item: Edit Registry").start,
                    "item: Create Service\r\n  Service Name=SYMEVENT\r\nend\r\n",
                )],
            ),
        ),
    ];
    insta::assert_snapshot!(render_full(&source, &diagnostics, false));
}

#[test]
fn full_nothing_to_report() {
    let source = SourceFile::new("a.wse", wse()).unwrap();
    assert_eq!(render_full(&source, &[], false), "");
}

fn render_concise(source: &SourceFile, diagnostics: &[Diagnostic], unsafe_fixes: bool) -> String {
    let mut out = Vec::new();
    concise::render(&mut out, source, diagnostics, unsafe_fixes, false).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn concise_lines() {
    let source = SourceFile::new("package/setup.wse", wse()).unwrap();
    assert_eq!(
        render_concise(&source, &wse_findings(), false),
        "package/setup.wse:9:5: SVC001 captured security descriptor for service `SYMEVENT` [*]\n\
         package/setup.wse:15:5: SVC010 `Type` of service `SYMEVENT` is set by no `Create Service` item in this script\n\
         package/setup.wse:15:16: SVC020 write under `ControlSet001` lands in the wrong control set on other machines [*]\n"
    );
    assert_eq!(
        render_concise(&source, &wse_findings(), true),
        "package/setup.wse:9:5: SVC001 captured security descriptor for service `SYMEVENT` [*]\n\
         package/setup.wse:15:5: SVC010 `Type` of service `SYMEVENT` is set by no `Create Service` item in this script [*]\n\
         package/setup.wse:15:16: SVC020 write under `ControlSet001` lands in the wrong control set on other machines [*]\n"
    );
}

#[test]
fn concise_columns_and_multiline_messages() {
    let reg = reg();
    // 8-bit file: columns count bytes; UTF-16 file: characters.
    let source = SourceFile::new("a.reg", reg.clone()).unwrap();
    let at = find(&reg, b"driver");
    let d = diagnostic(
        "SVC030",
        "service-without-create",
        Severity::Warning,
        "service `SYMEVENT` is installed by registry writes\nadd to the script:\n  item: Create Service\n  end",
        at,
        None,
        "HKLM",
        None,
        fix(
            Applicability::DisplayOnly,
            "add a Create Service item",
            vec![],
        ),
    );
    assert_eq!(
        render_concise(&source, std::slice::from_ref(&d), true),
        "a.reg:5:34: SVC030 service `SYMEVENT` is installed by registry writes add to the script: item: Create Service end\n"
    );
    let text = "\u{e9}\u{e9}\u{e9}x\r\n";
    let mut raw = vec![0xFF, 0xFE];
    raw.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    let source = SourceFile::new("w.reg", raw).unwrap();
    let d = Diagnostic {
        range: TextRange::new(6, 7),
        fix: None,
        ..d
    };
    assert!(render_concise(&source, &[d], false).starts_with("w.reg:1:4: SVC030 "));
}

#[test]
fn full_sanitises_c1_bytes_and_aligns_after_tabs() {
    let text =
        crlf(b"REGEDIT4\n\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\A\x81B]\n\t\"Type\"=dword:00000001\n");
    let source = SourceFile::new("c1.reg", text.clone()).unwrap();
    let diagnostics = vec![
        diagnostic(
            "SVC010",
            "redundant-service-value",
            Severity::Warning,
            "value in `A\u{81}B`",
            find(&text, b"\"Type\""),
            None,
            "HKEY_LOCAL_MACHINE\\SOFTWARE\\A\u{81}B",
            Some("Type"),
            None,
        ),
        diagnostic(
            "SVC020",
            "control-set-copy",
            Severity::Warning,
            "key",
            find(&text, b"A\x81B"),
            None,
            "",
            None,
            None,
        ),
    ];
    let out = render_full(&source, &diagnostics, false);
    assert!(
        !out.chars().any(|c| ('\u{80}'..='\u{9f}').contains(&c)),
        "{out:?}"
    );
    insta::assert_snapshot!(out);
}
