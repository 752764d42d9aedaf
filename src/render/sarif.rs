//! `--format sarif`: a SARIF 2.1.0 log for GitHub code scanning and other SARIF viewers.
//!
//! One run; `tool.driver.rules` lists every rule passed in (id, name, short and full
//! description, Markdown help, default level). Each result has:
//! - `ruleId`, `ruleIndex` (when the rule is in the list), `level`, `message.text`;
//! - one location: `artifactLocation { uri, uriBaseId: "%SRCROOT%" }` with the path relative to
//!   the project root (forward slashes, normalised, percent-encoded; see [`crate::paths`]), and a `region` with 1-based
//!   `startLine`/`startColumn`/`endLine`/`endColumn` (end exclusive). `run.columnKind` is
//!   `unicodeCodePoints`: columns count characters (for 8-bit files a byte is a character);
//! - `partialFingerprints["svcscrub/v1"]`: 16 hex digits of a 64-bit FNV-1a hash over the rule
//!   code, the uri, the registry key and value name (case-folded, empty key segments ignored)
//!   and the occurrence index among the file's findings with the same code, key and value. No
//!   line numbers go in, so a finding keeps its fingerprint when lines move;
//! - `properties`: `service` (when known), `registryKey` (when the finding is about one),
//!   `valueName` (when the write sets a value);
//! - `fixes` (when the finding has a fix with edits; a fix without edits, such as a
//!   display-only suggestion, has none, as SARIF requires at least one replacement):
//!   `description.text` is the fix title and
//!   `properties.applicability` its applicability; one `artifactChange` whose `replacements`
//!   each have a `deletedRegion` given **both** as text (`startLine`/`startColumn`/`endLine`/
//!   `endColumn`, what GitHub and viewers read; an insertion is an empty region) and as bytes
//!   (`byteOffset`/`byteLength` in the file, BOM and UTF-16 code units included, the same
//!   offsets as the JSON output), and `insertedContent.text` unless the edit only deletes.
//!
//! A path outside the root gets an absolute `file://` uri and no `uriBaseId`. When `base` (the
//! root) is absolute, `run.originalUriBaseIds["%SRCROOT%"]` records it.
//!
//! `run.invocations` has one invocation: `executionSuccessful` (false when an input could not
//! be processed), `exitCode`, `workingDirectory` (a `file://` uri) and
//! `toolExecutionNotifications`, one per [`Notice`]: `level` `error` or `warning`, the message,
//! and a location (the input's uri, with a region at its line:column when it has one).

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};
use std::path::Path;

use serde::Serialize;

use super::json::{FileDiagnostics, Positions};
use super::{Invocation, Notice};
use crate::diagnostic::{Diagnostic, Severity};
use crate::fix::Applicability;
use crate::model::path::segments;
use crate::paths::slashed;
use crate::rules::RuleInfo;
use crate::source::to_display;

/// The JSON schema GitHub and most validators use for SARIF 2.1.0.
pub const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";
/// The `uriBaseId` of every relative artifact uri.
pub const SRCROOT: &str = "%SRCROOT%";
/// The key of the fingerprint in `partialFingerprints`.
pub const FINGERPRINT_KEY: &str = "svcscrub/v1";

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: [Run<'a>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    tool: Tool<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    original_uri_base_ids: Option<BTreeMap<&'static str, ArtifactLocation>>,
    column_kind: &'static str,
    invocations: [SarifInvocation<'a>; 1],
    results: Vec<SarifResult<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifInvocation<'a> {
    execution_successful: bool,
    exit_code: u8,
    working_directory: ArtifactLocation,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_execution_notifications: Vec<Notification<'a>>,
}

#[derive(Serialize)]
struct Notification<'a> {
    level: Severity,
    message: Message<'a>,
    locations: [NotificationLocation; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NotificationLocation {
    physical_location: NotificationPhysicalLocation,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NotificationPhysicalLocation {
    artifact_location: ArtifactLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<StartRegion>,
}

/// Where a notice points: a line and column, no extent.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StartRegion {
    start_line: usize,
    start_column: usize,
}

#[derive(Serialize)]
struct Tool<'a> {
    driver: Driver<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver<'a> {
    name: &'static str,
    version: &'static str,
    information_uri: &'static str,
    rules: Vec<Rule<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Rule<'a> {
    id: &'a str,
    name: &'a str,
    short_description: Message<'a>,
    full_description: Message<'a>,
    help: Help<'a>,
    default_configuration: Configuration,
    properties: RuleProperties,
}

#[derive(Serialize)]
struct Message<'a> {
    text: Cow<'a, str>,
}

