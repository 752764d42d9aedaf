//! The `detect` stage: which format a working text is in, by its content only.
//!
//! Extensions never decide: a file named explicitly on the command line is recognised by its
//! first line (a script or an export), its root element and namespace (a WiX source), or its
//! encoding (a Windows Installer database, whose tables the source stage decoded).
//! Anything else is refused with a clear reason; the tool never guesses (a script with junk
//! before its header is reported, not repaired).

use std::fmt;

use crate::source::Encoding;

/// The WiseScript dialect named by the header line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ScriptKind {
    /// `Document Type: WSE` (Wise Installation System).
    Wse,
    /// `Document Type: IPF` (Microsoft SMS Installer).
    Ipf,
}

/// The `.reg` header version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RegVersion {
    /// `REGEDIT4`
    Regedit4,
    /// `Windows Registry Editor Version 5.00`
    Regedit5,
}

/// Which WiX schema a source's root element names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WixSchema {
    /// WiX v3: `http://schemas.microsoft.com/wix/2006/wi`.
    V3,
    /// WiX v4 and later: `http://wixtoolset.org/schemas/v4/wxs`.
    V4,
    /// An `<Include>` (`.wxi`) root without a namespace: the preprocessor pastes its elements
    /// into the including source, whose namespace they take.
    Unqualified,
}

pub const WIX_V3_NAMESPACE: &str = "http://schemas.microsoft.com/wix/2006/wi";
pub const WIX_V4_NAMESPACE: &str = "http://wixtoolset.org/schemas/v4/wxs";

impl WixSchema {
    /// The schema of a namespace name, if it is one of WiX's.
    pub fn of_namespace(uri: &[u8]) -> Option<Self> {
        match uri {
            u if u == WIX_V3_NAMESPACE.as_bytes() => Some(WixSchema::V3),
            u if u == WIX_V4_NAMESPACE.as_bytes() => Some(WixSchema::V4),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    Script(ScriptKind),
    Reg(RegVersion),
    /// A WiX source (`.wxs`) or include (`.wxi`).
    Wix(WixSchema),
    /// A Windows Installer database (`.msi`, `.msm`): its working text is the tab-separated
    /// view of its tables (see [`crate::syntax::msi`]).
    Msi,
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Script(ScriptKind::Wse) => "WiseScript",
            Format::Script(ScriptKind::Ipf) => "SMS Installer script",
            Format::Reg(RegVersion::Regedit4) => "REGEDIT4 export",
            Format::Reg(RegVersion::Regedit5) => "regedit 5 export",
            Format::Wix(WixSchema::V3) => "WiX v3 source",
            Format::Wix(WixSchema::V4) => "WiX v4 source",
            Format::Wix(WixSchema::Unqualified) => "WiX include",
            Format::Msi => "Windows Installer database",
        })
    }
}

/// A kind of file a directory walk picks up, by its extension. This table is the one place
/// that lists them: a new format is one more entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileType {
    /// The extension, without the dot; matched ASCII case-insensitively.
    pub extension: &'static str,
    /// What such a file is, for help texts.
    pub description: &'static str,
}

/// Every file type svcscrub reads. A file named on the command line is read whatever its
/// name (its content decides, see [`detect`]); a directory walk takes these, and the files of
/// these types beside a named file are read as its package's context.
pub const FILE_TYPES: &[FileType] = &[
    FileType {
        extension: "ipf",
        description: "SMS Installer script",
    },
    FileType {
        extension: "wse",
        description: "WiseScript",
    },
    FileType {
        extension: "reg",
        description: "registry export",
    },
    FileType {
        extension: "wxs",
        description: "WiX source",
    },
    FileType {
        extension: "wxi",
        description: "WiX include",
    },
    FileType {
        extension: "msi",
        description: "Windows Installer database",
    },
    FileType {
        extension: "msm",
        description: "Windows Installer merge module",
    },
];

/// Whether a directory walk takes `path`: its extension is one of [`FILE_TYPES`].
pub fn is_input_name(path: &std::path::Path) -> bool {
    path.extension().and_then(|e| e.to_str()).is_some_and(|e| {
        FILE_TYPES
            .iter()
            .any(|t| e.eq_ignore_ascii_case(t.extension))
    })
}

