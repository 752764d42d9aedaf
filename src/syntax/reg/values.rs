//! Lazy decoding of the pieces the parser only delimits: escaped names and strings, hex bytes.

use std::borrow::Cow;

/// Decodes a quoted name or string's inner bytes: `\\` → `\`, `\"` → `"`. Any other `\x` is
/// kept as both bytes (regedit's own exports never write one; hand-written paths such as
/// `"C:\Windows"` mean the backslash literally). Borrows when there is nothing to decode.
pub fn unescape(inner: &[u8]) -> Cow<'_, [u8]> {
    if memchr::memchr(b'\\', inner).is_none() {
        return Cow::Borrowed(inner);
    }
    let mut out = Vec::with_capacity(inner.len());
    let mut i = 0;
    while i < inner.len() {
        let b = inner[i];
        match (b, inner.get(i + 1)) {
            (b'\\', Some(&next @ (b'\\' | b'"'))) => {
                out.push(next);
                i += 2;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    Cow::Owned(out)
}

/// The bytes of a validated hex data region ([`super::ValueData::Hex`]'s `bytes`): pairs of
/// hex digits separated by commas, blanks, `\` continuation markers (the rest of such a line is
/// ignored, as regedit does), line breaks, and skipped blank or `;` comment lines.
#[derive(Clone, Debug)]
pub struct HexBytes<'a> {
    rest: &'a [u8],
}

impl<'a> HexBytes<'a> {
    /// `region` is the text of a `bytes` range.
    pub fn new(region: &'a [u8]) -> Self {
        Self { rest: region }
    }
}

impl Iterator for HexBytes<'_> {
    type Item = u8;

    fn next(&mut self) -> Option<u8> {
        loop {
            let (&b, tail) = self.rest.split_first()?;
            if let Some(high) = hex_value(b) {
                let (value, used) = match tail.first().copied().and_then(hex_value) {
                    Some(low) => ((high << 4) | low, 2),
                    None => (high, 1),
                };
                self.rest = &self.rest[used..];
                return Some(value);
            }
            if b == b'\\' || b == b';' {
                // Ignored to the end of the physical line.
                let skip = memchr::memchr2(b'\n', b'\r', self.rest).unwrap_or(self.rest.len());
                self.rest = &self.rest[skip..];
            } else {
                self.rest = tail;
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.rest.len()))
    }
}

/// The value of an ASCII hex digit.
pub(super) fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unescapes_only_backslash_and_quote() {
        assert!(matches!(unescape(b"plain"), Cow::Borrowed(b"plain")));
        assert_eq!(&*unescape(br#"sp\\ec\"ial"#), br#"sp\ec"ial"#);
        assert_eq!(&*unescape(br"C:\Windows\"), br"C:\Windows\");
    }

    #[test]
    fn hex_bytes_skip_markers_and_comment_lines() {
        let region = b"00,\\ ; 99\r\n  ; ff\r\n\r\n  1,a,FF";
        let bytes: Vec<u8> = HexBytes::new(region).collect();
        assert_eq!(bytes, [0x00, 0x01, 0x0a, 0xff]);
    }
}