impl<'a> From<&'a str> for Message<'a> {
    fn from(text: &'a str) -> Self {
        Self {
            text: Cow::Borrowed(text),
        }
    }
}

#[derive(Serialize)]
struct Help<'a> {
    text: &'a str,
    markdown: &'a str,
}

#[derive(Serialize)]
struct Configuration {
    level: Severity,
}

#[derive(Serialize)]
struct RuleProperties {
    tags: [&'static str; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult<'a> {
    rule_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    rule_index: Option<usize>,
    level: Severity,
    message: Message<'a>,
    locations: [Location; 1],
    partial_fingerprints: BTreeMap<&'static str, String>,
    properties: ResultProperties<'a>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    fixes: Vec<SarifFix<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ResultProperties<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    service: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    registry_key: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    value_name: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    physical_location: PhysicalLocation,
    /// A finding in a database: its table, row and column (a database has no lines).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    logical_locations: Vec<LogicalLocation>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LogicalLocation {
    /// The column.
    name: String,
    /// `Table/Row/Column`.
    fully_qualified_name: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    region: Region,
}

#[derive(Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactLocation {
    uri: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    uri_base_id: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: usize,
    start_column: usize,
    end_line: usize,
    end_column: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    byte_offset: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    byte_length: Option<usize>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifFix<'a> {
    description: Message<'a>,
    artifact_changes: [ArtifactChange<'a>; 1],
    properties: FixProperties,
}

#[derive(Serialize)]
struct FixProperties {
    applicability: Applicability,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactChange<'a> {
    artifact_location: ArtifactLocation,
    replacements: Vec<Replacement<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Replacement<'a> {
    deleted_region: Region,
    #[serde(skip_serializing_if = "Option::is_none")]
    inserted_content: Option<Content<'a>>,
}

#[derive(Serialize)]
struct Content<'a> {
    text: Cow<'a, str>,
}

/// Writes a SARIF log of `files`' findings and of the run (`invocation`), describing every rule
/// in `rules`. Artifact uris are the files' machine-facing paths, relative to `base`, the
/// project root (recorded as `%SRCROOT%` when absolute). The log is pretty-printed with
/// two-space indentation and ends with a newline.
pub fn render(
    out: &mut dyn Write,
    rules: &[RuleInfo],
    files: &[FileDiagnostics],
    base: &Path,
    invocation: &Invocation<'_>,
) -> io::Result<()> {
    let rule_index: HashMap<&str, usize> =
        rules.iter().enumerate().map(|(i, r)| (r.code, i)).collect();
    let mut results = Vec::new();
    for file in files {
        let location = artifact_location(file.path);
        let mut positions = Positions::new(file.source);
        let mut occurrences: HashMap<(&str, String, Option<String>), usize> = HashMap::new();
        for diag in file.diagnostics {
            let key = normalized_key(diag.registry_key.as_bytes());
            let value = diag.value_name.as_deref().map(str::to_lowercase);
            let seen = occurrences
                .entry((diag.code, key.clone(), value.clone()))
                .or_default();
            let fingerprint = fingerprint(diag.code, &location.uri, &key, value.as_deref(), *seen);
            *seen += 1;
            results.push(result(
                diag,
                rule_index.get(diag.code).copied(),
                &location,
                &mut positions,
                fingerprint,
            ));
        }
    }
    let log = Log {
        schema: SCHEMA_URI,
        version: "2.1.0",
        runs: [Run {
            tool: Tool {
                driver: Driver {
                    name: "svcscrub",
                    version: env!("CARGO_PKG_VERSION"),
                    information_uri: env!("CARGO_PKG_REPOSITORY"),
                    rules: rules.iter().map(rule).collect(),
                },
            },
            original_uri_base_ids: base.is_absolute().then(|| {
                let mut uri = file_uri(&slashed(base));
                if !uri.ends_with('/') {
                    uri.push('/');
                }
                BTreeMap::from([(
                    SRCROOT,
                    ArtifactLocation {
                        uri,
                        uri_base_id: None,
                    },
                )])
            }),
            column_kind: "unicodeCodePoints",
            invocations: [sarif_invocation(invocation)],
            results,
        }],
    };
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"  ");
    let mut ser = serde_json::Serializer::with_formatter(&mut *out, formatter);
    log.serialize(&mut ser).map_err(io::Error::from)?;
    out.write_all(b"\n")
}