/// `*.ipf, *.wse, …`: the patterns of [`FILE_TYPES`], for messages.
pub fn input_patterns() -> String {
    FILE_TYPES
        .iter()
        .map(|t| format!("*.{}", t.extension))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Why a text is not an input svcscrub accepts. `offset` points at the offending byte.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct DetectError {
    pub offset: usize,
    pub message: String,
}

impl DetectError {
    fn at(offset: usize, message: impl Into<String>) -> Self {
        Self {
            offset,
            message: message.into(),
        }
    }
}

pub const WISE_HEADER_PREFIX: &[u8] = b"Document Type: ";
pub const REG4_HEADER: &[u8] = b"REGEDIT4";
pub const REG5_HEADER: &[u8] = b"Windows Registry Editor Version 5.00";

/// The first bytes of an OLE compound file (what `.msi`, `.msm` and `.mst` files are).
pub const COMPOUND_FILE_SIGNATURE: &[u8] = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1";

/// Decides the format of a working text (see [`crate::source::SourceFile::text`]).
pub fn detect(text: &[u8], encoding: Encoding) -> Result<Format, DetectError> {
    if encoding == Encoding::Database {
        // The source stage decoded a database's tables; nothing else has this encoding.
        return Ok(Format::Msi);
    }
    if text.is_empty() {
        return Err(DetectError::at(0, "empty file"));
    }
    if text.starts_with(COMPOUND_FILE_SIGNATURE) {
        // Only reached by a text that was not read from a file's bytes (a compound file is
        // decoded as a database by the source stage, or refused there).
        return Err(DetectError::at(
            0,
            "OLE compound file that was not read as a Windows Installer database",
        ));
    }
    if encoding != Encoding::Utf16Le
        && let Some(nul) = memchr::memchr(0, text)
    {
        let hint = if text.starts_with(b"W6") || text.starts_with(b"W5") {
            "binary (legacy) WiseScript; open it in the Wise editor and save it as a text .wse"
        } else if nul % 2 == 1 {
            "binary data (NUL bytes); UTF-16 text without a byte-order mark is not supported"
        } else {
            "binary data (NUL bytes); not a text script or registry export"
        };
        return Err(DetectError::at(nul, hint));
    }
    if let Some(xml) = detect_xml(text) {
        return xml;
    }
    let first_line_end = memchr::memchr2(b'\r', b'\n', text).unwrap_or(text.len());
    let first = &text[..first_line_end];

    if let Some(kind) = first.strip_prefix(WISE_HEADER_PREFIX) {
        return match trim_end_blanks(kind) {
            b"WSE" => Ok(Format::Script(ScriptKind::Wse)),
            b"IPF" => Ok(Format::Script(ScriptKind::Ipf)),
            other => Err(DetectError::at(
                WISE_HEADER_PREFIX.len(),
                format!(
                    "unknown document type `{}`: expected `WSE` or `IPF`",
                    String::from_utf8_lossy(other)
                ),
            )),
        };
    }

    let indent = first
        .iter()
        .take_while(|b| matches!(b, b' ' | b'\t'))
        .count();
    let header = &first[indent..];
    for (name, version) in [
        (REG5_HEADER, RegVersion::Regedit5),
        (REG4_HEADER, RegVersion::Regedit4),
    ] {
        if let Some(rest) = header.strip_prefix(name) {
            let rest = trim_start_blanks(rest);
            if rest.is_empty() || rest.starts_with(b";") {
                return Ok(Format::Reg(version));
            }
        }
    }
    if header.starts_with(b"WINE REGISTRY Version") {
        return Err(DetectError::at(
            indent,
            "Wine registry file (`WINE REGISTRY Version 2`), not a regedit export",
        ));
    }
    if trim_end_blanks(header) == b"REGEDIT" {
        return Err(DetectError::at(
            indent,
            "Windows 3.1 `REGEDIT` format is not supported; export with regedit 4 or 5",
        ));
    }

    // Junk before a real header is reported, never skipped: the user must look at it.
    if let Some(pos) = find_line_starting_with(text, WISE_HEADER_PREFIX) {
        return Err(DetectError::at(
            0,
            format!(
                "text before the `Document Type:` header (found at byte {pos}); the header must be the first line"
            ),
        ));
    }
    if find_line_starting_with(text, REG5_HEADER)
        .or_else(|| find_line_starting_with(text, REG4_HEADER))
        .is_some()
    {
        return Err(DetectError::at(
            0,
            "text before the registry header; `REGEDIT4` or `Windows Registry Editor Version 5.00` must be the first line",
        ));
    }
    Err(DetectError::at(
        0,
        "unrecognised content: expected `Document Type: WSE|IPF` or a regedit header (`REGEDIT4`, `Windows Registry Editor Version 5.00`) on the first line, or a WiX source",
    ))
}

/// A text whose first non-blank byte is `<` is XML: `Some` with its WiX schema, or the reason it
/// is not a WiX source. Only the prolog and the root element's start tag are read (the syntax
/// stage checks the rest); a document type declaration is refused here, before any parser
/// could expand an entity or fetch an external subset.
fn detect_xml(text: &[u8]) -> Option<Result<Format, DetectError>> {
    let mut at = skip_xml_space(text, 0);
    if text.get(at) != Some(&b'<') {
        return None;
    }
    loop {
        at = skip_xml_space(text, at);
        let rest = &text[at..];
        let skip_to = |end: &[u8]| memchr::memmem::find(rest, end).map(|p| at + p + end.len());
        if rest.starts_with(b"<?") {
            match skip_to(b"?>") {
                Some(next) => at = next,
                None => return Some(Err(DetectError::at(at, "unclosed processing instruction"))),
            }
        } else if rest.starts_with(b"<!--") {
            match skip_to(b"-->") {
                Some(next) => at = next,
                None => return Some(Err(DetectError::at(at, "unclosed comment"))),
            }
        } else if rest.starts_with(b"<!") {
            return Some(Err(DetectError::at(
                at,
                "XML with a document type declaration (`<!DOCTYPE`): DTDs and entity declarations are refused, entities are never expanded",
            )));
        } else if rest.starts_with(b"<") {
            return Some(root_schema(text, at + 1));
        } else {
            return Some(Err(DetectError::at(at, "text before the root element")));
        }
    }
}

/// The schema named by the root start tag whose name starts at `at`.
fn root_schema(text: &[u8], at: usize) -> Result<Format, DetectError> {
    let name_end = at
        + text[at..]
            .iter()
            .position(|&b| is_xml_space(b) || b == b'>' || b == b'/')
            .unwrap_or(text.len() - at);
    let qname = &text[at..name_end];
    let (prefix, local) = match memchr::memchr(b':', qname) {
        Some(colon) => (&qname[..colon], &qname[colon + 1..]),
        None => (&b""[..], qname),
    };
    let shown = String::from_utf8_lossy(qname);
    if local != b"Wix" && local != b"Include" {
        return Err(DetectError::at(
            at,
            format!(
                "XML, but not a WiX source: the root element is `<{shown}>`, expected `<Wix>` or `<Include>`"
            ),
        ));
    }
    // The namespace declaration that binds the root's prefix (or the default namespace).
    let wanted: Vec<u8> = if prefix.is_empty() {
        b"xmlns".to_vec()
    } else {
        [&b"xmlns:"[..], prefix].concat()
    };
    let mut namespace = None;
    for (name, value) in StartTagAttributes::new(text, name_end) {
        if name == wanted.as_slice() {
            namespace = Some(value);
        }
    }
    match namespace {
        Some(uri) => match WixSchema::of_namespace(uri) {
            Some(schema) => Ok(Format::Wix(schema)),
            None => Err(DetectError::at(
                at,
                format!(
                    "unknown WiX namespace `{}` on `<{shown}>`: expected `{WIX_V3_NAMESPACE}` (v3) or `{WIX_V4_NAMESPACE}` (v4 and later)",
                    String::from_utf8_lossy(uri)
                ),
            )),
        },
        None if local == b"Include" && prefix.is_empty() => Ok(Format::Wix(WixSchema::Unqualified)),
        None => Err(DetectError::at(
            at,
            format!(
                "`<{shown}>` without a WiX namespace: expected `xmlns=\"{WIX_V3_NAMESPACE}\"` (v3) or `xmlns=\"{WIX_V4_NAMESPACE}\"` (v4 and later)"
            ),
        )),
    }
}

fn is_xml_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

fn skip_xml_space(text: &[u8], at: usize) -> usize {
    at + text[at..].iter().take_while(|&&b| is_xml_space(b)).count()
}

/// The attributes of a start tag, from just after its name: `(name, value)` pairs, values
/// without their quotes and not unescaped. Stops at the tag's end or at anything that is not
/// an attribute (the syntax stage reports malformed tags).
struct StartTagAttributes<'t> {
    text: &'t [u8],
    at: usize,
}

