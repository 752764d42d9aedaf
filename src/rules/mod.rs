//! The `rules` stage: one file per rule, one table of codes.
//!
//! A rule reads the lowered model of one file plus package-wide facts and produces
//! [`Finding`]s: a [`Diagnostic`] and, where it has one, a [`FixPlan`] of model-level
//! [`Change`]s that the fix stage turns into byte edits.

pub mod context;
mod svc001_service_security_descriptor;
mod svc002_service_enum_key;
mod svc003_legacy_enum_key;
mod svc004_device_instance_key;
mod svc010_redundant_service_value;
mod svc020_control_set_copy;
mod svc030_service_without_create;
mod svc040_unescaped_percent;
pub mod svc900_unused_suppression;
#[cfg(test)]
mod tests;

use crate::diagnostic::{Diagnostic, Severity};
use crate::fix::{Applicability, Change};
use crate::model::{Hive, RegWrite, Selection, SystemLocation};
use context::{FileFacts, PackageContext, PackageFile, display_key};

/// A rule's fixed facts and documentation. `doc` is Markdown and feeds `svcscrub explain`,
/// SARIF help text and the README rules table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RuleInfo {
    pub code: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    /// The best applicability the rule's fix can have (`None`: no fix).
    pub fix: Option<Applicability>,
    /// One sentence: what the rule finds.
    pub summary: &'static str,
    /// Full Markdown documentation: what, why (with the KB article), example, fix safety.
    pub doc: &'static str,
}

/// Every rule, in code order.
pub static RULES: &[RuleInfo] = &[
    svc001_service_security_descriptor::INFO,
    svc002_service_enum_key::INFO,
    svc003_legacy_enum_key::INFO,
    svc004_device_instance_key::INFO,
    svc010_redundant_service_value::INFO,
    svc020_control_set_copy::INFO,
    svc030_service_without_create::INFO,
    svc040_unescaped_percent::INFO,
    svc900_unused_suppression::INFO,
];

/// The rule with this code (case-insensitive).
pub fn rule(code: &str) -> Option<&'static RuleInfo> {
    RULES.iter().find(|r| r.code.eq_ignore_ascii_case(code))
}

/// The writes the rules read, for lowering ([`crate::model::Selection`]): SVC001–SVC030 read
/// writes under `HKLM\SYSTEM\<control set>` (and the package context the same ones), SVC040
/// script writes whose data refers to a variable that is not built in.
#[derive(Clone, Copy, Debug, Default)]
pub struct Needed;

impl Selection for Needed {
    fn key(&self, hive: Hive, key: &[u8]) -> bool {
        SystemLocation::holds(hive, key)
    }

    fn script_value_line(&self, line: &[u8]) -> bool {
        svc040_unescaped_percent::may_report(line)
    }

    fn key_in_any_hive(&self, key: &[u8]) -> bool {
        SystemLocation::holds(Hive::LocalMachine, key)
    }

    fn script_record(&self, record: &[u8]) -> bool {
        memchr::memchr(b'%', record).is_some()
    }
}

/// A fix before it is planned into byte edits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FixPlan {
    pub applicability: Applicability,
    pub title: String,
    pub changes: Vec<Change>,
}

/// A diagnostic (its `fix` not yet filled in) and the changes that would fix it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub diagnostic: Diagnostic,
    pub fix: Option<FixPlan>,
}

/// Everything a rule may look at while checking one file.
pub struct RuleContext<'c, 'm, 'a> {
    pub package: &'c PackageContext<'m, 'a>,
    pub files: &'m [PackageFile<'a>],
    pub file_index: usize,
    pub facts: &'c FileFacts<'m, 'a>,
}