fn rule(info: &RuleInfo) -> Rule<'_> {
    let doc = info.doc.trim();
    let doc = if doc.is_empty() { info.summary } else { doc };
    Rule {
        id: info.code,
        name: info.name,
        short_description: info.summary.into(),
        full_description: Message {
            text: first_paragraph(doc).map_or(Cow::Borrowed(info.summary), Cow::Owned),
        },
        help: Help {
            text: doc,
            markdown: doc,
        },
        default_configuration: Configuration {
            level: info.severity,
        },
        properties: RuleProperties {
            tags: ["windows-registry"],
        },
    }
}

fn result<'a>(
    diag: &'a Diagnostic,
    rule_index: Option<usize>,
    location: &ArtifactLocation,
    positions: &mut Positions<'a>,
    fingerprint: String,
) -> SarifResult<'a> {
    let region = |positions: &mut Positions<'_>, start: usize, end: usize, bytes: bool| {
        let (from, to) = positions.range(start, end);
        let (byte_offset, byte_length) = if bytes {
            let raw_start = positions.raw(start);
            let raw_end = positions.raw(end);
            (Some(raw_start), Some(raw_end.saturating_sub(raw_start)))
        } else {
            (None, None)
        };
        Region {
            start_line: from.line,
            start_column: from.column,
            end_line: to.line,
            end_column: to.column,
            byte_offset,
            byte_length,
        }
    };
    let encoding = positions.encoding();
    let row = positions.source().row_of(diag.range);
    let fixes = diag
        .fix
        .iter()
        // A database's fix edits its view, not the file's bytes: no replacement to give.
        .filter(|fix| !fix.edits.is_empty() && row.is_none())
        .map(|fix| SarifFix {
            description: fix.title[..].into(),
            artifact_changes: [ArtifactChange {
                artifact_location: location.clone(),
                replacements: fix
                    .edits
                    .iter()
                    .map(|edit| Replacement {
                        deleted_region: region(positions, edit.range.start, edit.range.end, true),
                        inserted_content: (!edit.content.is_empty()).then(|| Content {
                            text: to_display(encoding, &edit.content),
                        }),
                    })
                    .collect(),
            }],
            properties: FixProperties {
                applicability: fix.applicability,
            },
        })
        .collect();
    SarifResult {
        rule_id: diag.code,
        rule_index,
        level: diag.severity,
        message: diag.message.as_str().into(),
        locations: [Location {
            physical_location: PhysicalLocation {
                artifact_location: location.clone(),
                region: match &row {
                    // GitHub shows a result only with a start line: the database's first.
                    Some(_) => Region {
                        start_line: 1,
                        start_column: 1,
                        end_line: 1,
                        end_column: 1,
                        byte_offset: None,
                        byte_length: None,
                    },
                    None => region(positions, diag.range.start, diag.range.end, false),
                },
            },
            logical_locations: row
                .iter()
                .map(|row| LogicalLocation {
                    name: row.column.clone(),
                    fully_qualified_name: row.to_string(),
                })
                .collect(),
        }],
        partial_fingerprints: BTreeMap::from([(FINGERPRINT_KEY, fingerprint)]),
        properties: ResultProperties {
            service: diag.service.as_deref(),
            registry_key: (!diag.registry_key.is_empty()).then_some(diag.registry_key.as_str()),
            value_name: diag.value_name.as_deref(),
        },
        fixes,
    }
}

