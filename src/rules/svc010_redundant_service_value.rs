//! SVC010 redundant-service-value.

use std::borrow::Cow;

use super::context::{Classified, Creator};
use super::{Finding, FixPlan, RuleContext, RuleInfo, concat, remove};
use crate::diagnostic::Severity;
use crate::fix::proof::{Effect, ServiceData, Target};
use crate::fix::{Applicability, Change};
use crate::model::{Charset, Data, Operation, ServiceInstall, ServiceValue};

pub const INFO: RuleInfo = RuleInfo {
    code: "SVC010",
    name: "redundant-service-value",
    severity: Severity::Warning,
    fix: Some(Applicability::Safe),
    summary: "A write of a value that the package's own Create Service action sets (`Type`, `Start`, `ErrorControl`, `ImagePath`, `DisplayName`, `ObjectName`, `Tag`).",
    doc: r#"## What it finds
For a service the package creates (an active `Create Service` item in any script of the package,
or a name listed in `services = [...]` / `--service`), a write of a value that Create Service
sets itself: `Type`, `Start`, `ErrorControl`, `ImagePath`, `DisplayName`, `ObjectName`, and `Tag`
(assigned by the system). Also the write of the bare `Services\<name>` key when no other value is
written to it.

The value is compared with the Create Service item: `Type` with `Service Type`, `Start` with
`Boot Type`, `ErrorControl` with `Error Type` (numbers; absent = 0), `DisplayName` with
`Display Name` (or `Display Name <Language>`), `ObjectName` with `Login User` (absent =
`LocalSystem`, case-insensitive), `ImagePath` with `Executable Path` as text. A captured
`ImagePath` (`System32\Drivers\x.sys`, `C:\Program Files\…`) is the reference machine's and
rarely equals the item's (`%SYS32%\Drivers\x.sys`): it is reported as different, and removing it
changes what is installed.

It never touches `Group`, `DependOnService`, `DependOnGroup`, ChangeServiceConfig2 values
(`Description`, `FailureActions`, `DelayedAutostart`, …) or subkeys such as `Parameters`: the
Create Service action cannot express them, so they are the vendor's configuration.

## Why it matters
Microsoft's own workaround for KB Q192868 is to edit every Edit Registry action so that it no
longer writes the keys the Create Service action creates. A captured copy either repeats what
Create Service writes, or silently overrides it after the fact with the reference machine's
values.

## Example
Before:
```text
item: Create Service
  Service Name=NAVAPSVC
  Executable Path=%MAINDIR%\NAVAPSVC.EXE
  Service Type=16
  Boot Type=2
end
item: Edit Registry
  Total Keys=1
  Key=SYSTEM\CurrentControlSet\Services\NAVAPSVC
  New Value=2
  Value Name=Start
  Root=2
  Data Type=3
end
```
After: the Edit Registry item is removed (the value equals `Boot Type`).

## Fix
Every fix is proven against the registry the package installs (see `svcscrub explain SVC020`
for the model): it is safe only if the package installs the same thing without the write.
- Equal, or the write comes **before** the Create Service in the same block (Create Service
  overwrites it): remove the write, **safe** — unless the package also writes the value
  elsewhere (another file, which may run after it): then removing this copy may change which
  data wins, and the fix is **unsafe**, saying what changes.
- The bare `Services\<name>` key: removed with the block's last value only (a `.reg` key line
  goes with its values); while a value of the block stays, the finding has no fix.
- Different and the write comes **after** the Create Service (same script, same block):
  **unsafe** rewrite — the Create Service field is set to the captured value (added if absent)
  and the write is removed, so the installed value is unchanged. What the service install derives
  from the field changes with it, and the fix says so: a `Type` that makes a Win32 service a
  driver takes its default `ObjectName` (`LocalSystem`) away.
- Different with no order to go by (a `.reg` file, another script, another block): remove,
  **unsafe**; the message shows both values.
- The service is only declared as created (configuration or `--service`): remove, **unsafe**."#,
};

/// The values a service install writes (lower-case), and `Tag`, which the system assigns.
const SERVICE_VALUES: &[&[u8]] = &[
    b"type",
    b"start",
    b"errorcontrol",
    b"imagepath",
    b"displayname",
    b"objectname",
    b"tag",
];

