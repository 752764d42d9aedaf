//! The `detect` stage: which format a working text is in, by its content only.
//!
//! Extensions never decide: a file named explicitly on the command line is recognised by its
//! first line. Anything that is not one of the known headers is refused with a clear reason;
//! the tool never guesses (a script with junk before its header is reported, not repaired).

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

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    Script(ScriptKind),
    Reg(RegVersion),
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Script(ScriptKind::Wse) => "WiseScript",
            Format::Script(ScriptKind::Ipf) => "SMS Installer script",
            Format::Reg(RegVersion::Regedit4) => "REGEDIT4 export",
            Format::Reg(RegVersion::Regedit5) => "regedit 5 export",
        })
    }
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

/// Decides the format of a working text (see [`crate::source::SourceFile::text`]).
pub fn detect(text: &[u8], encoding: Encoding) -> Result<Format, DetectError> {
    if text.is_empty() {
        return Err(DetectError::at(0, "empty file"));
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
        "unrecognised content: expected `Document Type: WSE|IPF` or a regedit header (`REGEDIT4`, `Windows Registry Editor Version 5.00`) on the first line",
    ))
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
}
