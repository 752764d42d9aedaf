//! SVC020 control-set-copy.

use super::context::Classified;
use super::{Finding, FixPlan, RuleContext, RuleInfo, concat};
use crate::diagnostic::Severity;
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
**Safe**, one of:
- if the same write (same path below the control set, same value name and data) also exists
  under `CurrentControlSet` in the same file, the copy is removed;
- otherwise `ControlSetNNN` is rewritten to `CurrentControlSet` in place, keeping the original case
  of everything else.

Other rules then judge the rewritten path (fixes are applied until nothing changes). In a `.reg`
file one finding covers a whole key block, because the path is written once, on the key line."#,
};

pub fn check(cx: &RuleContext<'_, '_, '_>, out: &mut Vec<Finding>) {
    let file = cx.file();
    let ops = &file.model.ops;
    for (i, (_, c)) in cx.system().iter().enumerate() {
        let position = cx.part.start + i;
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
        let duplicated = covered.iter().all(|w| {
            cx.facts
                .current_writes(w.rest(), w.write.value.as_deref())
                .any(|i| !std::ptr::eq(&ops[i], w.write) && ops[i].data == w.write.data)
        });
        let set = format!("ControlSet{number:03}");
        let fix = if duplicated {
            Some(FixPlan {
                applicability: Applicability::Safe,
                title: "remove the copy; the same write exists under CurrentControlSet".into(),
                changes: covered
                    .iter()
                    .map(|w| Change::RemoveWrite(w.write.origin))
                    .collect(),
            })
        } else {
            rewrite(c, file.source.text()).map(|edit| FixPlan {
                applicability: Applicability::Safe,
                title: concat(&["rewrite `", &set, "` to `CurrentControlSet`"]),
                changes: vec![Change::Replace(edit)],
            })
        };
        let key = cx.key_of(c.write);
        let what = cx.describe_at(c.write, &key);
        let message = if duplicated {
            concat(&[
                &what,
                " is a `",
                &set,
                "` copy of a write under `CurrentControlSet`",
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
