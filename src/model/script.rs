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

use super::{Data, RegWrite};
use crate::syntax::wise::{Document, ItemKind};
use crate::text::TextRange;

/// The `Win32 System Directory` action: its variable holds the Win32 system directory.
pub const SYSTEM_DIRECTORY_ACTION: &[u8] = b"Win32 System Directory";

/// What a script says about its includes and languages. What costs a pass over the document
/// is read on demand, when a rule needs it: the variables it defines ([`variables`]) and the
/// `New Value` lines of a write ([`value_lines`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScriptFacts<'a> {
    /// Active `Include Script` items, in file order.
    pub includes: Vec<Include<'a>>,
    /// The language suffix of the `Title <Language>=` field of `item: Global` (`English` in
    /// SMS Installer 2.0 scripts), if the script uses one.
    pub language: Option<&'a [u8]>,
}

/// One definition of a variable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Variable<'a> {
    /// The name as written (blanks around it trimmed).
    pub name: &'a [u8],
    /// The action of the item that defines it (`Set Variable`, `Win32 System Directory`, …).
    pub action: &'a [u8],
    /// Where the defining item starts (its head line).
    pub at: usize,
}

/// A `New Value=` line of an active registry write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValueLine<'a> {
    pub value: &'a [u8],
    pub value_range: TextRange,
    /// `New Value=…` without indentation and terminator (what a diagnostic underlines).
    pub line: TextRange,
}

/// An active `Include Script` item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Include<'a> {
    /// The `Pathname=` value as written; empty when the item has none.
    pub pathname: &'a [u8],
    /// The `item: Include Script` line (without indentation and terminator).
    pub head: TextRange,
}

/// The Win32 system directory variable a `Win32 System Directory` item of `variables` defines
/// before `before` (a byte offset), if any: the last such definition before it.
pub fn system_directory_before<'v>(variables: &[Variable<'v>], before: usize) -> Option<&'v [u8]> {
    variables
        .iter()
        .rev()
        .find(|v| v.at < before && v.action == SYSTEM_DIRECTORY_ACTION)
        .map(|v| v.name)
}

/// The facts of `doc` (working text `text`).
pub fn facts<'a>(doc: &Document, text: &'a [u8]) -> ScriptFacts<'a> {
    let mut out = ScriptFacts::default();
    for (index, item) in doc.items().iter().enumerate() {
        if item.active() && item.kind() == ItemKind::IncludeScript {
            out.includes.push(include(doc, text, index as u32));
        }
    }
    // `item: Global` comes first.
    if let Some(global) = doc.top_level().next().filter(|&i| {
        doc.item(i)
            .is_some_and(|g| text.get(g.name().as_range()) == Some(b"Global"))
    }) {
        out.language = doc
            .props_of(global)
            .find_map(|p| language_of(p.key_bytes(text)));
    }
    out
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
        for p in doc.props_of(index as u32) {
            if !defines_variable(p.key_bytes(text)) {
                continue;
            }
            let name = trim(p.value_bytes(text));
            if !name.is_empty() && !name.contains(&b'%') {
                out.push(Variable {
                    name,
                    action,
                    at: item.head().start,
                });
            }
        }
    }
    out
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

/// The `New Value=` lines of `write` (a write lowered from `doc`), in order.
pub fn value_lines<'a>(doc: &Document, text: &'a [u8], write: &RegWrite<'_>) -> Vec<ValueLine<'a>> {
    let Some(er) = doc.edit_registry(text, write.origin.container) else {
        return Vec::new();
    };
    let Some(key) = er.keys().find(|k| k.index == write.origin.index) else {
        return Vec::new();
    };
    key.new_values(text)
        .map(|p| ValueLine {
            value: p.value_bytes(text),
            value_range: p.value(),
            line: p.text_range(),
        })
        .collect()
}

/// Whether `f` holds for a text of a write's data that holds a `%` (a string, each string of
/// a multi-string, data kept raw).
pub fn any_text_with_percent(data: &Data<'_>, mut f: impl FnMut(&[u8]) -> bool) -> bool {
    let mut check = |t: &[u8]| memchr::memchr(b'%', t).is_some() && f(t);
    match data {
        Data::Sz(s) | Data::ExpandSz(s) => check(s),
        Data::MultiSz(lines) => lines.iter().any(|l| check(l)),
        Data::Raw { bytes, .. } => check(bytes),
        Data::None | Data::Dword(_) | Data::Qword(_) | Data::Binary(_) => false,
    }
}

