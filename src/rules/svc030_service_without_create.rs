//! SVC030 service-without-create.

use std::collections::HashMap;

use super::context::{Classified, FoldState, Folded, PackageFile};
use super::{Finding, FixPlan, RuleContext, RuleInfo};
use crate::diagnostic::Severity;
use crate::fix::proof::Effect;
use crate::fix::{Applicability, Change};
use crate::model::service::{NewService, ServiceSyntax, TextPiece};
use crate::model::template::references;
use crate::model::{Data, Operation, Origin, ServiceValue};

pub const INFO: RuleInfo = RuleInfo {
    code: "SVC030",
    name: "service-without-create",
    severity: Severity::Warning,
    fix: Some(Applicability::Unsafe),
    summary: "A service installed by raw registry writes (`Type` and `ImagePath`) that no Create Service item of the package creates.",
    doc: r#"## What it finds
The package writes `Type` and `ImagePath` of `SYSTEM\<control set>\Services\<name>` (under
`CurrentControlSet` or `ControlSetNNN`, in any of its files), but no active `Create Service`
item of the package (or of a script it includes) creates `<name>`, and `<name>` is not declared
as created (`services = [...]`, `--service`). One finding per service and file, at the file's
first `Type` or `ImagePath` write of the service.

## Why it matters
Raw writes install a service behind the Service Control Manager's back: the SCM only notices it
after a reboot, nothing registers it for uninstall, and the writes carry the reference machine's
state (KB Q192868). The Create Service action calls CreateService, which writes the same values
itself. Kernel and file-system drivers (`Type` 1 and 2) are converted too: Windows Installer
cannot install them, Create Service can.

## Example
Before (SMS Installer 2.0, which suffixes fields with the language):
```text
item: Edit Registry
  Total Keys=4
  item: Key
    Key=SYSTEM\CurrentControlSet\Services\NAVENG
    New Value=1
    Value Name=Type
    Root=2
    Data Type=3
  end
  … Start=3, ErrorControl=1, ImagePath=\SystemRoot\System32\Drivers\NAVENG.SYS …
end
```
After (the script sets `SYS32` with a `Win32 System Directory` item):
```text
item: Create Service
  Service Name=NAVENG
  Executable Path=%SYS32%\Drivers\NAVENG.SYS
  Service Type=1
  Boot Type=3
  Error Type=1
end
```
and the Edit Registry item is gone.

## Fix
Script: **unsafe** (the service is now created at install time rather than at the next boot).
A `Create Service` item is inserted before the item holding the service's first registry write,
in the script's property order, indentation and line endings:
- `Service Name`: the name as the key writes it.
- `Executable Path`: `ImagePath`, as script text. A `.reg` value is literal, so every `%` is
  doubled; a script's `New Value` already is script text, so its `%%` and the variables the
  package knows stay, and every other `%NAME%` (a captured `%SystemRoot%`) is escaped as SVC040
  does. Then the system-directory part of `\SystemRoot\System32\…`, `System32\…` (relative to
  the Windows directory, as the SCM stores boot drivers), `%SystemRoot%\System32\…`,
  `%windir%\System32\…`, `\??\C:\<dir>\System32\…` and `C:\<dir>\System32\…` becomes the
  script's system-directory variable when a `Win32 System Directory` item before the insertion
  point sets one (`%SYS32%\Drivers\x.sys`); otherwise the path is kept as captured.
- `Login User`: `ObjectName`, unless it is `LocalSystem` (the default).
- `Service Type`, `Boot Type`, `Error Type`: `Type`, `Start`, `ErrorControl`. Without a captured
  `Start`, `Boot Type=3` (demand start: valid for every service type, starts nothing by itself);
  without `ErrorControl`, no `Error Type` (0).
- `Display Name` (`Display Name English` and the like in scripts whose fields carry a language
  suffix): `DisplayName`, when captured.

`Login User` and `Display Name` are script text as `Executable Path` is.

`CurrentControlSet` values win over `ControlSetNNN` copies; the last write of a value wins. The
writes the item now covers are removed in the same fix (those SVC010 would remove as equal:
`Type`, `Start`, `ErrorControl`, `ImagePath`, `DisplayName`, `ObjectName`, `Tag`, and the bare
key); everything else (`Group`, `Description`, `Parameters`, …) stays. No fix is offered when
the file lacks `Type` or `ImagePath`, when `ImagePath` spans lines, or when `Type` is not one
Create Service can express (1, 2, 16, 32, 272, 288). When several scripts of the package write
the service, only the first one gets the item (the others' writes then fall to SVC010).

`.reg` file: **display-only**; the message shows the item to add to the package's script."#,
};

/// The registry values a service install writes (lower-case), as SVC010 knows them.
const SERVICE_VALUES: &[&[u8]] = &[
    b"type",
    b"start",
    b"errorcontrol",
    b"imagepath",
    b"displayname",
    b"objectname",
    b"tag",
];

/// Service types CreateService accepts: kernel driver, file-system driver, own and shared
/// process, the last two also interactive.
const CONVERTIBLE_TYPES: &[u64] = &[1, 2, 16, 32, 16 | 256, 32 | 256];

/// The demand start type, used when no `Start` was captured.
const DEMAND_START: u64 = 3;

/// One service's writes in this file.
struct ServiceWrites<'w, 'a> {
    /// The first write under the service's key or its subkeys: the new item goes before it.
    first: &'w Operation<'a>,
    /// The first `Type` or `ImagePath` write: where the finding points.
    report: Option<&'w Operation<'a>>,
    /// Writes to the service key itself, in file order.
    key_writes: Vec<&'w Classified<'w, 'a>>,
}

pub fn check(cx: &RuleContext<'_, '_, '_>, out: &mut Vec<Finding>) {
    // A service install whose name does not resolve may create any service: none is
    // installed "by registry writes alone" for sure, and a new item could create a second.
    if cx.package.may_create_any() {
        return;
    }
    let charset = cx.facts.charset;
    let mut order: Vec<Folded<'_>> = Vec::new();
    let mut services: HashMap<Folded<'_>, ServiceWrites<'_, '_>, FoldState> = HashMap::default();
    // Writes of one service usually come together: decide once per run of them whether the
    // service is one SVC030 speaks about (not created, `Type` and `ImagePath` written).
    let mut last: Option<(&[u8], bool)> = None;
    for (_, c) in &cx.facts.system {
        let Some(service) = c.location.service() else {
            continue;
        };
        if c.write.unresolved {
            continue;
        }
        let eligible = match last {
            Some((name, eligible)) if crate::model::name::same_bytes(charset, name, service) => {
                eligible
            }
            _ => {
                let eligible = cx.package.creator(charset, service).is_none()
                    && cx.package.writes_type_and_image_path(charset, service);
                last = Some((service, eligible));
                eligible
            }
        };
        if !eligible {
            continue;
        }
        let entry = services
            .entry(Folded::of(charset, service))
            .or_insert_with(|| {
                order.push(Folded::of(charset, service));
                ServiceWrites {
                    first: c.write,
                    report: None,
                    key_writes: Vec::new(),
                }
            });
        if c.location.service_depth() > 0 {
            continue;
        }
        let is_reported = c.write.value.as_deref().is_some_and(|v| {
            v.eq_ignore_ascii_case(b"Type") || v.eq_ignore_ascii_case(b"ImagePath")
        });
        if is_reported && entry.report.is_none() {
            entry.report = Some(c.write);
        }
        entry.key_writes.push(c);
    }
    for name in &order {
        let Some(writes) = services.get(name) else {
            continue;
        };
        if let Some(report) = writes.report {
            out.push(finding(cx, writes, report));
        }
    }
}

/// The captured values the new item is built from.
struct Captured<'w, 'a> {
    service_type: Option<&'w Data<'a>>,
    start: Option<&'w Data<'a>>,
    error_control: Option<&'w Data<'a>>,
    image_path: Option<&'w Data<'a>>,
    display_name: Option<&'w Data<'a>>,
    object_name: Option<&'w Data<'a>>,
}

/// The value `name` (lower-case) the service gets: the last write to the reference
/// configuration's current control set, else the last write.
fn chosen<'w, 'a>(writes: &[&'w Classified<'w, 'a>], name: &[u8]) -> Option<&'w Data<'a>> {
    let of_value = |c: &&&Classified<'_, '_>| {
        c.write.kind == crate::model::OpKind::SetValue
            && c.write
                .value
                .as_deref()
                .is_some_and(|v| v.eq_ignore_ascii_case(name))
    };
    writes
        .iter()
        .filter(of_value)
        .rfind(|c| c.location.control_set.is_reference())
        .or_else(|| writes.iter().rfind(of_value))
        .map(|c| &c.write.data)
}

/// The new service with the values to compare captured writes with.
struct Item {
    service: NewService,
    /// The captured display name and account (unescaped), when the item carries them.
    display_name: Option<Vec<u8>>,
    account: Option<Vec<u8>>,
    /// No `Start` was captured.
    start_defaulted: bool,
}

/// Captured text that fits on one field line.
fn one_line<'d>(d: Option<&'d Data<'_>>) -> Option<&'d [u8]> {
    d.and_then(Data::as_text)
        .filter(|t| !t.iter().any(|&b| b == b'\n' || b == b'\r'))
}

/// The service for the captured values, or why there is none. `as_pieces` reads a captured
/// text as the new item's text pieces; `system_directory` is the variable holding the system
/// directory where the item goes, if any.
fn build(
    name: &[u8],
    captured: &Captured<'_, '_>,
    as_pieces: &dyn Fn(&[u8]) -> Vec<TextPiece>,
    system_directory: Option<&[u8]>,
    syntax: &ServiceSyntax<'_>,
) -> Result<Item, String> {
    let number = |d: Option<&Data<'_>>| d.and_then(Data::as_number);
    let service_type = match captured.service_type {
        None => return Err("this file does not write its `Type`".into()),
        Some(d) => match d.as_number() {
            Some(t) if syntax.accepts_type(t) => t,
            Some(t) if CONVERTIBLE_TYPES.contains(&t) => {
                return Err(format!(
                    "`Type`={t} is a driver, which a {} cannot install",
                    syntax.item
                ));
            }
            Some(t) => return Err(format!("`Type`={t} is no type CreateService accepts")),
            None => return Err("its `Type` is not a number".into()),
        },
    };
    let image_path = match captured.image_path {
        None => return Err("this file does not write its `ImagePath`".into()),
        Some(d) => one_line(Some(d)).ok_or("its `ImagePath` is not one line of text")?,
    };
    let start = number(captured.start);
    let error_control = number(captured.error_control);
    let display_name = one_line(captured.display_name).map(<[u8]>::to_vec);
    let account = one_line(captured.object_name)
        .filter(|a| !a.eq_ignore_ascii_case(b"LocalSystem"))
        .map(<[u8]>::to_vec);
    let as_u32 = |n: u64| u32::try_from(n).unwrap_or(u32::MAX);
    let boot = start.unwrap_or(DEMAND_START);
    Ok(Item {
        service: NewService {
            name: name.to_vec(),
            service_type: as_u32(service_type),
            start: as_u32(boot),
            error_control: error_control.map(as_u32),
            image_path: executable_path(as_pieces(image_path), system_directory),
            display_name: display_name.as_deref().map(as_pieces),
            account: account.as_deref().map(as_pieces),
        },
        display_name,
        account,
        start_defaulted: start.is_none(),
    })
}

/// A captured text of a file as the text of a new service's field: a template is kept as
/// written (known variables and `%%` stay) but for references to no variable (a captured
/// `%SystemRoot%`), escaped as SVC040 does; a literal file's text is literal.
fn text_pieces(cx: &RuleContext<'_, '_, '_>, templates: bool, text: &[u8]) -> Vec<TextPiece> {
    if !templates {
        return vec![TextPiece::Literal(text.to_vec())];
    }
    let mut out = Vec::with_capacity(text.len() + 4);
    let mut at = 0;
    for r in references(text) {
        if cx.package.is_known(r.name(text)) {
            continue;
        }
        out.extend_from_slice(&text[at..r.range.start]);
        out.push(b'%');
        out.extend_from_slice(&text[r.range.start..r.range.end - 1]);
        out.extend_from_slice(b"%%");
        at = r.range.end;
    }
    out.extend_from_slice(&text[at..]);
    vec![TextPiece::Template(out)]
}

/// An `Executable Path`: the system directory replaced by the variable that holds it, where
/// the path has one of the forms the SCM stores.
fn executable_path(path: Vec<TextPiece>, variable: Option<&[u8]>) -> Vec<TextPiece> {
    let Some(var) = variable else {
        return path;
    };
    let (rest, template) = match path.first() {
        Some(TextPiece::Literal(first)) => (after_system_directory(first, false), false),
        Some(TextPiece::Template(first)) => (after_system_directory(first, true), true),
        _ => (None, false),
    };
    let Some(rest) = rest else {
        return path;
    };
    let rest = [&b"\\"[..], rest].concat();
    let mut out = vec![
        TextPiece::Variable(var.to_vec()),
        if template {
            TextPiece::Template(rest)
        } else {
            TextPiece::Literal(rest)
        },
    ];
    out.extend(path.into_iter().skip(1));
    out
}

/// What follows `System32\` in `\SystemRoot\System32\…`, `System32\…`,
/// `%SystemRoot%\System32\…`, `%windir%\System32\…` (a captured `%SystemRoot%`, written
/// `%%SystemRoot%%` in a template: `escaped`), `\??\C:\<dir>\System32\…` or
/// `C:\<dir>\System32\…` (ASCII case-insensitive).
fn after_system_directory(path: &[u8], escaped: bool) -> Option<&[u8]> {
    let lower = path.to_ascii_lowercase();
    let prefix = |p: &[u8]| lower.starts_with(p).then_some(p.len());
    let (system_root, windir): (&[u8], &[u8]) = if escaped {
        (b"%%systemroot%%\\", b"%%windir%%\\")
    } else {
        (b"%systemroot%\\", b"%windir%\\")
    };
    let base = prefix(b"\\systemroot\\")
        .or_else(|| prefix(system_root))
        .or_else(|| prefix(windir))
        .or_else(|| {
            let start = prefix(b"\\??\\").unwrap_or(0);
            let drive = lower.get(start..start + 3)?;
            if !(drive[0].is_ascii_alphabetic() && drive[1] == b':' && drive[2] == b'\\') {
                return None;
            }
            let dir = memchr::memchr(b'\\', lower.get(start + 3..)?)?;
            Some(start + 3 + dir + 1)
        })
        .unwrap_or(0);
    const SYSTEM32: &[u8] = b"system32\\";
    let rest = lower.get(base..)?;
    (rest.starts_with(SYSTEM32) && rest.len() > SYSTEM32.len())
        .then(|| &path[base + SYSTEM32.len()..])
}

/// The file whose syntax a `.reg` file's suggestion follows: the package's first file that
/// can hold a service install.
fn package_script(cx: &RuleContext<'_, '_, '_>) -> Option<usize> {
    (0..cx.files.len()).find(|&i| cx.package.service_syntax(i).is_some())
}

fn finding(
    cx: &RuleContext<'_, '_, '_>,
    writes: &ServiceWrites<'_, '_>,
    report: &Operation<'_>,
) -> Finding {
    let file = cx.file();
    let name = report_name(report);
    let shown = cx.show(name);
    let captured = Captured {
        service_type: chosen(&writes.key_writes, b"type"),
        start: chosen(&writes.key_writes, b"start"),
        error_control: chosen(&writes.key_writes, b"errorcontrol"),
        image_path: chosen(&writes.key_writes, b"imagepath"),
        display_name: chosen(&writes.key_writes, b"displayname"),
        object_name: chosen(&writes.key_writes, b"objectname"),
    };
    let templates = file.model.templates;
    let script = package_script(cx);
    let plain = ServiceSyntax::default_syntax();
    let package_syntax = script
        .and_then(|i| cx.package.service_syntax(i))
        .unwrap_or(&plain);
    let head = format!(
        "service `{shown}` is installed by registry writes alone: no {} item of the package creates it",
        package_syntax.item
    );
    // Without a captured `Start`, the item asks for demand start (3): valid for every service
    // type, it starts nothing by itself.
    let demand_start = |syntax: &ServiceSyntax<'_>| {
        let label = syntax.label(ServiceValue::Start).unwrap_or_default();
        format!("no `Start` was captured: `{label}={DEMAND_START}`, demand start")
    };

    let own = cx
        .package
        .service_syntax(cx.file_index)
        .filter(|s| s.inserts_items());
    let Some(syntax) = own else {
        // A file whose format cannot hold a service install, or whose install a fix cannot
        // write (a WiX element or a database row needs the component that installs the
        // executable): the finding shows what to add, in the syntax of the package file that
        // can hold one (this file's own first).
        let (script, target_syntax) = match cx.package.service_syntax(cx.file_index) {
            Some(own) => (Some(cx.file_index), own),
            None => (script, package_syntax),
        };
        let as_pieces = |t: &[u8]| text_pieces(cx, templates, t);
        let system_directory =
            script.and_then(|i| cx.files[i].model.system_directory_variable(u64::MAX));
        let (message, fix) =
            match build(name, &captured, &as_pieces, system_directory, target_syntax) {
                Ok(item) => {
                    let target = script.map_or_else(
                        || "the package's script".to_string(),
                        |s| format!("`{}`", cx.files[s].source.path),
                    );
                    let mut message = format!(
                        "{head}; {}",
                        target_syntax.suggestion(&item.service, &target, &|v| cx.show(v))
                    );
                    if item.start_defaulted {
                        message.push_str(&format!("\n({})", demand_start(target_syntax)));
                    }
                    let fix = FixPlan::new(
                        Applicability::DisplayOnly,
                        format!("add the {} item above to {target}", target_syntax.item),
                        Vec::new(),
                    );
                    (message, Some(fix))
                }
                Err(why) => (format!("{head}; convert it by hand: {why}"), None),
            };
        return cx.finding(&INFO, report, Some(name), message, fix);
    };

    // One service install per package: when an earlier file of the package that can hold one
    // (an input too, as inputs come first) writes the service as well, its fix inserts the
    // item and the writes here become SVC010's.
    if let Some(earlier) = (0..cx.file_index).find(|&i| {
        cx.package
            .service_syntax(i)
            .is_some_and(|s| s.inserts_items())
            && writes_type_and_image_path(&cx.files[i], cx.facts.charset, name)
    }) {
        let message = format!(
            "{head}; the fix of the same finding in `{}` inserts its {} item",
            cx.files[earlier].source.path, syntax.item
        );
        return cx.finding(&INFO, report, Some(name), message, None);
    }

    let system_directory = file.model.system_directory_variable(writes.first.seq);
    let as_pieces = |t: &[u8]| text_pieces(cx, templates, t);
    let item = match build(name, &captured, &as_pieces, system_directory, syntax) {
        Ok(item) => item,
        Err(why) => {
            let message = format!("{head}; convert it by hand: {why}");
            return cx.finding(&INFO, report, Some(name), message, None);
        }
    };
    let covered: Vec<Origin> = writes
        .key_writes
        .iter()
        .filter(|c| covers(cx, &item, c))
        .map(|c| c.write.origin)
        .collect();
    let line = file
        .source
        .line_index()
        .line_col(file.source.text(), writes.first.range.start)
        .line;
    let fields = syntax.fields(&item.service);
    let summary: Vec<String> = fields
        .iter()
        .map(|(k, v)| format!("{k}={}", cx.show(v)))
        .collect();
    let mut title = format!(
        "insert a {} item ({}) before the service's first write (line {line}) and remove the {} write{} it covers",
        syntax.item,
        summary.join(", "),
        covered.len(),
        if covered.len() == 1 { "" } else { "s" }
    );
    if item.start_defaulted {
        title.push_str("; ");
        title.push_str(&demand_start(syntax));
    }
    let mut changes = vec![Change::InsertItem {
        before: Origin {
            container: writes.first.origin.container,
            index: 0,
        },
        action: syntax.item.to_string(),
        fields,
    }];
    changes.extend(covered.into_iter().map(Change::RemoveWrite));
    let fix = FixPlan::new(Applicability::Unsafe, title, changes).with_effect(Effect::Install {
        before: writes.first.origin,
        service: item.service,
    });
    cx.finding(&INFO, report, Some(name), head, Some(fix))
}

/// Whether `file` writes both `Type` and `ImagePath` of service `name` (of a file with charset
/// `charset`).
fn writes_type_and_image_path(
    file: &PackageFile<'_>,
    charset: crate::model::Charset,
    name: &[u8],
) -> bool {
    let (mut has_type, mut has_image) = (false, false);
    for write in file.model.writes() {
        let Some(value) = write.value.as_deref() else {
            continue;
        };
        let is_type = value.eq_ignore_ascii_case(b"Type");
        if !is_type && !value.eq_ignore_ascii_case(b"ImagePath") {
            continue;
        }
        let on_service =
            crate::model::SystemLocation::of(write.hive, &write.key).is_some_and(|l| {
                l.service()
                    .is_some_and(|s| Folded::of(file.model.charset, s) == Folded::of(charset, name))
                    && l.service_depth() == 0
            });
        if on_service {
            has_type |= is_type;
            has_image |= !is_type;
        }
    }
    has_type && has_image
}

/// The service name as the key writes it.
fn report_name<'w>(write: &'w Operation<'_>) -> &'w [u8] {
    crate::model::SystemLocation::of(write.hive, &write.key)
        .and_then(|l| l.service())
        .unwrap_or_default()
}

/// Whether the new item makes this write of the service key redundant (SVC010 would remove it
/// as equal).
fn covers(cx: &RuleContext<'_, '_, '_>, item: &Item, c: &Classified<'_, '_>) -> bool {
    let data = &c.write.data;
    let Some(value) = c.write.value.as_deref() else {
        // The bare key: redundant when nothing but values Create Service sets is written to it.
        return !cx
            .facts
            .key_holds_other_than(c.rest(), SERVICE_VALUES, false);
    };
    let is = |n: &str| value.eq_ignore_ascii_case(n.as_bytes());
    let service = &item.service;
    if is("Type") {
        data.as_number() == Some(u64::from(service.service_type))
    } else if is("Start") {
        data.as_number() == Some(u64::from(service.start))
    } else if is("ErrorControl") {
        data.as_number() == Some(u64::from(service.error_control.unwrap_or(0)))
    } else if is("ImagePath") || is("Tag") {
        true
    } else if is("DisplayName") {
        item.display_name
            .as_deref()
            .is_some_and(|d| data.as_text() == Some(d))
    } else if is("ObjectName") {
        let account = item.account.as_deref().unwrap_or(b"LocalSystem");
        data.as_text()
            .is_some_and(|t| t.eq_ignore_ascii_case(account))
    } else {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A literal path (as a `.reg` file holds it) as an `Executable Path`.
    fn mapped(path: &str, var: Option<&str>) -> String {
        let pieces = vec![TextPiece::Literal(path.as_bytes().to_vec())];
        let mapped = executable_path(pieces, var.map(str::as_bytes));
        String::from_utf8(ServiceSyntax::text(&mapped)).unwrap()
    }

    #[test]
    fn driver_paths_map_to_the_system_directory_variable() {
        let sys = Some("SYS32");
        for path in [
            r"\SystemRoot\System32\Drivers\x.sys",
            r"System32\Drivers\x.sys",
            r"system32\Drivers\x.sys",
            r"%SystemRoot%\System32\Drivers\x.sys",
            r"%windir%\system32\Drivers\x.sys",
            r"\??\C:\WINNT\System32\Drivers\x.sys",
            r"C:\WINDOWS\system32\Drivers\x.sys",
        ] {
            assert_eq!(mapped(path, sys), r"%SYS32%\Drivers\x.sys", "{path}");
        }
        assert_eq!(
            mapped(r"%SystemRoot%\System32\svchost.exe -k %x%", sys),
            r"%SYS32%\svchost.exe -k %%x%%"
        );
    }

    #[test]
    fn other_paths_are_kept_with_every_percent_doubled() {
        assert_eq!(
            mapped(r"%SystemRoot%\System32\x.sys", None),
            r"%%SystemRoot%%\System32\x.sys"
        );
        assert_eq!(
            mapped(r"\SystemRoot\System32\x.sys", None),
            r"\SystemRoot\System32\x.sys"
        );
        for path in [
            r"C:\Program Files\Fab\fab.exe",
            r#""C:\WINNT\System32\x.exe" -s"#,
            r"\??\C:\Tools\x.sys",
            r"\SystemRoot\x.sys",
            r"System32\",
        ] {
            assert_eq!(
                mapped(path, Some("SYS32")),
                path.replace('%', "%%"),
                "{path}"
            );
        }
    }
}
