//! SVC004 device-instance-key.

use super::svc003_legacy_enum_key::legacy_name;
use super::{Finding, RuleContext, RuleInfo};
use crate::diagnostic::Severity;
use crate::fix::Applicability;
use crate::model::SystemLocation;

pub const INFO: RuleInfo = RuleInfo {
    code: "SVC004",
    name: "device-instance-key",
    severity: Severity::Error,
    fix: Some(Applicability::Unsafe),
    summary: "A write to a Plug and Play device key (`Enum\\…` other than `LEGACY_*`, or `Control\\Class\\{GUID}\\NNNN`).",
    doc: r#"## What it finds
Writes under `SYSTEM\<control set>\Enum\…` other than `Enum\Root\LEGACY_*` (for example
`Enum\Root\*SMS_MOUSE\0000`), and under `SYSTEM\<control set>\Control\Class\{GUID}\NNNN`.

## Why it breaks targets
Device instance keys and their class keys belong to Plug and Play. Captured copies carry the
reference machine's ACLs, and a later upgrade that must remove them fails (Microsoft KB2000387:
SYSTEM lacks Full Control on the SMS 2003 remote-control `kbstuff` and `*SMS_MOUSE` keys, so the
ConfigMgr 2007 client upgrade fails). Install the device from its INF instead (for example with
`Execute Program` running `pnputil` or the vendor's installer), which creates these keys with
correct ACLs.

## Example
Before (REGEDIT4):
```text
[HKEY_LOCAL_MACHINE\SYSTEM\ControlSet001\Enum\Root\*SMS_MOUSE\0000]
"Class"="Mouse"
"Service"="kbstuff"
```
After (with `--unsafe-fixes`): the key block is removed.

## Fix
Remove the write. **Unsafe**: removing a device key changes what gets installed; the package must
install the device from its INF instead."#,
};

fn is_class_instance(location: &SystemLocation<'_>) -> bool {
    location.rest_is(0, "Control")
        && location.rest_is(1, "Class")
        && location
            .rest_segment(2)
            .is_some_and(|g| g.starts_with(b"{") && g.ends_with(b"}"))
        && location
            .rest_segment(3)
            .is_some_and(|n| !n.is_empty() && n.iter().all(u8::is_ascii_digit))
}

pub fn check(cx: &RuleContext<'_, '_, '_>, out: &mut Vec<Finding>) {
    for (_, c) in cx.system() {
        if cx.facts.opens_for_deletions(c.write) {
            continue;
        }
        let loc = &c.location;
        let device = (loc.rest_is(0, "Enum") && loc.rest_len() >= 2 && legacy_name(loc).is_none())
            || is_class_instance(loc);
        if !device {
            continue;
        }
        let message = format!(
            "{} is a Plug and Play device key with the reference machine's ACLs; install the device from its INF instead",
            cx.describe(c.write)
        );
        let fix = cx
            .remove_with_statement(
                c.write,
                Applicability::Unsafe,
                "remove the captured device key",
            )
            .targeting(crate::fix::proof::Target::DeviceNode);
        out.push(cx.finding(&INFO, c.write, None, message, Some(fix)));
    }
}
