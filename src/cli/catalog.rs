//! `svcscrub rules` and `svcscrub explain`: the rule catalog for people and tools.

use std::io::Write;

use super::Status;
use super::args::RulesFormat;
use crate::rules::{RULES, RuleInfo, rule};

fn fix_label(info: &RuleInfo) -> &'static str {
    info.fix.map_or("none", |a| a.as_str())
}

/// The catalog as a table or JSON.
pub fn list(out: &mut dyn Write, format: RulesFormat) -> std::io::Result<Status> {
    match format {
        RulesFormat::Full => {
            let name_width = RULES.iter().map(|r| r.name.len()).max().unwrap_or(4);
            writeln!(
                out,
                "{:<7} {:<name_width$}  {:<8} FIX",
                "CODE", "NAME", "SEVERITY"
            )?;
            for r in RULES {
                writeln!(
                    out,
                    "{:<7} {:<name_width$}  {:<8} {}",
                    r.code,
                    r.name,
                    r.severity.as_str(),
                    fix_label(r)
                )?;
            }
        }
        RulesFormat::Json => {
            #[derive(serde::Serialize)]
            struct Entry {
                code: &'static str,
                name: &'static str,
                severity: &'static str,
                fix: &'static str,
                summary: &'static str,
            }
            let entries: Vec<Entry> = RULES
                .iter()
                .map(|r| Entry {
                    code: r.code,
                    name: r.name,
                    severity: r.severity.as_str(),
                    fix: fix_label(r),
                    summary: r.summary,
                })
                .collect();
            serde_json::to_writer_pretty(&mut *out, &entries)?;
            writeln!(out)?;
        }
    }
    Ok(Status::Clean)
}

/// A rule's documentation, by code or name (`None`: every rule's); an unknown one is an error
/// (exit 2).
pub fn explain(
    out: &mut dyn Write,
    err: &mut dyn Write,
    code: Option<&str>,
) -> std::io::Result<Status> {
    let Some(code) = code else {
        for (i, info) in RULES.iter().enumerate() {
            if i > 0 {
                writeln!(out)?;
            }
            explain_one(out, info)?;
        }
        return Ok(Status::Clean);
    };
    let by_name = || {
        RULES
            .iter()
            .find(|r| r.name.eq_ignore_ascii_case(code.trim()))
    };
    let Some(info) = rule(code.trim()).or_else(by_name) else {
        let known: Vec<&str> = RULES.iter().map(|r| r.code).collect();
        writeln!(
            err,
            "error: unknown rule code or name `{code}`; known codes: {}",
            known.join(", ")
        )?;
        return Ok(Status::Error);
    };
    explain_one(out, info)?;
    Ok(Status::Clean)
}

fn explain_one(out: &mut dyn Write, info: &RuleInfo) -> std::io::Result<()> {
    writeln!(out, "# {} {}", info.code, info.name)?;
    writeln!(out)?;
    writeln!(
        out,
        "Severity: {}. Fix: {}.",
        info.severity.as_str(),
        fix_label(info)
    )?;
    writeln!(out)?;
    writeln!(out, "{}", info.summary)?;
    writeln!(out)?;
    writeln!(out, "{}", info.doc)
}
