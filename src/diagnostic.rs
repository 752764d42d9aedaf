//! What a rule reports: a [`Diagnostic`] with its location, registry facts and optional fix.

use crate::fix::Fix;
use crate::text::TextRange;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// One finding in one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// The rule's code, e.g. `SVC001`.
    pub code: &'static str,
    /// The rule's kebab-case name, e.g. `service-security-descriptor`.
    pub name: &'static str,
    pub severity: Severity,
    pub message: String,
    /// What to underline in the working text (usually the `Key=` line or the `.reg` value line).
    pub range: TextRange,
    /// The service the finding is about, if any.
    pub service: Option<String>,
    /// The registry key as written in the file (hive included), e.g. `HKLM\SYSTEM\...`.
    pub registry_key: String,
    /// The value name, if the write sets a value (`""` for the default value).
    pub value_name: Option<String>,
    /// Boxed: a diagnostic waits for its fix to be planned as part of a [`crate::rules::Finding`],
    /// one of thousands, and a fix inline would cost every one of them its size.
    pub fix: Option<Box<Fix>>,
}
