//! SVC003 legacy-enum-key.

use super::{Finding, RuleContext, RuleInfo, concat};
use crate::diagnostic::Severity;
use crate::fix::Applicability;
use crate::model::SystemLocation;

pub const INFO: RuleInfo = RuleInfo {
    code: "SVC003",
    name: "legacy-enum-key",
    severity: Severity::Error,
    fix: Some(Applicability::Safe),
    summary: "A write under `Enum\\Root\\LEGACY_<NAME>`, the device node Plug and Play creates for a legacy driver or service.",
    doc: r#"## What it finds
Writes under `SYSTEM\<control set>\Enum\Root\LEGACY_<NAME>` and its subkeys (`0000`,
`0000\Control`, …).

## Why it breaks targets
Plug and Play creates these device nodes itself when a legacy driver or service loads. The keys
are ACL-protected: even administrators cannot normally write there, so the write fails during
installation, or it leaves a stale device node carrying the reference machine's ACLs.

## Example
Before (script, nested form):
```text
item: Edit Registry
  Total Keys=2
  item: Key
    Key=SYSTEM\CurrentControlSet\Enum\Root\LEGACY_SYMEVENT\0000
    New Value=SYMEVENT
    Value Name=Service
    Root=2
  end
  item: Key
    Key=SOFTWARE\Symantec\SymEvent
    New Value=1
    Value Name=Installed
    Root=2
    Data Type=3
  end
end
```
After: the first key is removed, `Total Keys` becomes 1 and the remaining key is written in the
flat form.

## Fix
Remove the write. **Safe**: Plug and Play recreates the node when the driver loads."#,
};

/// `Enum\Root\LEGACY_<NAME>…`: the `<NAME>`.
pub fn legacy_name<'k>(location: &SystemLocation<'k>) -> Option<&'k [u8]> {
    if !(location.rest_is(0, "Enum") && location.rest_is(1, "Root")) {
        return None;
    }
    let node = location.rest_segment(2)?;
    (node.len() > 7 && node[..7].eq_ignore_ascii_case(b"LEGACY_")).then(|| &node[7..])
}

pub fn check(cx: &RuleContext<'_, '_, '_>, out: &mut Vec<Finding>) {
    for (_, c) in cx.system() {
        if cx.facts.opens_for_deletions(c.write) {
            continue;
        }
        let Some(name) = legacy_name(&c.location) else {
            continue;
        };
        let key = cx.key_of(c.write);
        let message = concat(&[
            &cx.describe_at(c.write, &key),
            " is the legacy device node Plug and Play creates for `",
            &cx.show(name),
            "`; it is ACL-protected",
        ]);
        let fix = cx
            .remove_with_statement(
                c.write,
                Applicability::Safe,
                "remove the captured LEGACY_ device node",
            )
            .targeting(crate::fix::proof::Target::LegacyNode);
        out.push(cx.finding_at(&INFO, c.write, key, Some(name), message, Some(fix)));
    }
}
