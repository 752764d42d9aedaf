//! The `rules` stage: one file per rule, one table of codes.

use crate::diagnostic::Severity;
use crate::fix::Applicability;

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
pub static RULES: &[RuleInfo] = &[];

/// The rule with this code (case-insensitive).
pub fn rule(code: &str) -> Option<&'static RuleInfo> {
    RULES.iter().find(|r| r.code.eq_ignore_ascii_case(code))
}
