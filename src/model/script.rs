//! What a script says beyond its registry writes and Create Service items: the variables it
//! defines, the `New Value` lines that may refer to variables, its `Include Script` items and
//! the language suffix its fields carry. SVC030 and SVC040 read these; the command line follows
//! the includes.
//!
//! Variables are collected generously, because a variable taken for undefined is reported and
//! its `%` signs doubled: any property of an active item named `Variable`, `Variable<N>`,
//! `Variable Name<N>` or `… Variable` names a variable the script defines. Properties of this
//! shape that only *read* a variable (`If/While Statement`, `ElseIf Statement`,
//! `Compiler Variable If`) are the exception. The shapes come from the corpus scripts: `Set
//! Variable`, `Get Registry Key Value`, `Read INI Value`, `Get System Information`, `Get
//! Environment Variable`, `Get Temporary Filename`, `Win32 System Directory` and the dialog
//! controls write `Variable=`; `Parse String` writes `Variable1=`/`Variable2=`; `Item: Global`
//! and `Custom Script Item` list `Variable Name<N>=`; `Call DLL Function` has `Return Variable=`,
//! `Check HTTP Connection` `Win32 Status Variable=` and friends, `Wizard Block` `Direction
//! Variable=`.

use std::borrow::Cow;

use super::{DataLine, Holds, Include, Operation, ServiceInstall, Variable};
use crate::syntax::wise::{Document, ItemKind};
use crate::text::TextRange;

/// The `Win32 System Directory` action: its variable holds the Win32 system directory.
pub const SYSTEM_DIRECTORY_ACTION: &[u8] = b"Win32 System Directory";

/// The installer's own run-time variables, upper-case (sources: `svcscrub explain SVC040`).
pub const BUILT_IN_VARIABLES: &[&str] = &[
    "APPTITLE",
    "BACKUP",
    "BRANDING",
    "CDESKTOPDIR",
    "CMDLINE",
    "COMPONENTS",
    "CSTARTMENUDIR",
    "CSTARTUPDIR",
    "DESKTOPDIR",
    "GROUP",
    "INST",
    "INST_LOG_PATH",
    "INSTALL_RESULT",
    "INSTALL_SDTVAL",
    "LANG",
    "MAINDIR",
    "PASSWORD",
    "PROCEXITCODE",
    "PROGRAM_FILES",
    "RESTART",
    "STARTMENUDIR",
    "STARTUPDIR",
    "SYS",
    "SYS32",
    "TEMP",
    "UNINSTALL_LANG",
    "UNINSTALL_PATH",
    "VER_CHECK_TYPE",
    "WIN",
    "WISE_ERROR_RTN",
];

/// A compiler variable or one of the installer's run-time variables: known in every package.
pub fn is_built_in(name: &[u8]) -> bool {
    if name.first() == Some(&b'_') {
        return true;
    }
    // Upper-cased once, then compared as plain bytes (called for every `%` reference of a
    // capture's values).
    let mut upper = [0u8; 16];
    let Some(upper) = upper.get_mut(..name.len()) else {
        return false;
    };
    upper.copy_from_slice(name);
    upper.make_ascii_uppercase();
    BUILT_IN_VARIABLES.iter().any(|b| b.as_bytes() == upper)
}

/// The position of item `index` in a script's order of operations (see
/// [`super::Operation::seq`]): items in file order, the keys of one item after it.
pub fn seq(index: u32, key: u32) -> u64 {
    (u64::from(index) << 32) | u64::from(key)
}

/// The language suffix of the `Title <Language>=` field of `item: Global` (`English` in SMS
/// Installer 2.0 scripts), if the script uses one.
pub fn language<'a>(doc: &Document, text: &'a [u8]) -> Option<&'a [u8]> {
    // `item: Global` comes first.
    let global = doc.top_level().next().filter(|&i| {
        doc.item(i)
            .is_some_and(|g| text.get(g.name().as_range()) == Some(b"Global"))
    })?;
    doc.props_of(global)
        .find_map(|p| language_of(p.key_bytes(text)))
}