/// A `%NAME%` reference in a value: `range` covers both `%` signs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reference {
    pub range: std::ops::Range<usize>,
}

impl Reference {
    /// The name between the `%` signs.
    pub fn name<'v>(&self, value: &'v [u8]) -> &'v [u8] {
        value
            .get(self.range.start + 1..self.range.end - 1)
            .unwrap_or_default()
    }
}

/// The `%NAME%` references of a value, left to right, as the installer pairs the signs: `%%`
/// is an escaped `%`; a `%` opens a reference that the next `%` closes when the text between
/// is a name (letters, digits, `_`, and the parentheses of `%ProgramFiles(x86)%`); otherwise
/// the `%` stands alone and the scan goes on after it.
pub fn references(value: &[u8]) -> References<'_> {
    References { value, at: 0 }
}

/// See [`references`].
pub struct References<'v> {
    value: &'v [u8],
    at: usize,
}

impl Iterator for References<'_> {
    type Item = Reference;

    fn next(&mut self) -> Option<Reference> {
        let value = self.value;
        while let Some(p) = find_percent(value.get(self.at..)?) {
            let open = self.at + p;
            if value.get(open + 1) == Some(&b'%') {
                self.at = open + 2;
                continue;
            }
            let Some(len) = find_percent(&value[open + 1..]) else {
                self.at = value.len();
                return None;
            };
            let close = open + 1 + len;
            let name = &value[open + 1..close];
            if !name.is_empty() && name.iter().all(|&b| is_name_byte(b)) {
                self.at = close + 1;
                return Some(Reference {
                    range: open..close + 1,
                });
            }
            self.at = open + 1;
        }
        self.at = value.len();
        None
    }
}

/// The first `%` of `text`. Values are short, shorter than a `memchr` call's set-up pays for.
fn find_percent(text: &[u8]) -> Option<usize> {
    if text.len() < 64 {
        text.iter().position(|&b| b == b'%')
    } else {
        memchr::memchr(b'%', text)
    }
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'(' | b')')
}

/// Every `%` of `value` doubled: the installer then writes `value` literally.
pub fn escape_percent(value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len() + 4);
    for &b in value {
        if b == b'%' {
            out.push(b'%');
        }
        out.push(b);
    }
    out
}

/// The `Display Name` field key a new Create Service item of this script takes: the one its
/// existing items use (`Display Name English`), else `Display Name <Language>` when the script
/// suffixes its fields with a language, else `Display Name`.
pub fn display_name_key(facts: &ScriptFacts<'_>, services: &[super::CreateService<'_>]) -> String {
    if let Some(f) = services.iter().find_map(|s| s.display_name()) {
        return String::from_utf8_lossy(f.key).into_owned();
    }
    match facts.language {
        Some(lang) => format!("Display Name {}", String::from_utf8_lossy(lang)),
        None => "Display Name".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(value: &str) -> Vec<String> {
        let v = value.as_bytes();
        references(v)
            .map(|r| String::from_utf8_lossy(r.name(v)).into_owned())
            .collect()
    }

    #[test]
    fn references_pair_percent_signs_like_the_installer() {
        assert_eq!(names("%SystemRoot%\\System32\\x.dll"), ["SystemRoot"]);
        assert_eq!(names("%%SystemRoot%%\\x"), Vec::<String>::new());
        assert_eq!(names("%MAINDIR%\\%SUB%"), ["MAINDIR", "SUB"]);
        assert_eq!(names("100% %WIN%"), ["WIN"]);
        assert_eq!(names("%%1"), Vec::<String>::new());
        assert_eq!(names("\"%1\" %2"), Vec::<String>::new());
        assert_eq!(names("%ProgramFiles(x86)%\\a"), ["ProgramFiles(x86)"]);
        assert_eq!(names("%"), Vec::<String>::new());
        assert_eq!(names("%%%A%"), ["A"]);
    }

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

    #[test]
    fn escaping_doubles_every_percent() {
        assert_eq!(escape_percent(b"a%b%%c"), b"a%%b%%%%c");
    }
}
