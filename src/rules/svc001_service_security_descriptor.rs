//! SVC001 service-security-descriptor.

use super::{Finding, RuleContext, RuleInfo, concat};
use crate::diagnostic::Severity;
use crate::fix::Applicability;

pub const INFO: RuleInfo = RuleInfo {
    code: "SVC001",
    name: "service-security-descriptor",
    severity: Severity::Error,
    fix: Some(Applicability::Safe),
    summary: "A service's captured security descriptor (`Services\\<name>\\Security`, value `Security`).",
    doc: r#"## What it finds
A write of the value `Security` under `SYSTEM\<control set>\Services\<name>\Security`, or of
that `Security` key itself when nothing else is written to it. It fires whether or not the
package creates the service.

It never fires for `Services\EventLog\Security` (the Security event log's configuration) nor for
a `Security` key that holds other values; then only the `Security` value itself is reported.

## Why it breaks targets
The value is a self-relative security descriptor captured on the reference machine. It names
that machine's accounts and SIDs; replayed on a target, kernel-driver and service start-up fails
(Microsoft KB Q192868: the repackaged Norton AntiVirus 4.0 kernel drivers such as SYMEVENT fail
to start). When the value is absent the Service Control Manager uses a default descriptor, which
is what a real installation gets.

## Example
Before (SMS Installer script):
```text
item: Edit Registry
  Total Keys=1
  Key=SYSTEM\CurrentControlSet\Services\SYMEVENT\Security
  New Value=01001480900000009C000000140000003000000002001C00...
  Value Name=Security
  Root=2
  Data Type=4
end
```
After: the item is gone. In a `.reg` export the `"Security"=hex:…` record goes, and the
`[…\Security]` key block with it when it held nothing else.

## Fix
Remove the write. **Safe**: Windows recreates a correct default descriptor."#,
};

pub fn check(cx: &RuleContext<'_, '_, '_>, out: &mut Vec<Finding>) {
    for (_, c) in cx.system() {
        if cx.facts.opens_for_deletions(c.write) {
            continue;
        }
        let Some(service) = c.location.service() else {
            continue;
        };
        let only_security = c.location.service_depth() == 1 && c.location.rest_is(2, "Security");
        if service.eq_ignore_ascii_case(b"EventLog") || !only_security {
            continue;
        }
        let value_only = match &c.write.value {
            Some(v) if v.eq_ignore_ascii_case(b"Security") => true,
            None if !cx
                .facts
                .key_holds_other_than(c.rest(), &[b"security"], true) =>
            {
                false
            }
            _ => continue,
        };
        let key = cx.key_of(c.write);
        let what = cx.describe_at(c.write, &key);
        let name = cx.show(service);
        let message = if value_only {
            concat(&[
                "captured security descriptor of service `",
                &name,
                "` (",
                &what,
                "); it names the reference machine's accounts",
            ])
        } else {
            concat(&[
                &what,
                " holds only the captured security descriptor of service `",
                &name,
                "`",
            ])
        };
        let fix = cx
            .remove_with_statement(
                c.write,
                Applicability::Safe,
                "remove the captured security descriptor",
            )
            .targeting(crate::fix::proof::Target::SecurityDescriptor);
        out.push(cx.finding_at(&INFO, c.write, key, Some(service), message, Some(fix)));
    }
}