fn sarif_invocation<'a>(invocation: &Invocation<'a>) -> SarifInvocation<'a> {
    let mut directory = file_uri(&slashed(invocation.working_directory));
    if !directory.ends_with('/') {
        directory.push('/');
    }
    SarifInvocation {
        execution_successful: invocation.successful(),
        exit_code: invocation.exit_code,
        working_directory: ArtifactLocation {
            uri: directory,
            uri_base_id: None,
        },
        tool_execution_notifications: invocation.notices.iter().map(notification).collect(),
    }
}

fn notification<'a>(notice: &Notice<'a>) -> Notification<'a> {
    let problem = notice.problem;
    Notification {
        level: notice.severity,
        message: problem.message.as_str().into(),
        locations: [NotificationLocation {
            physical_location: NotificationPhysicalLocation {
                artifact_location: artifact_location(&notice.path),
                region: problem.position.map(|at| StartRegion {
                    start_line: at.line,
                    start_column: at.column,
                }),
            },
        }],
    }
}

/// The first paragraph of Markdown documentation that is not a heading, its lines joined by
/// spaces: a plain-text description for viewers that do not render Markdown.
fn first_paragraph(doc: &str) -> Option<String> {
    let lines = doc
        .lines()
        .map(str::trim)
        .skip_while(|line| line.is_empty() || line.starts_with('#'));
    let mut paragraph = String::new();
    for line in lines {
        if line.is_empty() || line.starts_with('#') || line.starts_with("```") {
            break;
        }
        if !paragraph.is_empty() {
            paragraph.push(' ');
        }
        paragraph.push_str(line);
    }
    (!paragraph.is_empty()).then_some(paragraph)
}