/// The variables `doc` defines, in file order (see the module documentation).
pub fn variables<'a>(doc: &Document, text: &'a [u8]) -> Vec<Variable<'a>> {
    let mut out = Vec::new();
    for (index, item) in doc.items().iter().enumerate() {
        if !item.active() {
            continue;
        }
        match item.kind() {
            // Registry keys and comments define nothing.
            ItemKind::EditRegistry
            | ItemKind::Key
            | ItemKind::Remark
            | ItemKind::CreateService
            | ItemKind::IncludeScript => continue,
            // These only read a variable.
            ItemKind::IfWhile | ItemKind::ElseIf | ItemKind::CompilerVariableIf => continue,
            _ => {}
        }
        let action = text.get(item.name().as_range()).unwrap_or_default();
        let index = index as u32;
        for p in doc.props_of(index) {
            if !defines_variable(p.key_bytes(text)) {
                continue;
            }
            let name = trim(p.value_bytes(text));
            if !name.is_empty() && !name.contains(&b'%') {
                out.push(Variable {
                    name,
                    holds: holds(doc, text, index, action),
                    seq: seq(index, 0),
                    block: doc.block(index),
                });
            }
        }
    }
    out
}

/// What the item `index` with action `action` sets its variable to: a `Set Variable` with a
/// plain `Value=` (no reference, no `Flags` such as "append") holds a constant; `Win32 System
/// Directory` the system directory.
fn holds<'a>(doc: &Document, text: &'a [u8], index: u32, action: &[u8]) -> Holds<'a> {
    if action == SYSTEM_DIRECTORY_ACTION {
        return Holds::SystemDirectory;
    }
    if action != b"Set Variable" {
        return Holds::Unknown;
    }
    let mut value = None;
    for p in doc.props_of(index) {
        let key = p.key_bytes(text);
        if key.eq_ignore_ascii_case(b"Value") {
            if value.is_some() {
                return Holds::Unknown;
            }
            value = Some(p.value_bytes(text));
        } else if key.eq_ignore_ascii_case(b"Flags") {
            if p.value_bytes(text).iter().any(|&b| b != b'0') {
                return Holds::Unknown;
            }
        } else if !key.eq_ignore_ascii_case(b"Variable") {
            return Holds::Unknown;
        }
    }
    match value {
        Some(v) if !v.contains(&b'%') => Holds::Constant(v),
        _ => Holds::Unknown,
    }
}

fn include<'a>(doc: &Document, text: &'a [u8], index: u32) -> Include<'a> {
    Include {
        pathname: doc
            .prop(text, index, "Pathname")
            .map_or(&b""[..], |p| p.value_bytes(text)),
        head: doc
            .item(index)
            .map_or_else(TextRange::default, |i| i.head_text()),
    }
}

/// The active `Include Script` items of `doc`, without lowering the rest (for following
/// includes before a package is checked).
pub fn includes<'a>(doc: &Document, text: &'a [u8]) -> Vec<Include<'a>> {
    doc.items()
        .iter()
        .enumerate()
        .filter(|(_, i)| i.active() && i.kind() == ItemKind::IncludeScript)
        .map(|(index, _)| include(doc, text, index as u32))
        .collect()
}

/// The path an `Include Script` `Pathname` names, relative to the including file's path
/// `including` (as the package names it): the two joined with `/`, `.` dropped and `..`
/// applied (see [`normalize_path`]). `None` when the pathname cannot be followed: empty, with
/// a `%VAR%` (a compiler or run-time variable), or absolute (`C:\…`, `\server\…`, `\…`, a
/// path on the build machine).
pub fn include_target(including: &str, pathname: &[u8]) -> Option<String> {
    let pathname = String::from_utf8_lossy(trim(pathname)).into_owned();
    let bytes = pathname.as_bytes();
    let absolute = matches!(bytes.first(), Some(b'\\' | b'/'))
        || (bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':');
    if pathname.is_empty() || pathname.contains('%') || absolute {
        return None;
    }
    let dir = match including.rfind(['/', '\\']) {
        Some(cut) => &including[..=cut],
        None => "",
    };
    Some(normalize_path(&format!("{dir}{pathname}")))
}

/// A path with `/` separators, without `.` segments, repeated separators or `..` that follows
/// a named segment: the form package paths are compared in (ASCII case-insensitively).
pub fn normalize_path(path: &str) -> String {
    let absolute = path.starts_with(['/', '\\']);
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split(['/', '\\']) {
        match part {
            "" | "." => {}
            ".." if parts.last().is_some_and(|p| *p != "..") => {
                parts.pop();
            }
            _ => parts.push(part),
        }
    }
    let joined = parts.join("/");
    if absolute {
        format!("/{joined}")
    } else {
        joined
    }
}

