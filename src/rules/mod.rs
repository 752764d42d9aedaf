//! The `rules` stage: one file per rule, one table of codes.
//!
//! A rule reads the lowered model of one file plus package-wide facts and produces
//! [`Finding`]s: a [`Diagnostic`] and, where it has one, a [`FixPlan`] of model-level
//! [`Change`]s that the fix stage turns into byte edits.
//!
//! A rule sees the whole file: positions it is given are positions in the file's lists. How
//! a large file's writes are checked in parts on the pool is [`run_in_parts`]'s business (its
//! sizes are in [`crate::pieces`]); a rule only says, by the table it is in, whether it judges
//! each write on its own ([`PER_WRITE`]) or reads the file in one pass ([`WHOLE_FILE`]).

pub mod context;
mod svc001_service_security_descriptor;
mod svc002_service_enum_key;
mod svc003_legacy_enum_key;
mod svc004_device_instance_key;
mod svc005_service_delete_flag;
mod svc010_redundant_service_value;
mod svc020_control_set_copy;
mod svc030_service_without_create;
mod svc040_unescaped_percent;
mod svc041_wide_text_in_8_bit_file;
pub mod svc900_unused_suppression;
#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::ops::Range;

use crate::diagnostic::{Diagnostic, Severity};
use crate::fix::proof::{Effect, Target};
use crate::fix::{Applicability, Change};
use crate::model::{Hive, Operation, Selection, SystemLocation};
use context::{Classified, FileFacts, PackageContext, PackageFile, display_key};

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
    svc005_service_delete_flag::INFO,
    svc010_redundant_service_value::INFO,
    svc020_control_set_copy::INFO,
    svc030_service_without_create::INFO,
    svc040_unescaped_percent::INFO,
    svc041_wide_text_in_8_bit_file::INFO,
    svc900_unused_suppression::INFO,
];

/// The rule with this code (case-insensitive).
pub fn rule(code: &str) -> Option<&'static RuleInfo> {
    RULES.iter().find(|r| r.code.eq_ignore_ascii_case(code))
}

/// The operations the rules read, for lowering ([`crate::model::Selection`]): SVC001–SVC030
/// read operations under `HKLM\SYSTEM\<control set>` (and the package context the same ones),
/// plus those on `HKLM\SYSTEM` itself (a deletion there deletes them all), so that the state
/// of those keys is complete; SVC040 operations whose data refers to a variable that is not
/// built in.
#[derive(Clone, Copy, Debug, Default)]
pub struct Needed;

impl Selection for Needed {
    fn key(&self, hive: Hive, key: &[u8]) -> bool {
        SystemLocation::holds(hive, key) || (hive == Hive::LocalMachine && is_system_or_above(key))
    }

    fn data_line(&self, line: &[u8]) -> bool {
        svc040_unescaped_percent::may_report(line)
    }

    fn key_in_any_hive(&self, key: &[u8]) -> bool {
        SystemLocation::holds(Hive::LocalMachine, key) || is_system_or_above(key)
    }

    fn data_record(&self, record: &[u8]) -> bool {
        memchr::memchr(b'%', record).is_some()
    }
}

/// `SYSTEM` or the hive's root (as written: any case, blank segments ignored).
fn is_system_or_above(key: &[u8]) -> bool {
    // Asked of every key of a capture: most are longer than `\SYSTEM\`.
    if key.iter().filter(|&&b| b != b'\\').nth(6).is_some() {
        return false;
    }
    let mut segments = crate::model::path::segments(key).map(|(_, s)| s);
    match (segments.next(), segments.next()) {
        (None, _) => true,
        (Some(first), None) => first.eq_ignore_ascii_case(b"SYSTEM"),
        _ => false,
    }
}

/// A fix before it is planned into byte edits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FixPlan {
    pub applicability: Applicability,
    /// Most titles are literals: borrowed, they cost nothing per finding.
    pub title: Cow<'static, str>,
    pub changes: Vec<Change>,
    /// What the changes do to the model beyond removing and moving operations (a service
    /// install's value, a new install), for the proof.
    pub effects: Vec<Effect>,
    /// The captured system state the fix removes: its proof allows changes there only.
    pub target: Target,
}

