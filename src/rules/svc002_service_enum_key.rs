//! SVC002 service-enum-key.

use super::{Finding, RuleContext, RuleInfo, concat};
use crate::diagnostic::Severity;
use crate::fix::Applicability;

pub const INFO: RuleInfo = RuleInfo {
    code: "SVC002",
    name: "service-enum-key",
    severity: Severity::Error,
    fix: Some(Applicability::Safe),
    summary: "A write under a service's `Enum` subkey, which Plug and Play maintains at run time.",
    doc: r#"## What it finds
Writes (keys and values) under `SYSTEM\<control set>\Services\<name>\Enum`.

## Why it breaks targets
Plug and Play maintains this subkey at run time (`0`, `Count`, `NextInstance`): it lists the
device instances the service drives on *this* machine. A captured copy points the service at
device instances that do not exist on the target, and the next start has to repair it — or
fails to.

## Example
Before (`.reg`):
```text
[HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Services\SYMEVENT\Enum]
"0"="Root\\LEGACY_SYMEVENT\\0000"
"Count"=dword:00000001
"NextInstance"=dword:00000001
```
After: the whole key block is removed.

## Fix
Remove the write. **Safe**: Windows rebuilds the key when the service starts."#,
};

pub fn check(cx: &RuleContext<'_, '_, '_>, out: &mut Vec<Finding>) {
    for (_, c) in cx.system() {
        if cx.facts.opens_for_deletions(c.write) {
            continue;
        }
        let Some(service) = c.location.service() else {
            continue;
        };
        if c.location.service_depth() == 0 || !c.location.rest_is(2, "Enum") {
            continue;
        }
        let key = cx.key_of(c.write);
        let message = concat(&[
            &cx.describe_at(c.write, &key),
            " is Plug and Play run-time state of service `",
            &cx.show(service),
            "`; Windows maintains it",
        ]);
        let fix = cx
            .remove_with_statement(
                c.write,
                Applicability::Safe,
                "remove the captured Enum state",
            )
            .targeting(crate::fix::proof::Target::ServiceEnum);
        out.push(cx.finding_at(&INFO, c.write, key, Some(service), message, Some(fix)));
    }
}
