//! SVC020 control-set-copy.

use std::borrow::Cow;

use super::context::Classified;
use super::{Finding, FixPlan, RuleContext, RuleInfo, concat};
use crate::diagnostic::Severity;
use crate::fix::proof::Target;
use crate::fix::{Applicability, Change, Edit};
use crate::model::{ControlSet, OpKind};
use crate::text::TextRange;

pub const INFO: RuleInfo = RuleInfo {
    code: "SVC020",
    name: "control-set-copy",
    severity: Severity::Warning,
    fix: Some(Applicability::Safe),
    summary: "A write under `SYSTEM\\ControlSetNNN` instead of `CurrentControlSet`.",
    doc: r#"## What it finds
A write under `SYSTEM\ControlSetNNN\…` (`ControlSet001`, `ControlSet002`, …).

## Why it breaks targets
`CurrentControlSet` is a link to whichever `ControlSetNNN` the machine booted with. Captures and
offline exports record the numbered set of the reference machine; on a target whose current set
differs, the write lands in a set that is not used (or is the last-known-good copy), so the
service is configured in the wrong place.

## Example
Before (`.reg`):
```text
[HKEY_LOCAL_MACHINE\SYSTEM\ControlSet001\Services\kbstuff\Parameters]
"Mode"=dword:00000002
```
After:
```text
[HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Services\kbstuff\Parameters]
"Mode"=dword:00000002
```

## Fix
- If the package also writes the same value (same path below the control set, same value name)
  in the current control set, **whatever its data**, the copy is removed: it must never be
  rewritten to land over the current set's write. (A `ControlSet002` `"Start"=dword:4` rewritten
  after a current `"Start"=dword:0` would disable a boot driver.)
- Otherwise `ControlSetNNN` is rewritten to `CurrentControlSet` in place, keeping the original
  case of everything else. In a `.reg` key block that holds both kinds, the values the current
  set writes are removed and the key line is rewritten.

The fix is proven against the registry the package installs, on the reference configuration
where `CurrentControlSet` is `ControlSet001` (as on the capture machine): it is **safe** when the
installed state changes in nothing but copies outside the current set. So removing a
`ControlSet002` copy, or rewriting `ControlSet001` (the same key there), is safe; rewriting
`ControlSet002` puts a value into the current set that was not installed there, and removing a
`ControlSet001` copy written after the current set's own value changes the value installed:
both are **unsafe**, and the fix says what changes.

Other rules then judge the rewritten path (fixes are applied until nothing changes). In a `.reg`
file one finding covers a whole key block, because the path is written once, on the key line."#,
};

pub fn check(cx: &RuleContext<'_, '_, '_>, out: &mut Vec<Finding>) {
    let file = cx.file();
    let charset = cx.facts.charset;
    for (position, c) in cx.system() {
        let ControlSet::Numbered(number) = c.location.control_set else {
            continue;
        };
        if c.write.unresolved || cx.facts.opens_for_deletions(c.write) {
            continue;
        }
        let statement_writes: Vec<&Classified<'_, '_>>;
        let covered: &[&Classified<'_, '_>] = match c.write.statement {
            None => std::slice::from_ref(&c),
            // The path stands once, on the statement's key line: report that line for all.
            Some(_) if c.write.kind != OpKind::CreateKey => continue,
            Some(id) => {
                statement_writes = cx.facts.system[position..]
                    .iter()
                    .take_while(|(_, w)| w.write.statement == Some(id))
                    .map(|(_, w)| w)
                    .collect();
                &statement_writes
            }
        };
        // A copy of a value the current control set also writes must never be moved over it,
        // whatever its data: only removed. (A key line creates a key that may exist anyway:
        // it conflicts with nothing, and goes only with all its values.)
        let in_current = |w: &Classified<'_, '_>| {
            cx.package.current_set_writes(
                charset,
                w.rest_text(),
                w.write.value.as_deref(),
                w.location.control_set,
            )
        };
        let conflicting: Vec<&Classified<'_, '_>> = covered
            .iter()
            .copied()
            .filter(|w| w.write.value.is_some() && in_current(w))
            .collect();
        let values = covered.iter().filter(|w| w.write.value.is_some()).count();
        let remove_all = if values == 0 {
            in_current(c)
        } else {
            conflicting.len() == values
        };
        let set = format!("ControlSet{number:03}");
        let rewrite = rewrite(c, file.source.text());
        let fix = if remove_all {
            Some(FixPlan::new(
                Applicability::Safe,
                "remove the copy; the current control set writes the same value, which a copy must not land over",
                covered
                    .iter()
                    .map(|w| Change::RemoveWrite(w.write.origin))
                    .collect(),
            ))
        } else if let Some(edit) = rewrite {
            let mut changes: Vec<Change> = conflicting
                .iter()
                .map(|w| Change::RemoveWrite(w.write.origin))
                .collect();
            changes.push(Change::ToCurrentControlSet {
                op: c.write.origin,
                edit,
            });
            let title = match (conflicting.is_empty(), number) {
                // The usual sets: literal titles, not a copy per finding.
                (true, 1) => Cow::Borrowed("rewrite `ControlSet001` to `CurrentControlSet`"),
                (true, 2) => Cow::Borrowed("rewrite `ControlSet002` to `CurrentControlSet`"),
                (true, _) => Cow::Owned(concat(&["rewrite `", &set, "` to `CurrentControlSet`"])),
                (false, _) => Cow::Owned(concat(&[
                    "remove the values the current control set also writes and rewrite `",
                    &set,
                    "` to `CurrentControlSet`",
                ])),
            };
            Some(FixPlan::new(Applicability::Safe, title, changes))
        } else {
            None
        };
        let fix = fix.map(|f| f.targeting(Target::OtherControlSet));
        let key = cx.key_of(c.write);
        let what = cx.describe_at(c.write, &key);
        let message = if remove_all {
            concat(&[
                &what,
                " is a `",
                &set,
                "` copy of a write under the current control set",
            ])
        } else {
            concat(&[
                &what,
                " names `",
                &set,
                "`; on a machine whose current control set differs it lands in the wrong set",
            ])
        };
        let service = c.location.service();
        out.push(cx.finding_at(&INFO, c.write, key, service, message, fix));
    }
}

/// The edit replacing the control-set segment, if the key text stands verbatim in the file.
fn rewrite(c: &Classified<'_, '_>, text: &[u8]) -> Option<Edit> {
    let range = c.write.key_range?;
    let span = &c.location.control_set_span;
    if text.get(range.as_range())? != &*c.write.key {
        return None;
    }
    Some(Edit::replace(
        TextRange::new(range.start + span.start, range.start + span.end),
        "CurrentControlSet",
    ))
}