impl FixPlan {
    pub fn new(
        applicability: Applicability,
        title: impl Into<Cow<'static, str>>,
        mut changes: Vec<Change>,
    ) -> Self {
        // Held until the fix is planned, one per finding: a list collected from a filter
        // has room for four changes where one is usual.
        changes.shrink_to_fit();
        FixPlan {
            applicability,
            title: title.into(),
            changes,
            effects: Vec::new(),
            target: Target::Nothing,
        }
    }

    /// The same plan, targeting `target`.
    pub fn targeting(mut self, target: Target) -> Self {
        self.target = target;
        self
    }

    /// The same plan, with `effect`.
    pub fn with_effect(mut self, effect: Effect) -> Self {
        self.effects.push(effect);
        self
    }
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
    /// The positions in `facts.system` this run hands to [`RuleContext::system`]: all of
    /// them, or a part when the writes of a large file are checked in parts on the pool
    /// ([`run_in_parts`]). Rules never see it: they see positions in the whole file.
    part: Range<usize>,
}

impl<'c, 'm, 'a> RuleContext<'c, 'm, 'a> {
    pub fn file(&self) -> &PackageFile<'a> {
        &self.files[self.file_index]
    }

    /// The writes under `HKLM\SYSTEM\<control set>` for a rule that judges them one by one
    /// ([`PER_WRITE`]), each with its position in `facts.system`, the whole file's list: a
    /// rule may look at any other write there. (For a large file the machinery calls the rule
    /// once per part of the writes; the positions are the same.)
    pub fn system(&self) -> impl Iterator<Item = (usize, &'c Classified<'m, 'a>)> + '_ {
        let start = self.part.start;
        let writes = self.facts.system.get(self.part.clone()).unwrap_or_default();
        writes
            .iter()
            .enumerate()
            .map(move |(i, (_, c))| (start + i, c))
    }

    /// A finding about `write`, with the registry facts filled in.
    pub fn finding(
        &self,
        info: &RuleInfo,
        write: &Operation<'_>,
        service: Option<&[u8]>,
        message: String,
        fix: Option<FixPlan>,
    ) -> Finding {
        self.finding_at(info, write, self.key_of(write), service, message, fix)
    }

    /// As [`RuleContext::finding`], with the key already shown by [`RuleContext::key_of`] (a
    /// rule that names the key in its message shows it once).
    pub fn finding_at(
        &self,
        info: &RuleInfo,
        write: &Operation<'_>,
        registry_key: String,
        service: Option<&[u8]>,
        message: String,
        fix: Option<FixPlan>,
    ) -> Finding {
        let source = self.file().source;
        // A finding is held until the report is written, thousands of them: a message built
        // with `format!` gives its spare room back.
        let mut message = crate::model::state::escape_message(message);
        message.shrink_to_fit();
        let mut registry_key = registry_key;
        registry_key.shrink_to_fit();
        Finding {
            diagnostic: Diagnostic {
                code: info.code,
                name: info.name,
                severity: info.severity,
                message,
                range: write.range,
                service: service.map(|s| source.display_text(s).into_owned()),
                registry_key,
                value_name: write
                    .value
                    .as_ref()
                    .map(|v| source.display_text(v).into_owned()),
                fix: None,
            },
            fix,
        }
    }

    /// The key `write` writes, as findings show it (`HKLM\…`).
    pub fn key_of(&self, write: &Operation<'_>) -> String {
        display_key(self.file().source, write.hive, &write.key)
    }

    /// `` `HKLM\…` `` or `` value `Name` of `HKLM\…` `` for messages.
    pub fn describe(&self, write: &Operation<'_>) -> String {
        self.describe_at(write, &self.key_of(write))
    }

    /// As [`RuleContext::describe`], with `key` from [`RuleContext::key_of`].
    pub fn describe_at(&self, write: &Operation<'_>, key: &str) -> String {
        match &write.value {
            None => concat(&["key `", key, "`"]),
            Some(v) if v.is_empty() => concat(&["default value of `", key, "`"]),
            Some(v) => concat(&[
                "value `",
                &self.file().source.display_text(v),
                "` of `",
                key,
                "`",
            ]),
        }
    }

    /// Text of a name for messages, in the file's encoding, control characters escaped.
    pub fn show(&self, bytes: &[u8]) -> String {
        crate::model::state::escape_controls(&self.file().source.display_text(bytes))
    }
}