/// How a write stands against the service install in the same file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Order {
    Before,
    After,
    /// Another file, or another control-flow region: no order to go by.
    Unordered,
}

pub fn check(cx: &RuleContext<'_, '_, '_>, out: &mut Vec<Finding>) {
    for (_, c) in cx.system() {
        let Some(service) = c.location.service() else {
            continue;
        };
        if c.location.service_depth() > 0 || c.write.unresolved {
            continue;
        }
        let Some(creator) = cx.package.creator(cx.facts.charset, service) else {
            continue;
        };
        match &c.write.value {
            None => {
                if cx
                    .facts
                    .key_holds_other_than(c.rest(), SERVICE_VALUES, false)
                    || cx.facts.opens_for_deletions(c.write)
                {
                    continue;
                }
                let applicability = match creator {
                    Creator::Item { .. } => Applicability::Safe,
                    Creator::Declared => Applicability::Unsafe,
                };
                let key = cx.key_of(c.write);
                let message = concat(&[
                    &cx.describe_at(c.write, &key),
                    " of service `",
                    &cx.show(service),
                    "` is created by ",
                    &describe_creator(cx, creator),
                ]);
                let fix = remove(c.write, applicability, "remove the key write");
                out.push(cx.finding_at(&INFO, c.write, key, Some(service), message, Some(fix)));
            }
            Some(value) => {
                if value.eq_ignore_ascii_case(b"Tag") {
                    out.push(tag_finding(cx, c, service, creator));
                } else if let Some(sv) = ServiceValue::named(value) {
                    // Every install writes the values CreateService always writes; the others
                    // (`Group`, `DependOnService`, `DependOnGroup`, `Description`) only when
                    // it sets them, as a Windows Installer service install can.
                    let sets = sv.always_written()
                        || matches!(creator, Creator::Item { item, .. } if item.writes(sv).is_some());
                    if sets {
                        out.push(value_finding(cx, c, service, sv, creator));
                    }
                }
            }
        }
    }
}

fn describe_creator(cx: &RuleContext<'_, '_, '_>, creator: Creator<'_, '_>) -> String {
    match creator {
        Creator::Item { file, item, .. } => {
            let source = cx.files[file].source;
            // A database has no lines: its row is named by table and primary key.
            let place = match source.row_of(item.head) {
                Some(row) => format!("{}:{}/{}", source.path, row.table, row.row),
                None => format!("{}:{}", source.path, cx.package.line_of(creator)),
            };
            format!("the {} item at {place}", item_name(cx, file))
        }
        Creator::Declared => "a declared service (configuration or --service)".to_string(),
    }
}