impl<'t> StartTagAttributes<'t> {
    fn new(text: &'t [u8], at: usize) -> Self {
        Self { text, at }
    }
}

impl<'t> Iterator for StartTagAttributes<'t> {
    type Item = (&'t [u8], &'t [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        let text = self.text;
        let start = skip_xml_space(text, self.at);
        let name_len = text[start..]
            .iter()
            .position(|&b| is_xml_space(b) || matches!(b, b'=' | b'>' | b'/'))?;
        if name_len == 0 {
            return None;
        }
        let name = &text[start..start + name_len];
        let eq = skip_xml_space(text, start + name_len);
        if text.get(eq) != Some(&b'=') {
            return None;
        }
        let open = skip_xml_space(text, eq + 1);
        let quote = *text.get(open).filter(|&&q| q == b'"' || q == b'\'')?;
        let len = memchr::memchr(quote, &text[open + 1..])?;
        self.at = open + 1 + len + 1;
        Some((name, &text[open + 1..open + 1 + len]))
    }
}

fn trim_end_blanks(s: &[u8]) -> &[u8] {
    let end = s
        .iter()
        .rposition(|b| !matches!(b, b' ' | b'\t'))
        .map_or(0, |p| p + 1);
    &s[..end]
}

fn trim_start_blanks(s: &[u8]) -> &[u8] {
    let start = s
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t'))
        .unwrap_or(s.len());
    &s[start..]
}

fn find_line_starting_with(text: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find_iter(text, needle)
        .find(|&pos| pos == 0 || matches!(text[pos - 1], b'\n' | b'\r'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(text: &[u8]) -> Result<Format, DetectError> {
        detect(text, Encoding::Ansi)
    }

    #[test]
    fn recognises_headers() {
        assert_eq!(
            fmt(b"Document Type: WSE\r\n"),
            Ok(Format::Script(ScriptKind::Wse))
        );
        assert_eq!(
            fmt(b"Document Type: IPF"),
            Ok(Format::Script(ScriptKind::Ipf))
        );
        assert_eq!(fmt(b"REGEDIT4\n"), Ok(Format::Reg(RegVersion::Regedit4)));
        assert_eq!(
            fmt(b"  Windows Registry Editor Version 5.00 ;blah\n"),
            Ok(Format::Reg(RegVersion::Regedit5))
        );
    }

    #[test]
    fn refuses_with_reasons() {
        assert_eq!(fmt(b"").unwrap_err().message, "empty file");
        assert!(fmt(b"W6\x01\x00x").unwrap_err().message.contains("legacy"));
        assert!(
            fmt(b"\r\n#Hello#\r\nDocument Type: WSE\r\n")
                .unwrap_err()
                .message
                .contains("before the `Document Type:`")
        );
        assert!(
            fmt(b"WINE REGISTRY Version 2\n")
                .unwrap_err()
                .message
                .contains("Wine")
        );
        assert!(fmt(b"REGEDIT\n").unwrap_err().message.contains("3.1"));
        assert!(
            fmt(b"\r\n[HKEY_LOCAL_MACHINE\\X]\r\n")
                .unwrap_err()
                .message
                .contains("unrecognised")
        );
        assert!(
            fmt(b"Document Type: XYZ\n")
                .unwrap_err()
                .message
                .contains("XYZ")
        );
        // A header must stand alone: `REGEDIT4x` is not `REGEDIT4`.
        assert!(fmt(b"REGEDIT4x\n").is_err());
    }

    #[test]
    fn recognises_wix_by_root_and_namespace() {
        let v3 = b"<?xml version=\"1.0\"?>\r\n<!-- x -->\r\n<Wix xmlns=\"http://schemas.microsoft.com/wix/2006/wi\">\r\n</Wix>";
        assert_eq!(fmt(v3), Ok(Format::Wix(WixSchema::V3)));
        let v4 = b"<?include version.xml ?>\n<Wix xmlns:util=\"u\"\n     xmlns='http://wixtoolset.org/schemas/v4/wxs'/>";
        assert_eq!(fmt(v4), Ok(Format::Wix(WixSchema::V4)));
        let prefixed = b"<w:Include xmlns:w=\"http://wixtoolset.org/schemas/v4/wxs\"></w:Include>";
        assert_eq!(fmt(prefixed), Ok(Format::Wix(WixSchema::V4)));
        let bare = b"<Include xmlns:dins=\"x\">\n</Include>";
        assert_eq!(fmt(bare), Ok(Format::Wix(WixSchema::Unqualified)));
    }

    #[test]
    fn refuses_other_xml_with_reasons() {
        let message = |text: &[u8]| fmt(text).unwrap_err().message;
        assert!(
            message(b"<Wix xmlns=\"http://example.com/wix\"/>")
                .contains("unknown WiX namespace `http://example.com/wix`")
        );
        assert!(message(b"<Wix/>").contains("without a WiX namespace"));
        assert!(
            message(b"<Project xmlns=\"http://schemas.microsoft.com/wix/2006/wi\"/>")
                .contains("root element is `<Project>`")
        );
        let dtd = b"<?xml version=\"1.0\"?>\n<!DOCTYPE Wix [<!ENTITY a \"b\">]>\n<Wix/>";
        let refused = fmt(dtd).unwrap_err();
        assert!(
            refused.message.contains("document type declaration"),
            "{refused:?}"
        );
        assert_eq!(refused.offset, 22);
        assert!(message(b"<?xml version=\"1.0\"").contains("unclosed processing instruction"));
        assert!(message(b"<!-- never closed <Wix").contains("unclosed comment"));
    }

    #[test]
    fn a_compound_file_is_refused() {
        let cfb = [COMPOUND_FILE_SIGNATURE, &[0u8; 8][..]].concat();
        assert!(fmt(&cfb).unwrap_err().message.contains("OLE compound file"));
        assert_eq!(detect(b"", Encoding::Database), Ok(Format::Msi));
    }
}