/// `parts` joined, in a string allocated once: messages are built per finding, thousands of
/// them in a capture, and `format!` regrows its buffer for the longer ones.
pub fn concat(parts: &[&str]) -> String {
    let mut out = String::with_capacity(parts.iter().map(|p| p.len()).sum());
    for part in parts {
        out.push_str(part);
    }
    out
}

/// A fix that removes one write.
pub fn remove(
    write: &Operation<'_>,
    applicability: Applicability,
    title: impl Into<Cow<'static, str>>,
) -> FixPlan {
    FixPlan::new(
        applicability,
        title,
        vec![Change::RemoveWrite(write.origin)],
    )
}

impl RuleContext<'_, '_, '_> {
    /// A fix that removes `write` and, when it creates the key of a path statement (a `.reg`
    /// key line), every write of that statement: a key line only goes when its values go too,
    /// so its own fix names them all. For rules whose every finding in the statement has the
    /// same fix (SVC001–SVC005).
    pub fn remove_with_statement(
        &self,
        write: &Operation<'_>,
        applicability: Applicability,
        title: impl Into<Cow<'static, str>>,
    ) -> FixPlan {
        let mut plan = remove(write, applicability, title);
        if write.kind == crate::model::OpKind::CreateKey && write.statement.is_some() {
            plan.changes = self
                .statement_of(write)
                .iter()
                .filter(|w| w.is_write())
                .map(|w| Change::RemoveWrite(w.origin))
                .collect();
            plan.changes.shrink_to_fit();
        }
        plan
    }

    /// The operations of `op`'s path statement (just `op` when it has none), in order. A
    /// statement's operations are one contiguous run of the model (in order of position):
    /// found by binary search (a scan per finding is quadratic).
    pub fn statement_of<'m>(&'m self, op: &'m Operation<'_>) -> &'m [Operation<'m>] {
        let ops = &self.file().model.ops;
        let Some(id) = op.statement else {
            return std::slice::from_ref(op);
        };
        let at = ops.partition_point(|w| w.seq < op.seq);
        let start = ops[..at]
            .iter()
            .rposition(|w| w.statement != Some(id))
            .map_or(0, |p| p + 1);
        let end = ops[at..]
            .iter()
            .position(|w| w.statement != Some(id))
            .map_or(ops.len(), |p| at + p);
        &ops[start..end]
    }
}

