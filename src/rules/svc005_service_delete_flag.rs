//! SVC005 service-delete-flag.

use super::{Finding, RuleContext, RuleInfo, concat, remove};
use crate::diagnostic::Severity;
use crate::fix::Applicability;
use crate::fix::proof::Target;

pub const INFO: RuleInfo = RuleInfo {
    code: "SVC005",
    name: "service-delete-flag",
    severity: Severity::Error,
    fix: Some(Applicability::Safe),
    summary: "A service's captured `DeleteFlag`, which makes Windows delete the service at the next boot.",
    doc: r#"## What it finds
A write of the value `DeleteFlag` of a service's key, `SYSTEM\<control set>\Services\<name>`,
whatever its data, whether or not the package creates the service.

## Why it breaks targets
The Service Control Manager writes `DeleteFlag` (`dword:1`) when a service is marked for
deletion (`DeleteService` while the service still runs or a handle to it is open) and, at the
next boot, deletes every service key that carries it. A capture taken while an older version of
the service was being removed replays the mark: the target deletes the service the package has
just installed, at its first restart.

## Example
Before (`.reg`):
```text
[HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Services\SYMEVENT]
"Type"=dword:00000001
"Start"=dword:00000001
"DeleteFlag"=dword:00000001
```
After: the `"DeleteFlag"` record is gone; in a script, the `DeleteFlag` key of the Edit
Registry item.

## Fix
Remove the write. **Safe**: the proof against the installed registry allows only the
`DeleteFlag` value to change, and a package never means to write it."#,
};

pub fn check(cx: &RuleContext<'_, '_, '_>, out: &mut Vec<Finding>) {
    for (_, c) in cx.system() {
        let Some(service) = c.location.service() else {
            continue;
        };
        if c.location.service_depth() != 0 {
            continue;
        }
        let is_flag = c
            .write
            .value
            .as_deref()
            .is_some_and(|v| v.eq_ignore_ascii_case(b"DeleteFlag"));
        if !is_flag || c.write.kind != crate::model::OpKind::SetValue {
            continue;
        }
        let key = cx.key_of(c.write);
        let name = cx.show(service);
        let message = concat(&[
            "value `DeleteFlag` of `",
            &key,
            "` marks service `",
            &name,
            "` for deletion: Windows deletes the service at the next boot",
        ]);
        let fix = remove(
            c.write,
            Applicability::Safe,
            "remove the captured deletion mark",
        )
        .targeting(Target::DeleteFlag);
        out.push(cx.finding_at(&INFO, c.write, key, Some(service), message, Some(fix)));
    }
}