/// A registry key for fingerprinting: non-empty segments, ASCII lower-case, joined by `\`.
fn normalized_key(key: &[u8]) -> String {
    let mut out = Vec::with_capacity(key.len());
    for (i, (_, seg)) in segments(key).enumerate() {
        if i > 0 {
            out.push(b'\\');
        }
        out.extend(seg.iter().map(u8::to_ascii_lowercase));
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// 64-bit FNV-1a over the fields, each followed by a 0 byte (a value name is prefixed with
/// `=` so that "no value" and the default value `""` differ), as 16 hex digits.
fn fingerprint(code: &str, uri: &str, key: &str, value: Option<&str>, occurrence: usize) -> String {
    let mut hash = Fnv1a::new();
    let value = value.map(|v| format!("={v}"));
    let occurrence = occurrence.to_string();
    for field in [code, uri, key, value.as_deref().unwrap_or(""), &occurrence] {
        hash.write(field.as_bytes());
        hash.write(&[0]);
    }
    format!("{:016x}", hash.0)
}

/// The 64-bit Fowler–Noll–Vo hash, variant 1a: tiny, stable across platforms and releases.
struct Fnv1a(u64);

impl Fnv1a {
    const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;

    fn new() -> Self {
        Self(Self::OFFSET_BASIS)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(Self::PRIME);
        }
    }
}

/// The artifact location of a machine-facing path ([`crate::paths::ProjectRoot::machine`]):
/// a relative path is relative to the project root, `%SRCROOT%`; an absolute one (outside the
/// root) gets a `file://` uri.
fn artifact_location(path: &str) -> ArtifactLocation {
    let drive = |b: &[u8]| b.len() > 2 && b[0].is_ascii_alphabetic() && b[1..3] == *b":/";
    let absolute = path.starts_with('/') || drive(path.as_bytes());
    if absolute {
        ArtifactLocation {
            uri: file_uri(path),
            uri_base_id: None,
        }
    } else {
        ArtifactLocation {
            uri: percent_encode(path, false),
            uri_base_id: Some(SRCROOT),
        }
    }
}

/// `file:///…` for an absolute path with forward slashes (`/x/y` or `C:/x/y`; a UNC path
/// `//server/share/x` becomes `file://server/share/x`).
fn file_uri(path: &str) -> String {
    let encoded = percent_encode(path, true);
    if encoded.starts_with("//") {
        format!("file:{encoded}")
    } else if encoded.starts_with('/') {
        format!("file://{encoded}")
    } else {
        format!("file:///{encoded}")
    }
}

/// Percent-encodes everything but unreserved characters, `/` and sub-delimiters (and `:`,
/// only when `colon` is set: in a relative reference a `:` could be read as a scheme).
fn percent_encode(path: &str, colon: bool) -> String {
    let mut out = String::with_capacity(path.len());
    for &b in path.as_bytes() {
        let keep =
            b.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=@".contains(&b) || (colon && b == b':');
        if keep {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_uris() {
        let uri = |p: &str| artifact_location(p);
        assert_eq!(uri("pkg/setup.ipf").uri, "pkg/setup.ipf");
        assert_eq!(uri("pkg/Setup 1.ipf").uri, "pkg/Setup%201.ipf");
        assert_eq!(uri("100%#é.reg").uri, "100%25%23%C3%A9.reg");
        assert_eq!(uri("a:b.reg").uri, "a%3Ab.reg");
        assert_eq!(uri("pkg/a.reg").uri_base_id, Some(SRCROOT));
    }

    #[test]
    fn uris_outside_the_root_are_absolute() {
        let outside = artifact_location("/repo/other/a.reg");
        assert_eq!(outside.uri, "file:///repo/other/a.reg");
        assert_eq!(outside.uri_base_id, None);
        assert_eq!(
            artifact_location("/tmp/x y.reg").uri,
            "file:///tmp/x%20y.reg"
        );
        assert_eq!(
            artifact_location("C:/pkg/a.reg").uri,
            "file:///C:/pkg/a.reg"
        );
        assert_eq!(
            artifact_location("//srv/share/a.reg").uri,
            "file://srv/share/a.reg"
        );
    }

    #[test]
    fn full_descriptions_are_the_first_paragraph() {
        let doc = "## What it does\n\nFinds captured\nsecurity descriptors.\n\n## Why\nKB.";
        assert_eq!(
            first_paragraph(doc).as_deref(),
            Some("Finds captured security descriptors.")
        );
        assert_eq!(first_paragraph("# Only a heading\n"), None);
        assert_eq!(first_paragraph("").as_deref(), None);
    }

    #[test]
    fn fnv1a_matches_the_reference_vectors() {
        let hash = |s: &str| {
            let mut h = Fnv1a::new();
            h.write(s.as_bytes());
            h.0
        };
        assert_eq!(hash(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(hash("a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(hash("foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn fingerprints_are_stable_and_distinct() {
        let f = fingerprint("SVC001", "a.reg", "system\\x", Some("security"), 0);
        assert_eq!(f.len(), 16);
        assert_eq!(
            f,
            fingerprint("SVC001", "a.reg", "system\\x", Some("security"), 0)
        );
        assert_ne!(
            f,
            fingerprint("SVC001", "a.reg", "system\\x", Some("security"), 1)
        );
        assert_ne!(f, fingerprint("SVC001", "a.reg", "system\\x", None, 0));
        assert_ne!(
            fingerprint("SVC001", "a.reg", "k", Some(""), 0),
            fingerprint("SVC001", "a.reg", "k", None, 0)
        );
        assert_eq!(
            normalized_key(b"\\SYSTEM\\\\CurrentControlSet\\"),
            "system\\currentcontrolset"
        );
    }
}