/// A rule's check: pushes its findings, in the order it finds them.
type Check = fn(&RuleContext<'_, '_, '_>, &mut Vec<Finding>);

/// Rules that judge each write under `HKLM\SYSTEM` on its own, through
/// [`RuleContext::system`]: they may look at any other write but carry nothing from one write to
/// the next, so checking the writes in parts and joining the parts' findings in order gives
/// what one pass gives.
const PER_WRITE: &[Check] = &[
    svc001_service_security_descriptor::check,
    svc002_service_enum_key::check,
    svc003_legacy_enum_key::check,
    svc004_device_instance_key::check,
    svc005_service_delete_flag::check,
    svc010_redundant_service_value::check,
    svc020_control_set_copy::check,
    svc041_wide_text_in_8_bit_file::check,
];

/// Rules that read the whole file in one pass. After [`PER_WRITE`]: together they run in code
/// order.
const WHOLE_FILE: &[Check] = &[
    svc030_service_without_create::check,
    svc040_unescaped_percent::check,
];

/// Runs every rule over file `file_index` of a package. Findings come in file order.
///
/// No rule reads another's findings, so for a large file the rules, and the writes of the
/// per-write rules in parts, are checked on the current rayon pool; the findings are joined in
/// rule order and part order, which is the order one pass produces, before sorting.
pub fn check_file(
    package: &PackageContext<'_, '_>,
    files: &[PackageFile<'_>],
    file_index: usize,
) -> Vec<Finding> {
    let file = &files[file_index];
    let facts = if crate::pieces::split(file.model.ops.len(), crate::pieces::RULES_FROM).is_some() {
        // Messages (the line of a Create Service item, SVC030's fix title) and the report need
        // the file's line index, a pass over the whole text: with this many writes findings
        // are all but certain, so it is built on another thread while the facts are gathered.
        rayon::join(
            || FileFacts::new(&file.model),
            || file.source.prepare_line_index(),
        )
        .0
    } else {
        FileFacts::new(&file.model)
    };
    let parts = crate::pieces::split(facts.system.len(), crate::pieces::RULES_FROM).unwrap_or(1);
    let found = run_in_parts(package, files, file_index, &facts, parts);
    // The facts are done with: they go before the findings are joined and ordered.
    drop(facts);
    in_file_order(crate::pieces::concat(found))
}

/// The findings of every rule over (at most) `parts` parts of the writes, in rule order and
/// part order; in parallel when there are several parts.
fn run_in_parts(
    package: &PackageContext<'_, '_>,
    files: &[PackageFile<'_>],
    file_index: usize,
    facts: &FileFacts<'_, '_>,
    parts: usize,
) -> Vec<Vec<Finding>> {
    let all = 0..facts.system.len();
    let parts = crate::pieces::ranges(all.len(), parts);
    let jobs: Vec<(Check, Range<usize>)> = PER_WRITE
        .iter()
        .flat_map(|&check| parts.iter().map(move |part| (check, part.clone())))
        .chain(WHOLE_FILE.iter().map(|&check| (check, all.clone())))
        .collect();
    let run = |(check, part): &(Check, Range<usize>), out: &mut Vec<Finding>| {
        let cx = RuleContext {
            package,
            files,
            file_index,
            facts,
            part: part.clone(),
        };
        check(&cx, out);
    };
    if parts.len() > 1 {
        use rayon::prelude::*;
        jobs.par_iter()
            .map(|job| {
                let mut out = Vec::new();
                run(job, &mut out);
                // A part's list grew by doubling: its spare room (a third of it on average)
                // would stay allocated beside the other parts' until they are joined.
                out.shrink_to_fit();
                out
            })
            .collect()
    } else {
        let mut out = Vec::new();
        for job in &jobs {
            run(job, &mut out);
        }
        vec![out]
    }
}

/// `findings` stably sorted by position, then code. The keys are sorted rather than the
/// findings themselves (a few hundred bytes each), and the findings are then moved into that
/// order in place, so no second list of them is ever held.
fn in_file_order(mut findings: Vec<Finding>) -> Vec<Finding> {
    let mut order: Vec<(usize, &'static str, usize)> = findings
        .iter()
        .enumerate()
        .map(|(i, f)| (f.diagnostic.range.start, f.diagnostic.code, i))
        .collect();
    // The index makes every key distinct: an unstable sort orders as a stable one would.
    order.sort_unstable();
    let mut source: Vec<usize> = order.into_iter().map(|(_, _, i)| i).collect();
    permute_in_place(&mut findings, &mut source);
    findings
}

/// Moves `items[source[i]]` to position `i` for every `i` by following the permutation's
/// cycles with swaps; `source` (a permutation of `0..items.len()`) is used up.
fn permute_in_place<T>(items: &mut [T], source: &mut [usize]) {
    const DONE: usize = usize::MAX;
    for start in 0..source.len() {
        let mut at = start;
        while source[at] != DONE {
            let from = source[at];
            source[at] = DONE;
            if from == start {
                break;
            }
            items.swap(at, from);
            at = from;
        }
    }
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