/// What file `file`'s format calls its service-install item (`Create Service`).
fn item_name(cx: &RuleContext<'_, '_, '_>, file: usize) -> &'static str {
    cx.files
        .get(file)
        .and_then(|f| f.model.service_item)
        .unwrap_or("service install")
}

/// The title of the usual fix, thousands of times in a capture: a literal for each item name
/// the models give, so that no finding holds a copy of it.
fn sets_it(item: &'static str) -> Cow<'static, str> {
    match item {
        "Create Service" => Cow::Borrowed("remove the value; Create Service sets it"),
        "ServiceInstall" => Cow::Borrowed("remove the value; ServiceInstall sets it"),
        "service install" => Cow::Borrowed("remove the value; service install sets it"),
        _ => Cow::Owned(concat(&["remove the value; ", item, " sets it"])),
    }
}

/// A captured `Tag`: the system assigns one only to a service in a load-order group that asks
/// for one, which a service install without a group does not.
fn tag_finding(
    cx: &RuleContext<'_, '_, '_>,
    c: &Classified<'_, '_>,
    service: &[u8],
    creator: Creator<'_, '_>,
) -> Finding {
    let write = c.write;
    let key = cx.key_of(write);
    let what = cx.describe_at(write, &key);
    let name = cx.show(service);
    let grouped = cx.facts.key_holds(c.rest(), b"Group")
        || matches!(creator, Creator::Item { item, .. } if item.writes(ServiceValue::Group).is_some());
    let (applicability, message) = match creator {
        Creator::Declared => (
            Applicability::Unsafe,
            format!(
                "{what} of service `{name}` is assigned by the system; the service's creator ({}) sets it",
                describe_creator(cx, creator)
            ),
        ),
        Creator::Item { .. } if grouped => (
            Applicability::Unsafe,
            format!(
                "{what} of service `{name}` was assigned by the reference machine; {} assigns none, but the package writes the service's `Group`, where the tag sets its load order",
                describe_creator(cx, creator)
            ),
        ),
        Creator::Item { .. } => (
            Applicability::Safe,
            format!(
                "{what} of service `{name}` was assigned by the reference machine; {} assigns none and the service has no load-order group, where a tag would count",
                describe_creator(cx, creator)
            ),
        ),
    };
    let fix =
        remove(write, applicability, "remove the captured tag").targeting(Target::UngroupedTag);
    cx.finding_at(&INFO, write, key, Some(service), message, Some(fix))
}

fn value_finding(
    cx: &RuleContext<'_, '_, '_>,
    c: &Classified<'_, '_>,
    service: &[u8],
    value: ServiceValue,
    creator: Creator<'_, '_>,
) -> Finding {
    let write = c.write;
    let key = cx.key_of(write);
    let what = cx.describe_at(write, &key);
    let name = cx.show(service);
    let by = describe_creator(cx, creator);
    let Creator::Item { file, item, .. } = creator else {
        let message =
            format!("{what} of service `{name}` is set by whatever creates it ({by}); remove it");
        let fix = remove(
            write,
            Applicability::Unsafe,
            "remove the value; the service's creator sets it",
        );
        return cx.finding_at(&INFO, write, key, Some(service), message, Some(fix));
    };
    let item_model = &cx.files[file].model;
    let order = order_of(cx, write, file, item);
    let expected = item.writes(value);
    let equal = expected.as_ref().is_some_and(|e| {
        equals(
            value,
            cx.file().model.charset,
            &write.data,
            item_model.charset,
            e,
        )
    });

    if equal || order == Order::Before {
        // The usual case, thousands of times in a capture: built without `format!`.
        let message = if equal {
            concat(&[
                &what,
                " of service `",
                &name,
                "` equals what ",
                &by,
                " sets",
            ])
        } else {
            concat(&[
                &what,
                " of service `",
                &name,
                "` comes before ",
                &by,
                ", which overwrites it (the item ",
                &setting(cx, value, file, item),
                ")",
            ])
        };
        let fix = remove(write, Applicability::Safe, sets_it(item_name(cx, file)));
        return cx.finding_at(&INFO, write, key, Some(service), message, Some(fix));
    }

    let written = show_data(cx, &write.data);
    let setting = setting(cx, value, file, item);
    let message = format!("{what} of service `{name}` is {written}, but {by} {setting}");
    // A captured `ImagePath` is the reference machine's path: the item's own is the one to
    // keep, so it is never moved into the item.
    let rewrite = (order == Order::After
        && value != ServiceValue::ImagePath
        && item.settable.contains(&value))
    .then(|| field_value(value, &write.data))
    .flatten();
    let label = rewrite
        .as_ref()
        .and_then(|_| field_label(value, file, item, cx));
    let fix = match (rewrite, label) {
        (Some(text), Some(field)) => {
            let data = if value.is_number() {
                write
                    .data
                    .as_number()
                    .and_then(|n| u32::try_from(n).ok())
                    .map(ServiceData::Number)
            } else {
                Some(ServiceData::Text(text.clone()))
            };
            FixPlan::new(
                Applicability::Unsafe,
                format!(
                    "set `{field}={}` in the {} item and remove the value{}",
                    cx.show(&text),
                    item_name(cx, file),
                    derived_changes(item, value, &data)
                ),
                vec![
                    Change::SetServiceField {
                        service: item.handle,
                        field,
                        value: text,
                    },
                    Change::RemoveWrite(write.origin),
                ],
            )
            .with_effect(Effect::ServiceValue {
                service: item.handle,
                value,
                data,
            })
        }
        _ => remove(
            write,
            Applicability::Unsafe,
            format!(
                "remove the value (the installed value changes to the {} one)",
                item_name(cx, file)
            ),
        ),
    };
    cx.finding_at(&INFO, write, key, Some(service), message, Some(fix))
}

/// What else the install writes differently once its field for `value` holds `data` (a
/// Win32 service's default `ObjectName` goes with a `Type` that makes it a driver), for the
/// fix's title.
fn derived_changes(
    item: &ServiceInstall<'_>,
    value: ServiceValue,
    data: &Option<ServiceData>,
) -> String {
    let changed = item.with_value(value, data.as_ref().map(ServiceData::as_data));
    let names: Vec<&str> = ServiceValue::ALL
        .into_iter()
        .filter(|&v| v != value && item.writes(v) != changed.writes(v))
        .map(ServiceValue::registry_name)
        .collect();
    if names.is_empty() {
        return String::new();
    }
    format!(" (the install's `{}` changes too)", names.join("`, `"))
}

fn order_of(
    cx: &RuleContext<'_, '_, '_>,
    write: &Operation<'_>,
    item_file: usize,
    item: &ServiceInstall<'_>,
) -> Order {
    if item_file != cx.file_index || write.block != item.block {
        Order::Unordered
    } else if write.seq < item.seq {
        Order::Before
    } else {
        Order::After
    }
}

/// Whether the written data equals what the install writes: numbers by value, an account
/// case-insensitively, other text exactly (as installed text, whatever the files' charsets).
fn equals(
    value: ServiceValue,
    write_charset: Charset,
    data: &Data<'_>,
    item_charset: Charset,
    expected: &Data<'_>,
) -> bool {
    if value.is_number() {
        return data.as_number().is_some() && data.as_number() == expected.as_number();
    }
    let (Some(a), Some(b)) = (data.as_text(), expected.as_text()) else {
        return false;
    };
    let (a, b) = (write_charset.decode(a), item_charset.decode(b));
    if value == ServiceValue::ObjectName {
        crate::model::name::same(&a, &b)
    } else {
        a == b
    }
}

/// The field that sets `value`, as the item spells it or as the format adds it.
fn field_label(
    value: ServiceValue,
    file: usize,
    item: &ServiceInstall<'_>,
    cx: &RuleContext<'_, '_, '_>,
) -> Option<String> {
    if let Some(f) = item.field(value) {
        return Some(String::from_utf8_lossy(f.label).into_owned());
    }
    let syntax = cx.package.service_syntax(file)?;
    syntax.label(value).map(|l| l.into_owned())
}

/// What the item does with the value, for messages (``sets `Boot Type=2` ``, ``has no `Error
/// Type` (0)``).
fn setting(
    cx: &RuleContext<'_, '_, '_>,
    value: ServiceValue,
    file: usize,
    item: &ServiceInstall<'_>,
) -> String {
    match item.field(value) {
        Some(f) => format!("sets `{}={}`", cx.show(f.label), cx.show(f.value)),
        None => {
            let label =
                field_label(value, file, item, cx).unwrap_or_else(|| value.registry_name().into());
            match value {
                ServiceValue::Type | ServiceValue::Start | ServiceValue::ErrorControl => {
                    format!("has no `{label}` (0)")
                }
                ServiceValue::ObjectName => format!("has no `{label}` (LocalSystem)"),
                _ => format!("has no `{label}`"),
            }
        }
    }
}

/// The captured value as service install field text, if it can be expressed there.
fn field_value(value: ServiceValue, data: &Data<'_>) -> Option<Vec<u8>> {
    if value.is_number() {
        return data.as_number().map(|n| n.to_string().into_bytes());
    }
    data.as_text()
        .filter(|t| !t.contains(&b'\n') && !t.contains(&b'\r'))
        .map(<[u8]>::to_vec)
}

fn show_data(cx: &RuleContext<'_, '_, '_>, data: &Data<'_>) -> String {
    match data {
        Data::None => "(no data)".to_string(),
        Data::Dword(n) => n.to_string(),
        Data::Qword(n) => n.to_string(),
        Data::Sz(_) | Data::ExpandSz(_) => {
            format!("\"{}\"", cx.show(data.as_text().unwrap_or_default()))
        }
        Data::MultiSz(_) => "a multi-string".to_string(),
        Data::Binary(_) | Data::Raw { .. } => "binary data".to_string(),
    }
}