impl<'a> RuleContext<'_, '_, 'a> {
    pub fn file(&self) -> &PackageFile<'a> {
        &self.files[self.file_index]
    }

    /// A finding about `write`, with the registry facts filled in.
    pub fn finding(
        &self,
        info: &RuleInfo,
        write: &RegWrite<'_>,
        service: Option<&[u8]>,
        message: String,
        fix: Option<FixPlan>,
    ) -> Finding {
        let source = self.file().source;
        Finding {
            diagnostic: Diagnostic {
                code: info.code,
                name: info.name,
                severity: info.severity,
                message,
                range: write.range,
                service: service.map(|s| source.display_text(s).into_owned()),
                registry_key: display_key(source, write.hive, &write.key),
                value_name: write
                    .value
                    .as_ref()
                    .map(|v| source.display_text(v).into_owned()),
                fix: None,
            },
            fix,
        }
    }

    /// `` `HKLM\…` `` or `` value `Name` of `HKLM\…` `` for messages.
    pub fn describe(&self, write: &RegWrite<'_>) -> String {
        let source = self.file().source;
        let key = display_key(source, write.hive, &write.key);
        match &write.value {
            None => format!("key `{key}`"),
            Some(v) if v.is_empty() => format!("default value of `{key}`"),
            Some(v) => format!("value `{}` of `{key}`", source.display_text(v)),
        }
    }

    /// Text of a name for messages, in the file's encoding.
    pub fn show(&self, bytes: &[u8]) -> String {
        self.file().source.display_text(bytes).into_owned()
    }
}

/// A fix that removes one write.
pub fn remove(write: &RegWrite<'_>, applicability: Applicability, title: &str) -> FixPlan {
    FixPlan {
        applicability,
        title: title.to_string(),
        changes: vec![Change::RemoveWrite(write.origin)],
    }
}

impl RuleContext<'_, '_, '_> {
    /// A fix that removes `write` and, when it is a `.reg` key line, every write of its key
    /// block: a key line only goes when its values go too, so its own fix names them all. For
    /// rules whose every finding in the block has the same fix (SVC001–SVC004).
    pub fn remove_with_block(
        &self,
        write: &RegWrite<'_>,
        applicability: Applicability,
        title: &str,
    ) -> FixPlan {
        let mut plan = remove(write, applicability, title);
        if !self.file().is_script && write.origin.index == crate::model::Origin::KEY_LINE {
            // A `.reg` model lists the writes block by block, so the block's writes are one
            // contiguous run: find it by binary search (a scan per finding is quadratic).
            let writes = &self.file().model.writes;
            let container = write.origin.container;
            let start = writes.partition_point(|w| w.origin.container < container);
            plan.changes = writes[start..]
                .iter()
                .take_while(|w| w.origin.container == container)
                .map(|w| Change::RemoveWrite(w.origin))
                .collect();
        }
        plan
    }
}

/// Runs every rule over file `file_index` of a package. Findings come in file order.
pub fn check_file(
    package: &PackageContext<'_, '_>,
    files: &[PackageFile<'_>],
    file_index: usize,
) -> Vec<Finding> {
    let facts = FileFacts::new(&files[file_index].model);
    let cx = RuleContext {
        package,
        files,
        file_index,
        facts: &facts,
    };
    let mut findings = Vec::new();
    svc001_service_security_descriptor::check(&cx, &mut findings);
    svc002_service_enum_key::check(&cx, &mut findings);
    svc003_legacy_enum_key::check(&cx, &mut findings);
    svc004_device_instance_key::check(&cx, &mut findings);
    svc010_redundant_service_value::check(&cx, &mut findings);
    svc020_control_set_copy::check(&cx, &mut findings);
    svc030_service_without_create::check(&cx, &mut findings);
    svc040_unescaped_percent::check(&cx, &mut findings);
    findings.sort_by_key(|f| (f.diagnostic.range.start, f.diagnostic.code));
    findings
}

/// The README's rules table, generated from [`RULES`] (a test keeps the README in sync).
pub fn markdown_table() -> String {
    let mut out =
        String::from("| code | name | severity | fix | what it finds |\n|---|---|---|---|---|\n");
    for r in RULES {
        out.push_str(&format!(
            "| {} | `{}` | {} | {} | {} |\n",
            r.code,
            r.name,
            r.severity.as_str(),
            r.fix.map_or("none", |a| a.as_str()),
            r.summary.replace('|', "\\|")
        ));
    }
    out
}
