//! SVC010 redundant-service-value.

use super::context::{Classified, Creator};
use super::{Finding, FixPlan, RuleContext, RuleInfo, concat, remove};
use crate::diagnostic::Severity;
use crate::fix::{Applicability, Change};
use crate::model::{CreateService, Data, RegWrite};

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
`LocalSystem`, case-insensitive). `ImagePath` is always machine-specific and counts as equal.

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
- Equal, or the write comes **before** the Create Service in the same block (Create Service
  overwrites it): remove the write, **safe**.
- Different and the write comes **after** the Create Service (same script, same block):
  **unsafe** rewrite — the Create Service field is set to the captured value (added if absent)
  and the write is removed, so the installed result is unchanged.
- Different with no order to go by (a `.reg` file, another script, another block): remove,
  **unsafe**; the message shows both values.
- The service is only declared as created (configuration or `--service`): remove, **unsafe**."#,
};

/// The values Create Service writes, lower-case, with the item field each is compared with.
const SERVICE_VALUES: &[(&[u8], Compare)] = &[
    (b"type", Compare::Number("Service Type")),
    (b"start", Compare::Number("Boot Type")),
    (b"errorcontrol", Compare::Number("Error Type")),
    (b"imagepath", Compare::Always),
    (b"displayname", Compare::DisplayName),
    (b"objectname", Compare::Account),
    (b"tag", Compare::Always),
];

#[derive(Clone, Copy, Debug)]
enum Compare {
    /// A number compared with this field (absent = 0).
    Number(&'static str),
    /// `Display Name` or `Display Name <Language>`.
    DisplayName,
    /// `Login User`, absent = `LocalSystem`, case-insensitive.
    Account,
    /// Machine-specific or system-assigned: always counts as equal.
    Always,
}

/// How a write stands against the Create Service item in the same script.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Order {
    Before,
    After,
    /// A `.reg` file, another script, or another block: no order to go by.
    Unordered,
}

pub fn check(cx: &RuleContext<'_, '_, '_>, out: &mut Vec<Finding>) {
    let redundant: Vec<&[u8]> = SERVICE_VALUES.iter().map(|(name, _)| *name).collect();
    for (_, c) in cx.system() {
        let Some(service) = c.location.service() else {
            continue;
        };
        if c.location.service_depth() > 0 {
            continue;
        }
        let Some(creator) = cx.package.creator(service) else {
            continue;
        };
        match &c.write.value {
            None => {
                if cx.facts.key_holds_other_than(c.rest(), &redundant, false) {
                    continue;
                }
                let (applicability, source) = match creator {
                    Creator::Item { .. } => (Applicability::Safe, describe_creator(cx, creator)),
                    Creator::Declared => (Applicability::Unsafe, describe_creator(cx, creator)),
                };
                let key = cx.key_of(c.write);
                let message = concat(&[
                    &cx.describe_at(c.write, &key),
                    " of service `",
                    &cx.show(service),
                    "` is created by ",
                    &source,
                ]);
                let fix = remove(c.write, applicability, "remove the key write");
                out.push(cx.finding_at(&INFO, c.write, key, Some(service), message, Some(fix)));
            }
            Some(value) => {
                let Some(&(_, compare)) = SERVICE_VALUES
                    .iter()
                    .find(|(name, _)| value.eq_ignore_ascii_case(name))
                else {
                    continue;
                };
                out.push(value_finding(cx, c, service, compare, creator));
            }
        }
    }
}

fn describe_creator(cx: &RuleContext<'_, '_, '_>, creator: Creator<'_, '_>) -> String {
    match creator {
        Creator::Item { file, .. } => {
            let line = cx.package.line_of(creator);
            format!(
                "the Create Service item at {}:{line}",
                cx.files[file].source.path
            )
        }
        Creator::Declared => "a declared service (configuration or --service)".to_string(),
    }
}

fn value_finding(
    cx: &RuleContext<'_, '_, '_>,
    c: &Classified<'_, '_>,
    service: &[u8],
    compare: Compare,
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

    let order = order_of(cx, write, file, item);
    let equal = equals_item(compare, &write.data, item);

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
                &setting(cx, compare, item),
                ")",
            ])
        };
        let fix = remove(
            write,
            Applicability::Safe,
            "remove the value; Create Service sets it",
        );
        return cx.finding_at(&INFO, write, key, Some(service), message, Some(fix));
    }

    let written = show_data(cx, &write.data);
    let setting = setting(cx, compare, item);
    let message = format!("{what} of service `{name}` is {written}, but {by} {setting}");
    let rewrite = (order == Order::After)
        .then(|| field_value(compare, &write.data))
        .flatten();
    let fix = match rewrite {
        Some(value) => {
            let field = field_name(cx, compare, item);
            FixPlan {
                applicability: Applicability::Unsafe,
                title: format!(
                    "set `{field}={}` in the Create Service item and remove the value",
                    cx.show(&value)
                ),
                changes: vec![
                    Change::SetServiceField {
                        service: item.origin,
                        field,
                        value,
                    },
                    Change::RemoveWrite(write.origin),
                ],
            }
        }
        None => remove(
            write,
            Applicability::Unsafe,
            "remove the value (the installed value changes to the Create Service one)",
        ),
    };
    cx.finding_at(&INFO, write, key, Some(service), message, Some(fix))
}