/// `Variable`, `Variable<N>`, `Variable Name<N>`, `… Variable` (ASCII case-insensitive).
fn defines_variable(key: &[u8]) -> bool {
    const VARIABLE: &[u8] = b"variable";
    let digits = |b: &[u8]| b.iter().all(u8::is_ascii_digit);
    if key.len() >= VARIABLE.len() && key[..VARIABLE.len()].eq_ignore_ascii_case(VARIABLE) {
        let rest = &key[VARIABLE.len()..];
        return digits(rest)
            || (rest.len() >= 5 && rest[..5].eq_ignore_ascii_case(b" name") && digits(&rest[5..]));
    }
    key.len() > VARIABLE.len()
        && key[key.len() - VARIABLE.len() - 1] == b' '
        && key[key.len() - VARIABLE.len()..].eq_ignore_ascii_case(VARIABLE)
}

/// `Title English` → `English`.
fn language_of(key: &[u8]) -> Option<&[u8]> {
    let rest = key.strip_prefix(b"Title ")?;
    (!rest.is_empty() && rest.iter().all(u8::is_ascii_alphabetic)).then_some(rest)
}

fn trim(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t'))
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !matches!(b, b' ' | b'\t'))
        .map_or(start, |p| p + 1);
    &bytes[start..end]
}

/// The `New Value=` lines of `op` (an operation lowered from `doc`), in order.
pub fn value_lines<'a>(doc: &Document, text: &'a [u8], op: &Operation<'_>) -> Vec<DataLine<'a>> {
    let Some(er) = doc.edit_registry(text, op.origin.container) else {
        return Vec::new();
    };
    let Some(key) = er.keys().find(|k| k.index == op.origin.index) else {
        return Vec::new();
    };
    key.new_values(text)
        .map(|p| DataLine {
            text: p.value_bytes(text),
            range: p.value(),
            line: p.text_range(),
        })
        .collect()
}

/// The `Display Name` field key a new Create Service item of this script takes: the one its
/// existing items use (`Display Name English`), else `Display Name <Language>` when the script
/// suffixes its fields with a language (`Title English=` in `item: Global`, or any field named
/// `… English`), else `Display Name`.
pub fn display_name_key<'a>(
    doc: &Document,
    text: &'a [u8],
    services: &[ServiceInstall<'a>],
) -> Cow<'a, str> {
    let existing = services.iter().find_map(|s| {
        s.fields
            .iter()
            .find(|f| f.sets == Some(super::ServiceValue::DisplayName))
            .map(|f| String::from_utf8_lossy(f.label))
    });
    if let Some(key) = existing {
        return key;
    }
    if let Some(lang) = language(doc, text) {
        return Cow::Owned(format!("Display Name {}", String::from_utf8_lossy(lang)));
    }
    if memchr::memmem::find(text, b" English=").is_some() {
        return Cow::Borrowed("Display Name English");
    }
    Cow::Borrowed("Display Name")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variable_properties() {
        for key in [
            "Variable",
            "Variable1",
            "Variable Name12",
            "Return Variable",
            "Win32 Status Variable",
            "variable",
        ] {
            assert!(defines_variable(key.as_bytes()), "{key}");
        }
        for key in [
            "Variable Default1",
            "Variable Flags1",
            "Variable Value3",
            "Variables Added",
            "Value",
        ] {
            assert!(!defines_variable(key.as_bytes()), "{key}");
        }
    }

    #[test]
    fn include_targets_are_relative_to_the_including_file() {
        let t = |a: &str, p: &str| include_target(a, p.as_bytes());
        assert_eq!(
            t("examples/pkg/setup.wse", r"drivers\x.wse").as_deref(),
            Some("examples/pkg/drivers/x.wse")
        );
        assert_eq!(
            t("setup.wse", r".\Uninstal.wse").as_deref(),
            Some("Uninstal.wse")
        );
        assert_eq!(t("./a/b.wse", r"..\c.wse").as_deref(), Some("c.wse"));
        assert_eq!(
            t("/tmp/p/s.wse", "inc/../i.wse").as_deref(),
            Some("/tmp/p/i.wse")
        );
        assert_eq!(t("s.wse", r"..\..\i.wse").as_deref(), Some("../../i.wse"));
        for unresolved in [
            r"%_WISE_%\INCLUDE\rollback.wse",
            r"C:\Wise\include\uninstal.wse",
            r"\\pop\tools\uninstal.wse",
            r"h:\\Uninstal.ipf",
            "",
        ] {
            assert_eq!(t("s.wse", unresolved), None, "{unresolved}");
        }
        assert_eq!(normalize_path("./a//b/./c"), "a/b/c");
    }
}
