//! SVC900 unused-suppression.

use super::{Finding, FixPlan, RuleInfo};
use crate::diagnostic::{Diagnostic, Severity};
use crate::fix::{Applicability, Change, Edit};
use crate::model::suppress::Directive;

pub const INFO: RuleInfo = RuleInfo {
    code: "SVC900",
    name: "unused-suppression",
    severity: Severity::Warning,
    fix: Some(Applicability::Safe),
    summary: "A `svcscrub: ignore` directive (or one of its codes) that suppressed nothing.",
    doc: r#"## What it finds
A suppression directive — an `item: Remark` with `Text=svcscrub: ignore CODES` in a script, or a
`; svcscrub: ignore CODES` comment in a `.reg` file (and their `ignore-file` forms) — naming a
code that suppressed no finding in its scope, a code that names no rule, or no code at all
(`svcscrub: ignore` followed by prose). Codes of rules that are not selected are not reported.

## Why it matters
A stale directive hides nothing today but will silently hide a real finding tomorrow, after the
script is edited or recaptured. Suppressions should say exactly what they suppress.

## Example
Before:
```text
item: Remark
  Text=svcscrub: ignore SVC001
end
item: Edit Registry
  Total Keys=1
  Key=SOFTWARE\Vendor\Product
  New Value=1
  Value Name=Installed
  Root=2
end
```
After: the Remark item is removed. When only some codes of a directive are unused, just those
codes are removed from it.

## Fix
Remove the directive, or its unused codes. **Safe**: a directive changes nothing that gets
installed."#,
};

/// The finding for `directive`, whose codes at `unused` suppressed nothing.
pub fn finding(directive: &Directive, unused: &[usize]) -> Finding {
    let names: Vec<&str> = unused
        .iter()
        .filter_map(|&i| directive.codes.get(i).map(|(c, _)| c.as_str()))
        .collect();
    let all = unused.len() == directive.codes.len();
    let (title, edit) = if all {
        (
            "remove the unused suppression".to_string(),
            Edit::delete(directive.removal),
        )
    } else {
        let kept: Vec<&str> = directive
            .codes
            .iter()
            .enumerate()
            .filter(|(i, _)| !unused.contains(i))
            .map(|(_, (c, _))| c.as_str())
            .collect();
        (
            format!("remove {} from the suppression", names.join(", ")),
            Edit::replace(directive.list, kept.join(", ")),
        )
    };
    let range = unused
        .first()
        .and_then(|&i| directive.codes.get(i))
        .map_or(directive.list, |(_, r)| *r);
    Finding {
        diagnostic: Diagnostic {
            code: INFO.code,
            name: INFO.name,
            severity: INFO.severity,
            message: message(directive, &names),
            range,
            service: None,
            registry_key: String::new(),
            value_name: None,
            fix: None,
        },
        fix: Some(FixPlan::new(
            Applicability::Safe,
            title,
            vec![Change::Replace(edit)],
        )),
    }
}

/// What is wrong with the directive: it names no code, names codes of no rule, or its codes
/// suppressed nothing.
fn message(directive: &Directive, names: &[&str]) -> String {
    if directive.codes.is_empty() {
        return "suppression names no rule code (expected e.g. `svcscrub: ignore SVC010`); it suppresses nothing".to_string();
    }
    let unknown: Vec<&str> = names
        .iter()
        .copied()
        .filter(|name| {
            !super::RULES.iter().any(|rule| {
                rule.code.len() >= name.len() && rule.code[..name.len()].eq_ignore_ascii_case(name)
            })
        })
        .collect();
    if !unknown.is_empty() {
        return format!(
            "unknown rule code in suppression: {} names no rule; it suppresses nothing",
            unknown.join(", ")
        );
    }
    format!(
        "unused suppression: {} suppressed nothing here",
        names.join(", ")
    )
}