fn order_of(
    cx: &RuleContext<'_, '_, '_>,
    write: &RegWrite<'_>,
    item_file: usize,
    item: &CreateService<'_>,
) -> Order {
    if item_file != cx.file_index || !cx.file().is_script || write.block != item.block {
        Order::Unordered
    } else if write.range.start < item.range.start {
        Order::Before
    } else {
        Order::After
    }
}

/// Whether the write equals the item's field.
fn equals_item(compare: Compare, data: &Data<'_>, item: &CreateService<'_>) -> bool {
    match compare {
        Compare::Number(field) => {
            let expected = match item.field(field) {
                Some(f) => std::str::from_utf8(f.value)
                    .ok()
                    .and_then(|v| v.trim().parse::<u64>().ok()),
                None => Some(0),
            };
            expected.is_some() && data.as_number() == expected
        }
        Compare::DisplayName => {
            let expected = item.display_name().map_or(&b""[..], |f| f.value);
            data.as_text() == Some(expected)
        }
        Compare::Account => {
            let expected = item
                .field("Login User")
                .map_or(&b"LocalSystem"[..], |f| f.value);
            data.as_text()
                .is_some_and(|t| t.eq_ignore_ascii_case(expected))
        }
        Compare::Always => true,
    }
}

/// The field's name, as the item spells it or as it would be added.
fn field_name(cx: &RuleContext<'_, '_, '_>, compare: Compare, item: &CreateService<'_>) -> String {
    match compare {
        Compare::Number(field) => field.to_string(),
        Compare::DisplayName => item.display_name().map_or_else(
            || display_name_field(cx),
            |f| String::from_utf8_lossy(f.key).into_owned(),
        ),
        Compare::Account => "Login User".to_string(),
        Compare::Always => String::new(),
    }
}

/// What the item does with the field, for messages (``sets `Boot Type=2` ``, ``has no `Error
/// Type` (0)``).
fn setting(cx: &RuleContext<'_, '_, '_>, compare: Compare, item: &CreateService<'_>) -> String {
    match compare {
        Compare::Number(field) => item.field(field).map_or_else(
            || format!("has no `{field}` (0)"),
            |f| format!("sets `{field}={}`", cx.show(f.value)),
        ),
        Compare::DisplayName => item.display_name().map_or_else(
            || "has no `Display Name`".to_string(),
            |f| format!("sets `{}={}`", cx.show(f.key), cx.show(f.value)),
        ),
        Compare::Account => item.field("Login User").map_or_else(
            || "has no `Login User` (LocalSystem)".to_string(),
            |f| format!("sets `Login User={}`", cx.show(f.value)),
        ),
        Compare::Always => String::new(),
    }
}

/// `Display Name`, or `Display Name English` in scripts that suffix fields with a language
/// (SMS Installer 2.0 writes `Title English=` and `Display Name English=`).
fn display_name_field(cx: &RuleContext<'_, '_, '_>) -> String {
    if cx.facts.language_suffix(cx.file().source) {
        "Display Name English".to_string()
    } else {
        "Display Name".to_string()
    }
}

/// The captured value as Create Service field text, if it can be expressed there.
fn field_value(compare: Compare, data: &Data<'_>) -> Option<Vec<u8>> {
    match compare {
        Compare::Number(_) => data.as_number().map(|n| n.to_string().into_bytes()),
        Compare::DisplayName | Compare::Account => data
            .as_text()
            .filter(|t| !t.contains(&b'\n'))
            .map(<[u8]>::to_vec),
        Compare::Always => None,
    }
}

fn show_data(cx: &RuleContext<'_, '_, '_>, data: &Data<'_>) -> String {
    match data {
        Data::None => "(no data)".to_string(),
        Data::Dword(n) => n.to_string(),
        Data::Qword(n) => n.to_string(),
        Data::Sz(s) | Data::ExpandSz(s) => format!("\"{}\"", cx.show(s)),
        Data::MultiSz(_) => "a multi-string".to_string(),
        Data::Binary(_) | Data::Raw { .. } => "binary data".to_string(),
    }
}
