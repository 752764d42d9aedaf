//! SVC040 unescaped-percent.

use super::{Finding, FixPlan, RuleContext, RuleInfo};
use crate::diagnostic::{Diagnostic, Severity};
use crate::fix::proof::Effect;
use crate::fix::{Applicability, Change, Edit};
use crate::model::Data;
use crate::model::script::is_built_in;
use crate::model::service::wise_field_rank;
use crate::model::template::references;
use crate::text::TextRange;

pub const INFO: RuleInfo = RuleInfo {
    code: "SVC040",
    name: "unescaped-percent",
    severity: Severity::Warning,
    fix: Some(Applicability::Unsafe),
    summary: "A script value holding `%NAME%` where NAME is no variable of the script nor of the installer (typically a captured `%SystemRoot%`).",
    doc: r#"## What it finds
Scripts only. A `New Value` line of a registry write, or a field of a `Create Service` item,
holding `%NAME%` where NAME is

- not a variable a script of the package defines: `Variable Name<N>=` of `item: Global`, the
  `Variable=` of `Set Variable`, and the variables other items write (`Get Registry Key Value`,
  `Read INI Value`, `Get System Information`, `Get Environment Variable`, `Win32 System
  Directory`, `Parse String`'s `Variable1`/`Variable2`, dialog controls, `Return Variable` of
  `Call DLL Function`, …), in the script itself or in a script it includes;
- not one of the installer's own run-time variables (listed below);
- not a compiler variable (a name starting with `_`, such as `%_WISE_%` or `%_SMSINSTL_%`).

`%%` is an escaped `%` and never starts a reference. One finding per line, whatever the number
of references in it. Variables count package-wide, like Create Service items: a variable one
script of the package (or a script it includes) defines counts for all of them.

Built-in run-time variables (the installer sets them; a script uses them without defining
them), with their sources:
- *WiseScript Editor Reference* 8.0 and *WiseScript Package Editor Reference* 8.0 (Symantec),
  Quick Reference, "Automatic Run-time Variables" and "Run-time Variables", and "About
  Components": `APPTITLE`, `BACKUP`, `BRANDING`, `COMPONENTS`, `INST_LOG_PATH`,
  `INSTALL_RESULT`, `LANG`, `PASSWORD`, `PROCEXITCODE`, `PROGRAM_FILES`, `RESTART`,
  `STARTMENUDIR`, `STARTUPDIR`, `SYS`, `SYS32`, `TEMP`, `UNINSTALL_LANG`, `UNINSTALL_PATH`,
  `VER_CHECK_TYPE`, `WIN`, `WISE_ERROR_RTN`;
- the same reference, Create Shortcut action: `MAINDIR`, `GROUP`, `DESKTOPDIR`, `CDESKTOPDIR`,
  `CSTARTMENUDIR`, `CSTARTUPDIR`;
- used without a definition by the corpus scripts built from Wise's own templates (inferred):
  `INST` (the directory of the installation .EXE), `CMDLINE` (its command line),
  `INSTALL_SDTVAL` (Wise's WiseUpdate client template).

## Why it matters
The installer replaces `%NAME%` with the variable's value, and an unknown variable with
nothing. A repackaged value such as `%SystemRoot%\System32\NAVEVENT.DLL` (captured from a
`REG_EXPAND_SZ`) is therefore installed as `\System32\NAVEVENT.DLL`. Microsoft KB Q185902: a
value containing `%SystemRoot%` must be written `%%SystemRoot%%` in the script for the literal
text to reach the registry.

## Example
Before:
```text
item: Edit Registry
  Total Keys=1
  Key=SYSTEM\CurrentControlSet\Services\EventLog\Application\Norton AntiVirus
  New Value=%SystemRoot%\System32\NAVEVENT.DLL
  Value Name=EventMessageFile
  Root=2
  Data Type=1
end
```
After: `New Value=%%SystemRoot%%\System32\NAVEVENT.DLL`.

## Fix
Double both `%` of every unknown `%NAME%` in the line: the installed value becomes the text that
was captured, where today it loses the reference. **Unsafe**: that changes what is installed
(from nothing to `%NAME%`), which is what the author most likely meant but not what the package
does today. A reference in a `Create Service` item's `Service Name` has no fix: escaped, it would
create a service literally named `%NAME%`, not the one the script means; define the variable
(`Set Variable`) or write the name. The message also says when a script of the package includes a script of its project
that was not read (missing, or an absolute path on the build machine): the variable may be
defined there."#,
};

/// Whether a data line may be reported, whatever the package defines: it refers to a
/// variable that is not built in. (Which variables the package defines is known only once
/// every file of it is lowered.)
pub fn may_report(line: &[u8]) -> bool {
    references(line).any(|r| !is_built_in(r.name(line)))
}

/// An unknown `%NAME%`: where it stands in the text, and its name.
struct Unknown {
    range: TextRange,
    /// The name's bytes (ASCII: see [`references`]).
    name: Vec<u8>,
}

/// The unknown references of `value`, which starts at `start` in the text.
fn unknown(cx: &RuleContext<'_, '_, '_>, value: &[u8], start: usize) -> Vec<Unknown> {
    references(value)
        .filter(|r| !cx.package.is_known(r.name(value)))
        .map(|r| Unknown {
            range: TextRange::new(start + r.range.start, start + r.range.end),
            name: r.name(value).to_vec(),
        })
        .collect()
}

pub fn check(cx: &RuleContext<'_, '_, '_>, out: &mut Vec<Finding>) {
    let model = &cx.file().model;
    if !model.templates {
        return;
    }
    let unread = cx.package.unread_includes();
    let describe = |found: &[Unknown], touches: Effect| {
        let (mut message, mut fix) = describe(found, touches);
        if !unread.is_empty() {
            let list: Vec<String> = unread.iter().map(|p| format!("`{p}`")).collect();
            message.push_str(&format!(
                ", unless {} (included, but not read) define{} {}",
                list.join(", "),
                if list.len() == 1 { "s" } else { "" },
                if found.len() == 1 { "it" } else { "them" }
            ));
            fix.applicability = Applicability::Unsafe;
        }
        (message, fix)
    };
    for write in &model.ops {
        // The decoded data tells cheaply whether a line may need reporting; only then are the
        // operation's data lines looked up.
        let unknown_in = |t: &[u8]| {
            memchr::memchr(b'%', t).is_some()
                && references(t).any(|r| !cx.package.is_known(r.name(t)))
        };
        let suspect = write.kind == crate::model::OpKind::SetValue
            && match &write.data {
                Data::Sz(t) | Data::ExpandSz(t) => unknown_in(t),
                Data::MultiSz(list) => list.iter().any(|t| unknown_in(t)),
                Data::Raw { bytes, .. } => unknown_in(bytes),
                Data::None | Data::Dword(_) | Data::Qword(_) | Data::Binary(_) => false,
            };
        if !suspect {
            continue;
        }
        for line in model.data_lines(write) {
            let found = unknown(cx, line.text, line.range.start);
            if found.is_empty() {
                continue;
            }
            let (message, fix) = describe(&found, Effect::Touches(write.origin));
            let mut finding = cx.finding(&INFO, write, None, message, Some(fix));
            finding.diagnostic.range = line.line;
            out.push(finding);
        }
    }
    for service in &model.services {
        for field in &service.fields {
            let found = unknown(cx, field.value, field.value_range.start);
            if found.is_empty() {
                continue;
            }
            let (message, fix) = describe(&found, Effect::TouchesInstall(service.handle));
            // Escaped in the field that names the service, the reference would create a service
            // literally named `%NAME%`: another service than the one the script means.
            let fix = (wise_field_rank(field.label) != Some(0)).then_some(fix);
            let range = TextRange::new(field.line.start, field.value_range.end);
            let name = cx.show(&service.name);
            let item = model.service_item.unwrap_or("service install");
            out.push(Finding {
                diagnostic: Diagnostic {
                    code: INFO.code,
                    name: INFO.name,
                    severity: INFO.severity,
                    message: format!("{message} ({item} `{name}`)"),
                    range: trim_indent(cx, range),
                    service: Some(name.clone()),
                    registry_key: format!("HKLM\\SYSTEM\\CurrentControlSet\\Services\\{name}"),
                    value_name: field.sets.map(|v| v.registry_name().to_string()),
                    fix: None,
                },
                fix,
            });
        }
    }
}

/// The range without the line's indentation.
fn trim_indent(cx: &RuleContext<'_, '_, '_>, range: TextRange) -> TextRange {
    let text = cx.file().source.text();
    let blanks = text
        .get(range.as_range())
        .map_or(0, |l| l.iter().take_while(|&&b| b == b' ').count());
    TextRange::new(range.start + blanks, range.end)
}

fn describe(found: &[Unknown], touches: Effect) -> (String, FixPlan) {
    let show = |u: &Unknown| String::from_utf8_lossy(&u.name).into_owned();
    let names: Vec<String> = found.iter().map(|u| format!("`%{}%`", show(u))).collect();
    let message = if names.len() == 1 {
        format!(
            "{} is no variable of the script or the installer: the installer writes an empty string in its place",
            names[0]
        )
    } else {
        format!(
            "{} are no variables of the script or the installer: the installer writes an empty string in their place",
            names.join(", ")
        )
    };
    let escaped: Vec<String> = found.iter().map(|u| format!("`%%{}%%`", show(u))).collect();
    let literal: Vec<String> = found.iter().map(|u| format!("`%{}%`", show(u))).collect();
    let fix = FixPlan::new(
        Applicability::Unsafe,
        format!(
            "write {}: the value then installs {} as written instead of nothing",
            escaped.join(", "),
            literal.join(", ")
        ),
        found
            .iter()
            .map(|u| {
                let mut content = b"%%".to_vec();
                content.extend_from_slice(&u.name);
                content.extend_from_slice(b"%%");
                Change::Replace(Edit::replace(u.range, content))
            })
            .collect(),
    )
    .with_effect(touches);
    (message, fix)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_ins_match_case_insensitively() {
        for name in crate::model::script::BUILT_IN_VARIABLES {
            // The fast comparison upper-cases at most 16 bytes.
            assert!(name.len() <= 16 && name.bytes().all(|b| !b.is_ascii_lowercase()));
            assert!(is_built_in(name.as_bytes()));
            assert!(is_built_in(name.to_ascii_lowercase().as_bytes()));
        }
        assert!(is_built_in(b"_WISE_"));
        assert!(!is_built_in(b"SystemRoot"));
        assert!(!is_built_in(b"MAINDIRX"));
        assert!(!is_built_in(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ"));
        assert!(!is_built_in(b""));
        assert!(may_report(b"%SystemRoot%\\x"));
        assert!(!may_report(b"%MAINDIR%\\%sys32%\\x %_WISE_%"));
        assert!(!may_report(b"100%"));
    }
}
